// Package k8slint is a CoreDNS plugin that watches every client query and
// its final answer and tells an operator how much DNS their pods waste and
// why: search-path expansions and the NXDOMAIN answers they cost, storms of
// them per namespace, how clients send their A/AAAA pairs (and the lost
// packets of the conntrack race), and failures of the upstream resolvers.
//
// It observes only: answers are never changed. It sits immediately before
// cache in the chain (see Directives), so it sees every client query,
// cache hits included, and the final response code.
//
// The algorithm, per query (see README.md for the definitions and limits):
//   - On arrival, only the client address and port are noted, and for A and
//     AAAA queries the time.
//   - When the answer is written (before the client can see it), the
//     client's state is updated under one lock. An A or AAAA query is matched
//     with its twin: two halves in flight at the same time from one port
//     were sent in parallel from one socket; a twin asked just after the
//     other's answer was sent one after the other. A lone, answered half
//     re-sent with its ID from the same address (or followed by its missing
//     twin from the same port) more than 90 ms after its answer, within
//     retry_window, is a suspected drop. Then the query is matched against the client's recent
//     search walks: the first candidate <base>.<ns>.svc.<domain> of a base
//     name with a dot opens a walk; later candidates of the same base
//     (svc.<domain>, <domain>, node domains, or the bare name) confirm it,
//     and every candidate of a confirmed walk counts as a search expansion,
//     and as wasted when it was answered NXDOMAIN.
//   - After the chain returns, answers for names outside the cluster domains
//     are counted for the upstream failure ratio.
//
// State is kept per client address in a sharded table (one lock per shard,
// never one for all queries) of at most clients_max entries, evicting
// clients not seen recently (CLOCK). Metric handles are resolved once per label set; the
// hot path only adds atomically and does not allocate.
package k8slint

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/metrics"
	"github.com/miekg/dns"
)

// K8slint is the plugin handler.
type K8slint struct {
	Next plugin.Handler

	cfg      Config
	zones    []string
	allZones bool     // zones is just the root: no need to match
	domains  []string // cluster domains, lower case, fully qualified
	ns       *nsTable
	clients  *clientTable
	epoch    time.Time

	servers   atomic.Pointer[[]*serverState]
	serversMu sync.Mutex

	recorders sync.Pool

	reportNames map[reportName]uint64 // owned by the ticker goroutine

	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
	panics   atomic.Uint64
}

// New returns a handler for cfg.
func New(cfg Config) *K8slint {
	k := &K8slint{
		cfg:      cfg,
		zones:    cfg.Zones,
		allZones: len(cfg.Zones) == 1 && cfg.Zones[0] == ".",
		domains:  cfg.ClusterDomains,
		ns:       newNSTable(cfg.NamespacesMax),
		clients:  newClientTable(cfg.ClientsMax),
		epoch:    time.Now(),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	k.recorders.New = func() any { return &recorder{} }
	return k
}

// Name implements plugin.Handler.
func (k *K8slint) Name() string { return Name }

// now is monotonic nanoseconds since the plugin was created.
func (k *K8slint) now() int64 { return int64(time.Since(k.epoch)) }

// ServeDNS implements plugin.Handler. It passes every query on unchanged.
func (k *K8slint) ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	if len(r.Question) != 1 || (!k.allZones && plugin.Zones(k.zones).Matches(r.Question[0].Name) == "") {
		return plugin.NextOrFailure(k.Name(), k.Next, ctx, w, r)
	}
	rec := k.recorders.Get().(*recorder)
	rec.safeStart(k, k.server(metrics.WithServer(ctx)), w, r)
	rcode, err := plugin.NextOrFailure(k.Name(), k.Next, ctx, rec, r)
	if !rec.written {
		// The server writes the error answer after we return.
		rec.rcode, rec.positive = rcode, false
		rec.safeComplete()
	}
	rec.safeUpstream(rcode, err)
	rec.ResponseWriter, rec.srv, rec.k = nil, nil, nil
	k.recorders.Put(rec)
	return rcode, err
}

// survive ends an observation step that panicked: a panic there is a bug,
// but it must never cost the client its answer. It is deferred directly by
// each step (a closure would allocate per query).
func (k *K8slint) survive() {
	if p := recover(); p != nil {
		if k.panics.Add(1) <= 10 {
			log.Errorf("observation failed (answer unaffected): %v", p)
		}
	}
}

