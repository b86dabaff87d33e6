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
//   - On arrival, the time is noted (for A and AAAA queries) and the
//     client's address read, and its shard's lock is prefetched into
//     cache (prefetch.go).
//   - When the answer is written (before the client can see it), it is
//     noted, with the times, in the queue of the client's shard, under the
//     shard's lock. The query that fills the queue observes its answers in
//     the order they were noted, and so does anything that reads the
//     clients' state, first (queue.go). Observing an answer updates its
//     client's state: an A or AAAA query is matched
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
// clients not seen recently (CLOCK; see clients.go). The clients' entries
// hold no pointers, so the garbage collector does not scan them (the
// shards' queues of answers, 32 each, hold their names). The per-namespace counters
// are kept in the clients' entries and published when scraped (see
// counts.go); metric handles are resolved once per label set. The hot
// path does not allocate, but for one configuration: under cache's
// serve_stale verify with a timeout, each query's recorder is allocated
// (ServeDNS, mayKeepWriter).
package k8slint

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"
	_ "unsafe" // go:linkname

	"github.com/coredns/coredns/plugin"
	"github.com/miekg/dns"
	ot "github.com/opentracing/opentracing-go"
)

// K8slint is the plugin handler.
//
// The fields every query reads come first, in two cache lines: the struct
// is allocated 64-byte aligned, its size class (384 bytes) being a
// multiple of 64 (TestTheHotFieldsShareTwoCacheLines). After a server's
// system calls and the rest of the chain have evicted them, a query
// fetches these two lines, not the five the fields used to span. What
// only the observing of queued answers reads follows.
type K8slint struct {
	Next      plugin.Handler
	recorders sync.Pool
	clients   *clientTable

	domains []suffix     // cluster domains, lower case, fully qualified
	epoch   atomic.Int64 // the clock when the plugin was created (tests move it back: time passes)
	scale   uint64       // the clock's (clock.go)
	// first is the state of the first server seen by pointer (serverOf):
	// with one listener, the only one, found without walking the list.
	first atomic.Pointer[serverState]
	// traced: the server block has the trace plugin, so a query may
	// carry a span (set by setup before the server starts).
	traced   bool
	allZones bool // zones is just the root: no need to match
	// kept: a plugin after k8slint may still call the query's writer
	// after the query returned (mayKeepWriter), so a recorder is not
	// reused: each query gets one of its own (set by setup before the
	// server starts).
	kept bool

	// Read when the queued answers are observed (queue.go).
	ns     *nsTable
	window int64 // cfg.RetryWindow in nanoseconds

	cfg   Config
	zones []string

	servers   atomic.Pointer[[]*serverState]
	serversMu sync.Mutex

	reportNames map[reportName]uint64 // owned by the ticker goroutine
	rep         *reporter
	attr        *attribution // nil: attribution off

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
		window:   int64(cfg.RetryWindow),
		domains:  make([]suffix, len(cfg.ClusterDomains)),
		ns:       newNSTable(cfg.NamespacesMax),
		clients:  newClientTable(cfg.ClientsMax),
		rep:      newReporter(time.Now()),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	k.scale = tickScale()
	k.epoch.Store(clock(k.scale))
	for i, d := range cfg.ClusterDomains {
		k.domains[i] = newSuffix(d)
	}
	k.recorders.New = func() any { return &recorder{} }
	k.clients.work = k.work
	return k
}

// Name implements plugin.Handler.
func (k *K8slint) Name() string { return Name }

// now is monotonic nanoseconds since the plugin was created.
func (k *K8slint) now() int64 { return clock(k.scale) - k.epoch.Load() }

// nanotime is the runtime's monotonic clock, the one time.Since reads,
// without building a time.Time around it: one vDSO read, where time.Now
// makes two (wall and monotonic). It is on the runtime's list of symbols
// that may be linked to. The plugin's clock falls back to it (clock.go).
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64

