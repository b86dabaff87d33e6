package k8slint

import (
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/k8slint/k8slint/plugin/k8slint/report"
)

// The report: which workloads (or, without attribution, which client
// addresses) wasted most over a window, and how. Every client entry keeps
// a tally of its queries since the ticker last drained the table (every
// tick); the drain, off the hot path, names each client (attribution) and
// adds its tally to the window's space-saving summary (package report),
// bounded by reportCapacity entries whatever the traffic. At the end of
// each report interval the window is logged (the worst ReportTop entries)
// and kept as the last complete one; `report ADDR` serves both as JSON and
// HTML (reportserver.go). Client addresses and workloads appear in the
// report and the logs, never as metric labels.

// reportCapacity is how many entries a window's summary keeps.
const reportCapacity = 100

// tally is what a client did since the last drain. It lives in the
// client's entry, guarded by its shard's lock; the hot path only adds.
type tally struct {
	queries, expansions, wasted, races uint32
	unconfirmed                        uint32               // walkResult.unconfirmed
	pairs                              [numModes + 1]uint32 // by pair mode: the sequential modes, then pairParallel
	upstream                           [numReasons]uint32
	// baseWasted is what was wasted on the base name of the client's last
	// wasted walk (lastBase, by hash) since it became the last.
	baseWasted uint32
	lastBase   uint64
	// What the queries say of the resolver's settings, each plus one (0:
	// not seen): the most dots in a base name searched through to the bare
	// name, the longest search list such a walk went through, the fewest
	// dots in a name asked as it is.
	searchedDots, searchList, asIsDots uint8
	// The base name (hash, length) of the last walk searched through to
	// the bare name: the other of that name's A and AAAA, which comes
	// after the walk ended, was not asked as it is. Kept across drains.
	throughLen uint16
	throughH   uint64
}

// note adds one answered query: its search expansions, its A/AAAA pair,
// its upstream failure reason (-1: none) and, for an A or AAAA query
// asked as it is, its name and that name's hash, hashName(trimDot(asIs)).
func (t *tally) note(wr *walkResult, pr *pairResult, reason int, asIs string, asIsH uint64, names *clientNames) {
	t.queries++
	t.unconfirmed += wr.unconfirmed
	if wr.expansions > 0 {
		t.expansions += wr.expansions
		if wr.wasted > 0 {
			t.wasted += wr.wasted
			if t.lastBase != wr.h {
				t.lastBase, t.baseWasted, names.lastBase = wr.h, 0, names.walks[wr.walk][:wr.baseLen]
			}
			t.baseWasted += wr.wasted
		}
	}
	if wr.through {
		t.searchedDots = max(t.searchedDots, wr.baseDots+1)
		if !wr.late {
			t.searchList = max(t.searchList, wr.cands+1)
		}
		t.throughH, t.throughLen = wr.h, wr.baseLen
	}
	if asIs != "" && (len(asIs)-1 != int(t.throughLen) || asIsBaseHash(asIs, asIsH) != t.throughH) {
		most := uint8(255)
		if t.asIsDots > 0 {
			most = t.asIsDots - 1
		}
		if d := dots(asIs[:len(asIs)-1], most); d < most || t.asIsDots == 0 {
			t.asIsDots = d + 1
		}
	}
	if pr.mode >= 0 {
		t.pairs[pr.mode]++
	}
	if pr.race {
		t.races++
	}
	if reason >= 0 {
		t.upstream[reason]++
	}
}

// asIsBaseHash is hashName of asIs without its last byte, the dot of a
// name asked as it is: asIsH, when it ends with one.
func asIsBaseHash(asIs string, asIsH uint64) uint64 {
	if asIs[len(asIs)-1] == '.' {
		return asIsH
	}
	return hashName(asIs[:len(asIs)-1])
}

// drained is one client's tally, taken out of the table.
type drained struct {
	addr  netip.Addr
	ns    uint16
	tally tally
	base  string
}

// reporter holds the report's windows. Its lock is taken by the ticker
// and the report server, never by a query.
type reporter struct {
	mu        sync.Mutex
	started   time.Time
	start     time.Time       // of the current window
	cur       *report.Summary // the current window
	last      *report.Report  // the last complete window
	batch     []drained       // reused by drain
	lastDrain time.Time
}

func newReporter(now time.Time) *reporter {
	return &reporter{started: now, start: now, cur: report.NewSummary(reportCapacity)}
}

// drain takes every client's tally out of the table and adds it to the
// current window under the client's name. Clients attribution cannot name
// but whose namespace it knows get that namespace for their metrics
// (queries whose name gives none). The reporter must be locked.
func (k *K8slint) drain(now time.Time) {
	rp := k.rep
	b := rp.batch[:0]
	at, window := k.now(), k.window
	k.clients.eachShard(func(s *shard) {
		for j := range s.ents {
			c := &s.ents[j]
			// Walks nothing followed for the window are settled now, not
			// at the client's next query, which may never come.
			c.tally.unconfirmed += searcher{ws: &c.walks, names: &s.names[j].walks, top: &s.top}.expire(at, window)
			if c.tally.queries == 0 && c.tally.unconfirmed == 0 {
				continue
			}
			if c.ns == nsUnknown && k.attr != nil {
				if o := k.attr.lookup(c.addr.addr()); o != nil && o.level == report.LevelWorkload {
					c.ns = k.ns.intern(o.ns)
				}
			}
			d := drained{addr: c.addr.addr(), ns: c.ns, tally: c.tally}
			if c.tally.baseWasted > 0 {
				d.base = s.names[j].lastBase
			}
			c.tally = tally{throughLen: c.tally.throughLen, throughH: c.tally.throughH}
			b = append(b, d)
		}
	})
	for i := range b {
		d := &b[i]
		w := k.entry(d, now)
		rp.cur.Add(w)
		*d = drained{}
	}
	rp.batch = b[:0]
	rp.lastDrain = now
}