func (rec *recorder) safeStart(k *K8slint, srv *serverState, w dns.ResponseWriter, r *dns.Msg) {
	rec.ResponseWriter, rec.k, rec.srv = w, k, srv
	rec.addr, rec.dom = netip.Addr{}, -1
	rec.written = false
	defer k.survive()
	rec.start(r)
}

func (rec *recorder) safeComplete() {
	defer rec.k.survive()
	rec.complete()
}

func (rec *recorder) safeUpstream(rcode int, err error) {
	defer rec.k.survive()
	rec.k.observeUpstream(rec, rcode, err)
}

// recorder passes the answer through and observes it just before it is
// written, so that state is updated before the client can react to it.
type recorder struct {
	dns.ResponseWriter
	k   *K8slint
	srv *serverState

	name     string
	qtype    uint16
	id       uint16
	dom      int        // index of the name's cluster domain, -1: outside
	addr     netip.Addr // invalid: nothing to observe
	ah       uint64     // addrHash(addr)
	port     uint16
	tcp      bool
	arrive   int64
	written  bool
	rcode    int
	positive bool
}

func (rec *recorder) start(r *dns.Msg) {
	q := r.Question[0]
	rec.name, rec.qtype, rec.id = q.Name, q.Qtype, r.Id
	rec.dom = rec.k.clusterDomain(q.Name)
	rec.port, rec.tcp = 0, false
	rec.rcode, rec.positive = 0, false
	var addr netip.Addr
	switch a := rec.ResponseWriter.RemoteAddr().(type) {
	case *net.UDPAddr:
		addr, _ = netip.AddrFromSlice(a.IP)
		rec.port = uint16(a.Port)
	case *net.TCPAddr:
		addr, _ = netip.AddrFromSlice(a.IP)
		rec.port, rec.tcp = uint16(a.Port), true
	}
	if !addr.IsValid() {
		return
	}
	rec.addr = addr.Unmap()
	rec.ah = addrHash(rec.addr)
	rec.arrive = 0
	if rec.qtype == dns.TypeA || rec.qtype == dns.TypeAAAA {
		// Pairs need the arrival time; for the rest the answer time will do.
		rec.arrive = rec.k.now()
	}
}

// complete observes the final answer: one clock read and one shard lock
// for everything the client's state says about it.
func (rec *recorder) complete() {
	if !rec.addr.IsValid() {
		return
	}
	k := rec.k
	now := k.now()
	if rec.arrive == 0 {
		rec.arrive = now
	}
	isHalf := rec.qtype == dns.TypeA || rec.qtype == dns.TypeAAAA
	var q half
	if isHalf {
		q = half{h: hashName(rec.name), qtype: halfA, port: rec.port, id: rec.id, tcp: rec.tcp, arrive: rec.arrive, answer: now}
		if rec.qtype == dns.TypeAAAA {
			q.qtype = halfAAAA
		}
	}
	pr := pairResult{mode: pairNone}
	s := k.clients.shardFor(rec.ah)
	s.mu.Lock()
	c, evicted := s.get(rec.addr, rec.ah)
	if isHalf {
		pr = c.pairs.observe(q, int64(k.cfg.RetryWindow))
	}
	wr := k.observeWalk(&c.walks, rec.name, rec.dom, rec.rcode == dns.RcodeNameError, rec.positive, rec.arrive)
	if wr.learned {
		c.ns = wr.ns
	}
	c.offense.note(wr, pr.race)
	if wr.wasted > 0 {
		s.top.note(wr.ns, wr.h, wr.base, wr.wasted)
	}
	ns := c.ns
	s.mu.Unlock()
	rec.srv.count(evicted, wr, pr, ns)
}

// WriteMsg implements dns.ResponseWriter.
func (rec *recorder) WriteMsg(m *dns.Msg) error {
	if !rec.written && m != nil {
		rec.written = true
		rec.rcode = m.Rcode
		rec.positive = m.Rcode == dns.RcodeSuccess && len(m.Answer) > 0
		rec.safeComplete()
	}
	return rec.ResponseWriter.WriteMsg(m)
}

// Write implements dns.ResponseWriter for plugins that write packed
// answers.
func (rec *recorder) Write(b []byte) (int, error) {
	if !rec.written && len(b) >= 12 {
		rec.written = true
		rec.rcode = int(b[3] & 0x0f)
		rec.positive = rec.rcode == dns.RcodeSuccess && (b[6] != 0 || b[7] != 0)
		rec.safeComplete()
	}
	return rec.ResponseWriter.Write(b)
}
