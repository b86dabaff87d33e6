package k8slint

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/coredns/coredns/core/dnsserver"
	"github.com/prometheus/client_golang/prometheus"
)

// serverState holds, for one value of the server label, the metric handles
// the counts are published to (counts.go) and those the hot path
// increments for rare events. Handles are looked up once (WithLabelValues
// takes a lock and hashes labels) and then used with atomic adds only.
type serverState struct {
	name string
	idx  uint32 // index + 1 in K8slint.servers
	k    *K8slint
	// key is the server the state was created for by serverOf (nil when
	// created by name): a query from it finds the state by pointer.
	key *dnsserver.Server

	mu sync.Mutex // taken only to create a namespace's handles
	ns []atomic.Pointer[nsHandles]

	raceDelay prometheus.Observer
	upstream  [numReasons]prometheus.Counter
	degraded  prometheus.Gauge
	tracked   prometheus.Gauge
	evictions prometheus.Counter

	extTotal, extFailed atomic.Uint64 // names outside the cluster domains

	// Owned by the ticker goroutine.
	lastExtTotal, lastExtFailed uint64
	isDegraded                  bool
}

// nsHandles are the per-(server, namespace) handles.
type nsHandles struct {
	ns          uint16
	expansions  prometheus.Counter
	wasted      prometheus.Counter
	parallel    prometheus.Counter
	sequential  [numModes]prometheus.Counter
	race        prometheus.Counter
	stormActive prometheus.Gauge
	storms      prometheus.Counter

	// Owned by the ticker goroutine.
	lastWasted float64 // the wasted counter at the last storm check
	storming   bool
}

func newServerState(k *K8slint, name string) *serverState {
	s := &serverState{
		name:      name,
		k:         k,
		ns:        make([]atomic.Pointer[nsHandles], k.cfg.NamespacesMax+2),
		raceDelay: raceRetryDelay.WithLabelValues(name),
		degraded:  upstreamDegraded.WithLabelValues(name),
		tracked:   trackedClients.WithLabelValues(name),
		evictions: evictionsTotal.WithLabelValues(name),
	}
	for i := range s.upstream {
		s.upstream[i] = upstreamFailures.WithLabelValues(name, reasonNames[i])
	}
	s.degraded.Set(0)
	return s
}

// handles returns the handles of namespace index i, creating them on first
// use.
func (s *serverState) handles(i uint16) *nsHandles {
	if int(i) >= len(s.ns) {
		i = nsOther
	}
	if h := s.ns[i].Load(); h != nil {
		return h
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if h := s.ns[i].Load(); h != nil {
		return h
	}
	n := s.k.ns.name(i)
	h := &nsHandles{
		ns:          i,
		expansions:  searchExpansions.WithLabelValues(s.name, n),
		wasted:      wastedNXDomain.WithLabelValues(s.name, n),
		parallel:    parallelPairs.WithLabelValues(s.name, n),
		race:        raceSuspected.WithLabelValues(s.name, n),
		stormActive: stormActive.WithLabelValues(s.name, n),
		storms:      stormsTotal.WithLabelValues(s.name, n),
	}
	for m := range h.sequential {
		h.sequential[m] = sequentialPairs.WithLabelValues(s.name, n, modeNames[m])
	}
	s.ns[i].Store(h)
	return h
}

// serverOf returns the state for the server handling a query with context
// ctx: its label is metrics.WithServer's, the server's address. The
// server is found by pointer first (a query walks the context once and
// compares no strings), the first such server without reading the list;
// a server never seen, or whose label's state was created by name only,
// is looked up by its label.
func (k *K8slint) serverOf(ctx context.Context) *serverState {
	srv, _ := ctx.Value(dnsserver.Key{}).(*dnsserver.Server)
	if srv == nil {
		return k.server("")
	}
	if s := k.first.Load(); s != nil && s.key == srv {
		return s
	}
	if p := k.servers.Load(); p != nil {
		for _, s := range *p {
			if s.key == srv {
				return s
			}
		}
	}
	return k.serverFor(srv.Addr, srv)
}

// server returns the state for a server label, creating it on first use.
func (k *K8slint) server(name string) *serverState { return k.serverFor(name, nil) }

// serverFor returns the state for a server label, creating it on first
// use for key (nil: none).
func (k *K8slint) serverFor(name string, key *dnsserver.Server) *serverState {
	if p := k.servers.Load(); p != nil {
		for _, s := range *p {
			if s.name == name {
				return s
			}
		}
	}
	k.serversMu.Lock()
	defer k.serversMu.Unlock()
	var cur []*serverState
	if p := k.servers.Load(); p != nil {
		cur = *p
		for _, s := range cur {
			if s.name == name {
				return s
			}
		}
	}
	s := newServerState(k, name)
	s.key = key
	s.idx = uint32(len(cur)) + 1
	next := append(append(make([]*serverState, 0, len(cur)+1), cur...), s)
	k.servers.Store(&next)
	if key != nil {
		k.first.CompareAndSwap(nil, s)
	}
	return s
}

func (k *K8slint) serverList() []*serverState {
	if p := k.servers.Load(); p != nil {
		return *p
	}
	return nil
}

// count adds to the metrics what an observed answer counts at once (the
// rest is kept in the client's entry, counts.go): evicted, whether its
// client took the place of another; pr, a suspected race of its A/AAAA
// pair, counted under the client's namespace ns.
func (s *serverState) count(evicted bool, pr *pairResult, ns uint16) {
	if evicted {
		s.evictions.Inc()
	}
	if pr.race {
		s.handles(ns).race.Inc()
		s.raceDelay.Observe(float64(pr.delay) / 1e9)
	}
}
