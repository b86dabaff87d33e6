package k8slint

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"
)

// The worst-offenders report: every report interval, the clients that
// wasted the most NXDOMAIN answers in search walks (or lost the most
// queries to suspected races) since the last report, and the base names
// wasted most, as a few log lines. Client addresses appear here, in logs,
// never as metric labels.

// offense is what a client did in the current report window. It lives in
// the client's entry, guarded by its shard's lock.
type offense struct {
	races              uint16
	expansions, wasted uint32
	lastBase           uint64 // hash of the base name of the last wasted walk (in clientNames)
}

// note adds one query's search expansions and suspected race drop.
func (o *offense) note(wr *walkResult, race bool, names *clientNames) {
	if wr.expansions > 0 {
		o.expansions += wr.expansions
		if wr.wasted > 0 {
			o.wasted += wr.wasted
			if o.lastBase != wr.h {
				o.lastBase, names.lastBase = wr.h, names.walks[wr.walk][:wr.baseLen]
			}
		}
	}
	if race && o.races < ^uint16(0) {
		o.races++
	}
}

// offender is one client's share of a report window, as reported.
type offender struct {
	addr               netip.Addr
	ns                 uint16
	wasted, expansions uint32
	races              uint16
	base               string
}

// reportNamesMax bounds the base names the ticker accumulates between two
// reports (the smallest is dropped to make room).
const reportNamesMax = 256

// noteNames adds the top names drained from the shards for the storm
// check to the report's tally. Owned by the ticker goroutine.
func (k *K8slint) noteNames(top map[uint16][]nameCount) {
	if k.reportNames == nil {
		k.reportNames = map[reportName]uint64{}
	}
	for ns, l := range top {
		for _, nc := range l {
			key := reportName{ns, nc.base}
			if _, ok := k.reportNames[key]; !ok && len(k.reportNames) >= reportNamesMax {
				var minKey reportName
				minCount := ^uint64(0)
				for kk, c := range k.reportNames {
					if c < minCount || (c == minCount && (kk.base > minKey.base)) {
						minKey, minCount = kk, c
					}
				}
				if minCount > uint64(nc.count) {
					continue
				}
				delete(k.reportNames, minKey)
			}
			k.reportNames[key] += uint64(nc.count)
		}
	}
}

type reportName struct {
	ns   uint16
	base string
}

// collectOffenders reads and resets every client's counters and returns
// the top n by wasted answers (then races), with the number of clients that
// wasted any and the total they wasted.
func (k *K8slint) collectOffenders(n int) (top []offender, clients int, wasted uint64) {
	for i := range k.clients.shards {
		s := &k.clients.shards[i]
		s.mu.Lock()
		for j := range s.ents {
			c := &s.ents[j]
			f := &c.offense
			if f.wasted == 0 && f.races == 0 {
				continue
			}
			o := offender{addr: c.addr.addr(), ns: c.ns, wasted: f.wasted, expansions: f.expansions, races: f.races, base: s.names[j].lastBase}
			*f = offense{}
			s.names[j].lastBase = ""
			if o.wasted > 0 {
				clients++
				wasted += uint64(o.wasted)
			}
			top = insertOffender(top, o, n)
		}
		s.mu.Unlock()
	}
	return top, clients, wasted
}

func worse(a, b offender) bool {
	if a.wasted != b.wasted {
		return a.wasted > b.wasted
	}
	if a.races != b.races {
		return a.races > b.races
	}
	return a.addr.Less(b.addr)
}

// insertOffender keeps top sorted, at most n long.
func insertOffender(top []offender, o offender, n int) []offender {
	i := sort.Search(len(top), func(i int) bool { return worse(o, top[i]) })
	if i >= n {
		return top
	}
	if len(top) < n {
		top = append(top, offender{})
	}
	copy(top[i+1:], top[i:])
	top[i] = o
	return top
}

// report logs the worst offenders of the last window, if there were any.
func (k *K8slint) report(window time.Duration) {
	top, clients, wasted := k.collectOffenders(k.cfg.ReportTop)
	names := k.reportNames
	k.reportNames = nil
	if len(top) == 0 {
		return
	}
	var servers []string
	for _, s := range k.serverList() {
		servers = append(servers, s.name)
	}
	log.Infof("report on %s for the last %s: %d clients wasted %d NXDOMAIN answers in search walks; worst offenders follow",
		strings.Join(servers, " "), window.Round(time.Second), clients, wasted)
	for i, o := range top {
		line := fmt.Sprintf("report %d/%d: client %s (namespace %s): %d wasted NXDOMAIN of %d search expansions",
			i+1, len(top), o.addr, k.ns.name(o.ns), o.wasted, o.expansions)
		if o.base != "" {
			line += ", last wasted on " + strings.ToLower(o.base)
		}
		if o.races > 0 {
			line += fmt.Sprintf(", %d suspected race drops", o.races)
		}
		log.Info(line)
	}
	if len(names) > 0 {
		type nc struct {
			k reportName
			c uint64
		}
		var l []nc
		for kk, c := range names {
			l = append(l, nc{kk, c})
		}
		sort.Slice(l, func(i, j int) bool {
			if l[i].c != l[j].c {
				return l[i].c > l[j].c
			}
			return l[i].k.base < l[j].k.base
		})
		var parts []string
		for i := 0; i < len(l) && i < k.cfg.ReportTop; i++ {
			parts = append(parts, fmt.Sprintf("%s in %s (%d)", l[i].k.base, k.ns.name(l[i].k.ns), l[i].c))
		}
		log.Infof("report: names wasted most (sampled): %s", strings.Join(parts, ", "))
	}
}
