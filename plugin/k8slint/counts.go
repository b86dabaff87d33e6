package k8slint

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Counting off the query path. The per-namespace counters every query may
// add to (search expansions, wasted NXDOMAIN answers, A/AAAA pairs by
// mode) are not incremented when an answer is observed (queue.go): a
// client's entry keeps what its answers added since the counts were last
// published, under the shard lock the observing holds anyway, and the
// counts reach the counters
//   - when a scrape collects the counters (countedCollector observes every
//     queued answer and publishes every running instance's counts first,
//     so a scrape reads every answer written before it);
//   - when the ticker judges storms, which reads the wasted counters;
//   - when the plugin stops;
//   - and when an observed answer's counts belong to another server or
//     namespace than those its entry keeps (the kept ones are published
//     first).
//
// So counting a query's walk and pair touches no metric handle and no
// atomic shared with the other cores (an answer for a name outside the
// cluster domains still adds to the upstream ratio's atomic counts, and a
// failed one to its reason's counter, when the query returns:
// upstream.go). Rare events are counted as soon as their answer is
// observed: suspected races (with their delays) and evictions; the
// collector of their vectors too observes the queued answers first.

// pending is what answers added to the counted metrics since they were
// last published, for one server and at most one namespace each of
// expansions and pairs. It belongs to the metrics, not to a client: a
// newcomer taking an evicted client's entry keeps it.
type pending struct {
	srv                uint32 // index + 1 of the server state in K8slint.servers; 0: nothing kept
	expNS              uint16 // the namespace of expansions and wasted, when expansions > 0
	pairNS             uint16 // the namespace of pairs, when hasPairs
	expansions, wasted uint32
	pairs              [numModes + 1]uint32 // by pair mode: the sequential modes, then pairParallel
}

// hasPairs reports whether pairs are kept.
func (p *pending) hasPairs() bool { return p.pairs != [numModes + 1]uint32{} }

// add keeps an answer's counts: wr, its search expansions, under the
// walk's namespace, and pr, its pair, under the client's namespace ns, for
// the server state of index+1 srv. When the counts kept belong to another
// server or namespace, it moves them to out first and returns true: the
// caller publishes them.
func (p *pending) add(srv uint32, wr *walkResult, pr *pairResult, ns uint16, out *pending) (moved bool) {
	exp, pair := wr.expansions > 0, pr.mode != pairNone
	if !exp && !pair {
		return false
	}
	if p.srv != srv || (exp && p.expNS != wr.ns && p.expansions > 0) || (pair && p.pairNS != ns && p.hasPairs()) {
		if p.srv != 0 {
			*out, moved = *p, true
		}
		*p = pending{}
	}
	p.srv = srv
	if exp {
		p.expNS = wr.ns
		p.expansions += wr.expansions
		p.wasted += wr.wasted
	}
	if pair {
		p.pairNS = ns
		p.pairs[pr.mode]++
	}
	return moved
}

// publish adds counts taken out of an entry to the counters.
func (k *K8slint) publish(p *pending) {
	if p.srv == 0 {
		return
	}
	s := k.serverList()[p.srv-1]
	if p.expansions > 0 {
		nh := s.handles(p.expNS)
		nh.expansions.Add(float64(p.expansions))
		if p.wasted > 0 {
			nh.wasted.Add(float64(p.wasted))
		}
	}
	if p.hasPairs() {
		nh := s.handles(p.pairNS)
		if n := p.pairs[pairParallel]; n > 0 {
			nh.parallel.Add(float64(n))
		}
		for m := range numModes {
			if n := p.pairs[m]; n > 0 {
				nh.sequential[m].Add(float64(n))
			}
		}
	}
}

// publishCounts publishes every client entry's counts.
func (k *K8slint) publishCounts() {
	k.clients.eachShard(func(s *shard) {
		for j := range s.ents {
			if p := &s.ents[j].pend; p.srv != 0 {
				k.publish(p)
				*p = pending{}
			}
		}
	})
}

// running is the set of started instances, whose counts a scrape
// publishes.
var running = struct {
	sync.Mutex
	m map[*K8slint]struct{}
}{m: map[*K8slint]struct{}{}}

func (k *K8slint) startCounting() {
	running.Lock()
	defer running.Unlock()
	running.m[k] = struct{}{}
}

// stopCounting publishes the instance's counts a last time: a query
// answered after it (the server is stopping) is not counted.
func (k *K8slint) stopCounting() {
	running.Lock()
	defer running.Unlock()
	delete(running.m, k)
	k.safePublish()
}

func (k *K8slint) safePublish() {
	defer k.survive()
	k.publishCounts()
}

// countedCollector collects the counted vectors after publishing the
// counts of every running instance (its queued answers observed first).
type countedCollector []prometheus.Collector

// Describe implements prometheus.Collector.
func (c countedCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, v := range c {
		v.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (c countedCollector) Collect(ch chan<- prometheus.Metric) {
	running.Lock()
	for k := range running.m {
		k.safePublish()
	}
	running.Unlock()
	for _, v := range c {
		v.Collect(ch)
	}
}