// entry is a drained tally as a report entry, named by attribution when it
// knows the address.
func (k *K8slint) entry(d *drained, now time.Time) report.Workload {
	t := &d.tally
	w := report.Workload{Level: report.LevelAddress, Address: d.addr.String(), FirstSeen: now, LastSeen: now}
	if d.ns >= 2 {
		w.Namespace = k.ns.name(d.ns)
	}
	if k.attr != nil {
		if o := k.attr.lookup(d.addr); o != nil {
			w.Level, w.Namespace, w.Kind, w.Name, w.Address = o.level, o.ns, o.kind, o.name, ""
		}
	}
	w.Queries, w.SearchExpansions, w.WastedNXDOMAIN, w.RaceSuspected = uint64(t.queries), uint64(t.expansions), uint64(t.wasted), uint64(t.races)
	w.UnconfirmedNXDOMAIN = uint64(t.unconfirmed)
	w.Pairs = report.Pairs{Parallel: uint64(t.pairs[pairParallel]), SameSocket: uint64(t.pairs[modeSameSocket]),
		NewSocket: uint64(t.pairs[modeNewSocket]), TCP: uint64(t.pairs[modeTCP])}
	u := &t.upstream
	w.UpstreamFailures = report.Upstream{Servfail: uint64(u[reasonServfail]), Refused: uint64(u[reasonRefused]), Timeout: uint64(u[reasonTimeout]),
		ConnectionRefused: uint64(u[reasonConnRefused]), NoHealthyUpstream: uint64(u[reasonNoHealthy]), Error: uint64(u[reasonError])}
	if d.base != "" {
		w.TopNames = []report.Name{{Name: strings.ToLower(d.base), WastedNXDOMAIN: uint64(t.baseWasted)}}
	}
	if t.searchedDots > 0 {
		w.Resolver.SearchedDots = report.Int(int(t.searchedDots) - 1)
	}
	if t.searchList > 0 {
		w.Resolver.SearchListLength = report.Int(int(t.searchList) - 1)
	}
	if t.asIsDots > 0 {
		w.Resolver.AsIsDots = report.Int(int(t.asIsDots) - 1)
	}
	return w
}

// snapshot returns the current window (drained now) or the last complete
// one (nil if none yet).
func (k *K8slint) snapshot(now time.Time, last bool) *report.Report {
	rp := k.rep
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if last {
		if rp.last == nil {
			return nil
		}
		return rp.last // never changed once complete
	}
	k.drain(now)
	r := rp.cur.Report()
	k.describe(&r, report.Window{Start: rp.start, End: now})
	return &r
}

// describe fills in who made r.
func (k *K8slint) describe(r *report.Report, win report.Window) {
	host, _ := os.Hostname()
	r.Generator = "k8slint " + Version
	r.Window = win
	var servers []string
	for _, s := range k.serverList() {
		servers = append(servers, s.name)
	}
	if servers == nil {
		servers = []string{}
	}
	att := report.Attribution{State: report.AttributionOff}
	if k.attr != nil {
		att = k.attr.status()
	}
	r.Replicas = []report.Replica{{Name: host, Servers: servers, Started: k.rep.started, Window: win, Attribution: att}}
}

// rotate ends the current window: it becomes the last complete one, and
// is logged.
func (k *K8slint) rotate(now time.Time) {
	k.logReport(k.endWindow(now))
}

func (k *K8slint) endWindow(now time.Time) *report.Report {
	rp := k.rep
	rp.mu.Lock()
	defer rp.mu.Unlock()
	k.drain(now)
	r := rp.cur.Report()
	k.describe(&r, report.Window{Start: rp.start, End: now, Complete: true})
	rp.last = &r
	rp.cur, rp.start = report.NewSummary(reportCapacity), now
	return &r
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

// logReport logs the worst entries of a complete window, if any wasted
// answers or lost queries to suspected races.
func (k *K8slint) logReport(r *report.Report) {
	names := k.reportNames
	k.reportNames = nil
	var top []*report.Workload
	for i := range r.Workloads {
		if w := &r.Workloads[i]; (w.WastedNXDOMAIN > 0 || w.RaceSuspected > 0) && len(top) < k.cfg.ReportTop {
			top = append(top, w)
		}
	}
	if len(top) == 0 {
		return
	}
	log.Infof("report on %s for the last %s: %d wasted NXDOMAIN answers in search walks, %d suspected race drops; worst offenders follow",
		strings.Join(r.Replicas[0].Servers, " "), r.Window.End.Sub(r.Window.Start).Round(time.Second), r.Totals.WastedNXDOMAIN, r.Totals.RaceSuspected)
	for i, w := range top {
		line := fmt.Sprintf("report %d/%d: %s", i+1, len(top), w)
		if w.Level == report.LevelAddress {
			ns := w.Namespace
			if ns == "" {
				ns = "_unknown"
			}
			line += " (namespace " + ns + ")"
		}
		line += fmt.Sprintf(": %d wasted NXDOMAIN of %d search expansions", w.WastedNXDOMAIN, w.SearchExpansions)
		if w.WastedError > 0 {
			line += fmt.Sprintf(" (up to %d more)", w.WastedError)
		}
		if w.UnconfirmedNXDOMAIN > 0 {
			line += fmt.Sprintf(" (and %d unconfirmed)", w.UnconfirmedNXDOMAIN)
		}
		if len(w.TopNames) > 0 {
			line += ", most on " + w.TopNames[0].Name
		}
		if w.RaceSuspected > 0 {
			line += fmt.Sprintf(", %d suspected race drops", w.RaceSuspected)
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