// ServeDNS implements plugin.Handler. It passes every query on unchanged.
//
// The next plugin is called directly: plugin.NextOrFailure would also open
// a trace span when the query is traced, and wrap rec to tell a metrics
// recorder directly below the wrapper which plugin wrote the answer: rec
// is no such recorder, so the wrapper would only cost an allocation per
// query. Traced queries (and a missing next plugin) go through
// NextOrFailure all the same. Only the trace plugin puts a span in a
// query's context: without it in the server block, no query is looked up
// for one. The call is made here, not in a function of its own, so that a
// query passes through one frame of k8slint on its way down.
//
// The recorder comes from a pool and is cleared and reused once the query
// returns, unless a plugin after k8slint may call it later (kept): then
// each query has one of its own, which the garbage collector frees, so
// that a late call still reaches the query's own writer.
func (k *K8slint) ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (rcode int, err error) {
	if len(r.Question) != 1 || (!k.allZones && plugin.Zones(k.zones).Matches(r.Question[0].Name) == "") {
		return plugin.NextOrFailure(k.Name(), k.Next, ctx, w, r)
	}
	var rec *recorder
	if k.kept {
		rec = new(recorder)
	} else {
		rec = k.recorders.Get().(*recorder)
	}
	// What observing the query needs from its arrival (nothing here can
	// fail).
	q := &r.Question[0]
	rec.ResponseWriter, rec.k, rec.ctx = w, k, ctx
	rec.name, rec.qtype, rec.id = q.Name, q.Qtype, r.Id
	if rec.qtype == dns.TypeA || rec.qtype == dns.TypeAAAA {
		// Pairs need the arrival time; for the rest the answer time will do.
		rec.arrive = k.now()
	}
	rec.arrived()
	if k.Next == nil || (k.traced && ot.SpanFromContext(ctx) != nil) {
		rcode, err = plugin.NextOrFailure(k.Name(), k.Next, ctx, rec, r)
	} else {
		rcode, err = k.Next.ServeDNS(ctx, rec, r)
	}
	if rec.written && err == nil && rec.srv != nil {
		// The answer was observed: only counting is left, which cannot
		// fail, and only for names outside the cluster domains.
		if rec.dom < 0 {
			k.observeUpstream(rec, rcode, nil)
		}
	} else {
		// What the chain returned: the answer the server will write when
		// no plugin wrote one, and the upstream outcome.
		rec.safeFinish(rcode, err)
	}
	if !k.kept {
		*rec = recorder{}
		k.recorders.Put(rec)
	}
	return rcode, err
}

// survive ends an observation step that panicked: a panic there is a bug,
// but it must never cost the client its answer (nor stop the ticker).
// Each step defers it directly but complete, whose deferred function
// must also unlock the shard it holds.
func (k *K8slint) survive() {
	if p := recover(); p != nil {
		k.failed(p)
	}
}

// failed counts and logs (the first few) panics of observation.
func (k *K8slint) failed(p any) {
	if k.panics.Add(1) <= 10 {
		log.Errorf("observation failed (answer unaffected): %v", p)
	}
}

// recorder passes the answer through and observes it just before it is
// written, so that state is updated before the client can react to it.
// Its fields are ordered to fill 128 bytes, two cache lines (the size
// class is 128, so the pool's recorders are 64-byte aligned): a query
// writes them on arrival and reads them when answered.
type recorder struct {
	dns.ResponseWriter
	k   *K8slint
	ctx context.Context

	name   string
	arrive int64 // 0: not an A or AAAA query

	// The client (remote) and the hash of its address.
	addr addrKey
	ah   uint64

	err error // what the chain returned, when it wrote no answer

	// Set when the answer is observed.
	srv   *serverState
	rcode int32 // the answer's, or what the chain returned
	dom   int16 // index of the name's cluster domain, -1: outside

	qtype    uint16
	id       uint16
	port     uint16 // the client's
	written  bool
	tcp      bool // the client's transport
	remoteOK bool // addr, port and tcp were read
	positive bool // set with rcode: an answer with records
}

// WriteMsg implements dns.ResponseWriter.
func (rec *recorder) WriteMsg(m *dns.Msg) error {
	if !rec.written && m != nil {
		rec.written = true
		rec.rcode = int32(m.Rcode)
		rec.positive = m.Rcode == dns.RcodeSuccess && len(m.Answer) > 0
		rec.complete()
	}
	return rec.ResponseWriter.WriteMsg(m)
}

