package k8slint

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Search-path storms: a namespace whose wasted NXDOMAIN answers exceed the
// storm rate over a storm interval. The rate comes from the namespace's
// wasted counter; the names a storm's log line shows come from a small
// sketch per shard of the base names wasted most.

// topK is the number of base names each shard's sketch keeps.
const topK = 16

// nameSketch is a space-saving sketch of the base names with the most
// wasted NXDOMAIN answers, per namespace, since the ticker last drained
// it. It lives in a shard and is guarded by the shard's lock. A wasted
// answer for a name already kept reads only the hashes and the counts.
type nameSketch struct {
	h     [topK]uint64 // hashName of the base name; 0: free
	count [topK]uint32
	ns    [topK]uint16
	base  [topK]string // written only when a name takes a slot
}

// note counts n wasted answers for base (whose hash is h) in namespace ns.
func (t *nameSketch) note(ns uint16, h uint64, base string, n uint32) {
	for i := range t.h {
		if t.h[i] == h && t.ns[i] == ns {
			t.count[i] += n
			return
		}
	}
	// A new name takes the place of the least counted, and its count:
	// a free slot counts 0.
	minAt := 0
	for i := range t.count {
		if t.count[i] < t.count[minAt] {
			minAt = i
		}
	}
	t.h[minAt], t.ns[minAt], t.base[minAt] = h, ns, base
	t.count[minAt] += n
}

// drain passes every kept name to f and empties the sketch.
func (t *nameSketch) drain(f func(ns uint16, h uint64, base string, count uint32)) {
	for i := range t.h {
		if t.h[i] != 0 {
			f(t.ns[i], t.h[i], t.base[i], t.count[i])
		}
	}
	*t = nameSketch{}
}

// judgeStorms compares each namespace's wasted-NXDOMAIN rate over the
// last interval with the threshold. One log line when a storm starts, at
// most one per interval while it lasts, one when it ends.
func (k *K8slint) judgeStorms(elapsed time.Duration) {
	k.publishCounts() // the wasted counters are read
	top := k.drainTop()
	if k.cfg.ReportInterval > 0 {
		k.noteNames(top)
	}
	for _, s := range k.serverList() {
		for i := range s.ns {
			h := s.ns[i].Load()
			if h == nil {
				continue
			}
			cur := counterValue(h.wasted)
			rate := (cur - h.lastWasted) / elapsed.Seconds()
			h.lastWasted = cur
			name := k.ns.name(h.ns)
			switch {
			case rate >= k.cfg.StormRate && !h.storming:
				h.storming = true
				h.stormActive.Set(1)
				h.storms.Inc()
				log.Warningf("search-path storm in namespace %q on %s: %.1f wasted NXDOMAIN/s over %s (threshold %g/s); top names: %s",
					name, s.name, rate, elapsed.Round(time.Second), k.cfg.StormRate, topNames(top[h.ns], 3))
			case rate >= k.cfg.StormRate:
				log.Warningf("search-path storm in namespace %q on %s continues: %.1f wasted NXDOMAIN/s; top names: %s",
					name, s.name, rate, topNames(top[h.ns], 3))
			case h.storming:
				h.storming = false
				h.stormActive.Set(0)
				log.Infof("search-path storm in namespace %q on %s ended: %.1f wasted NXDOMAIN/s", name, s.name, rate)
			}
		}
	}
}

// counterValue reads a counter (for the ticker; the hot path only adds).
func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if c.Write(&m) != nil {
		return 0
	}
	return m.GetCounter().GetValue()
}

type nameCount struct {
	base  string
	count uint32
}

// drainTop merges and resets the shards' sketches, by namespace.
func (k *K8slint) drainTop() map[uint16][]nameCount {
	type key struct {
		ns uint16
		h  uint64
	}
	sum := map[key]*nameCount{}
	k.clients.eachShard(func(s *shard) {
		for e := range s.ents {
			searcher{ws: &s.ents[e].walks, names: &s.names[e].walks, top: &s.top}.noteAll()
		}
		s.top.drain(func(ns uint16, h uint64, base string, count uint32) {
			if c, ok := sum[key{ns, h}]; ok {
				c.count += count
			} else {
				sum[key{ns, h}] = &nameCount{base: strings.ToLower(base), count: count}
			}
		})
	})
	out := map[uint16][]nameCount{}
	for kk, c := range sum {
		out[kk.ns] = append(out[kk.ns], *c)
	}
	for ns := range out {
		l := out[ns]
		sort.Slice(l, func(i, j int) bool {
			if l[i].count != l[j].count {
				return l[i].count > l[j].count
			}
			return l[i].base < l[j].base
		})
	}
	return out
}

func topNames(l []nameCount, n int) string {
	if len(l) == 0 {
		return "(none sampled)"
	}
	var parts []string
	for i := 0; i < len(l) && i < n; i++ {
		parts = append(parts, fmt.Sprintf("%s (%d)", l[i].base, l[i].count))
	}
	return strings.Join(parts, ", ")
}