// Write implements dns.ResponseWriter for plugins that write packed
// answers.
func (rec *recorder) Write(b []byte) (int, error) {
	if !rec.written && len(b) >= 12 {
		rec.written = true
		rec.rcode = int32(b[3] & 0x0f)
		rec.positive = rec.rcode == dns.RcodeSuccess && (b[6] != 0 || b[7] != 0)
		rec.complete()
	}
	return rec.ResponseWriter.Write(b)
}

// arrived reads the client's address when the query arrives, and has
// its shard and index slot fetched into cache while the chain works out
// the answer (prefetch.go). The address comes from the server's writer,
// and a panic in it must not cost the query its answer.
func (rec *recorder) arrived() {
	defer rec.k.survive()
	if rec.addr, rec.port, rec.tcp, rec.remoteOK = remote(rec.ResponseWriter); rec.remoteOK {
		rec.ah = addrHash(rec.addr)
		rec.k.clients.prefetch(rec.ah)
	}
}

// safeFinish observes what the chain returned when ServeDNS has more to do
// than count (no answer was written, the chain returned an error, or
// complete did not get as far as the server's state): the answer the
// server will write, and the upstream outcome.
func (rec *recorder) safeFinish(rcode int, err error) {
	defer rec.k.survive()
	if !rec.written {
		rec.rcode, rec.positive, rec.err = int32(rcode), false, err
		rec.complete()
	}
	rec.k.observeUpstream(rec, rcode, err)
}

// remote returns the client's address, port and transport.
func remote(w dns.ResponseWriter) (a addrKey, port uint16, tcp, ok bool) {
	var ip net.IP
	switch ra := w.RemoteAddr().(type) {
	case *net.UDPAddr:
		ip, port = ra.IP, uint16(ra.Port)
	case *net.TCPAddr:
		ip, port, tcp = ra.IP, uint16(ra.Port), true
	default:
		return a, 0, false, false
	}
	switch len(ip) {
	case net.IPv4len:
		a = addrKey{10: 0xff, 11: 0xff}
		copy(a[12:], ip)
	case net.IPv6len:
		a = addrKey(ip)
	default:
		return a, 0, false, false
	}
	return a, port, tcp, true
}

// complete notes the final answer in its client's shard's queue, under
// the shard's lock, before the answer is written (queue.go): what observing
// it needs that only the query has (its server, the answer time, the
// upstream failure reason), and the name's cluster domain, which ServeDNS
// reads after the chain returns. An A or AAAA query read the clock on
// arrival too; the pairs need both times.
//
// It survives a panic in it as survive does. Under the shard's lock only
// the queue entry is filled (which cannot panic) and the queue worked
// through, which recovers from its own panics: the lock is always
// released.
func (rec *recorder) complete() {
	defer rec.k.survive()
	k := rec.k
	rec.srv = k.serverOf(rec.ctx)
	rec.dom = int16(k.clusterDomain(rec.name))
	if !rec.remoteOK {
		return
	}
	at := k.now()
	var kind uint8
	switch rec.qtype {
	case dns.TypeA:
		kind = halfA
	case dns.TypeAAAA:
		kind = halfAAAA
	default:
		rec.arrive = at
	}
	reason := int8(-1)
	if rec.dom < 0 {
		reason = int8(failureReason(int(rec.rcode), rec.err))
	}
	s := k.clients.shardFor(rec.ah)
	s.mu.Lock()
	// Filled in place, field by field: a composite literal is built aside
	// and copied.
	a := &s.queue[s.queued]
	a.name, a.srv, a.addr, a.ah, a.arrive, a.answer = rec.name, rec.srv, rec.addr, rec.ah, rec.arrive, at
	a.rcode, a.dom, a.reason, a.kind, a.id, a.port, a.tcp, a.positive = rec.rcode, rec.dom, reason, kind, rec.id, rec.port, rec.tcp, rec.positive
	if s.queued++; int(s.queued) == len(s.queue) {
		k.work(s)
	}
	s.mu.Unlock()
}
