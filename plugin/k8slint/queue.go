package k8slint

import (
	"unsafe"

	"github.com/miekg/dns"
)

// The queue: answers are observed in batches, per shard.
//
// A query only notes its answer in its client's shard's queue, under the
// shard's lock, before the answer is written (recorder.complete). The
// query that fills the queue works it through (work): every answer in the
// order it was noted, as if each had been observed on its own when it was
// written, since each carries its own times. So a shard's clients' state
// is updated queueLen answers at a time, while the code and the state are
// in the processor's caches, instead of once per query by a query whose
// system calls (reading it, writing its answer) and the rest of the chain
// have evicted them. In CPU profiles of CoreDNS under dnsperf (64 client
// addresses, 90 seconds at 12,000 qps), k8slint's own code fell from 3.8%
// to 2.6–2.9% of CoreDNS's CPU with it; make bench's profiles since read
// 2.5–3.3% (docs/performance.md, "Observing in batches").
//
// What reads the clients' state works through the shard's queue first,
// under the same lock (clientTable.eachShard): the ticker's drain and
// storm check, a scrape's publishing of the counts, the plugin's stop.
// So nothing read is older than its last answer, and the report and the
// metrics count every answer written before they were read. What the
// queue delays is only the state itself, by at most queueLen answers of
// the shard or until the next tick (one second).
//
// Memory: queueLen answers per shard, each holding its query's name (the
// name stays alive until its answer is worked through).

// queueLen is how many answers a shard's queue holds.
const queueLen = 32

// answer is an answered query as the observers need it.
type answer struct {
	name   string
	srv    *serverState
	addr   addrKey
	ah     uint64 // addrHash(addr)
	arrive int64  // A and AAAA: when the query arrived; other types: when answered
	answer int64  // when answered
	rcode  int32  // the answer's, or what the chain returned
	dom    int16  // index of the name's cluster domain, -1: outside
	reason int8   // the upstream failure reason, -1: none
	kind   uint8  // halfA, halfAAAA; 0: another type

	id, port      uint16
	tcp, positive bool
}

// work observes the answers queued in s, in order, and empties the queue.
// s must be locked. A panic in an observation (a bug) drops the rest of
// the queue, never the lock.
func (k *K8slint) work(s *shard) {
	n := int(s.queued)
	s.queued = 0
	defer func() {
		clear(s.queue[:n]) // the names may go
		if p := recover(); p != nil {
			k.failed(p)
		}
	}()
	// The answers were noted up to queueLen answers of the shard ago, and
	// their names were allocated with their queries: ask for all their
	// lines at once rather than one by one as the observers reach them.
	prefetchLines(unsafe.Pointer(&s.queue[0]), uintptr(n)*unsafe.Sizeof(s.queue[0]))
	for i := range s.queue[:n] {
		if name := s.queue[i].name; name != "" {
			prefetchLines(unsafe.Pointer(unsafe.StringData(name)), uintptr(len(name)))
		}
	}
	for i := range s.queue[:n] {
		k.observe(s, &s.queue[i])
	}
}

// observe updates the state of a's client (s must be locked): its A/AAAA
// halves and pairs, its search walks, its tally and its pending counts; it
// counts at once what is rare (a suspected race, an eviction).
func (k *K8slint) observe(s *shard, a *answer) {
	isHalf := a.kind != 0
	var wq walkQuery
	wq.name, wq.nx, wq.positive, wq.at = a.name, a.rcode == dns.RcodeNameError, a.positive, a.arrive
	var q half
	if isHalf {
		q.h, q.arrive, q.port, q.id, q.qtype, q.tcp = hashName(trimDot(a.name)), a.arrive, a.port, a.id, a.kind, a.tcp
		wq.h = q.h
	}
	k.shapeOf(&wq.shape, a.name, int(a.dom))
	c, names, evicted := s.get(a.addr, a.ah)
	// Every observer reads the entry: ask for all of its lines at once.
	prefetchLines(unsafe.Pointer(c), unsafe.Sizeof(*c))
	pr := pairResult{mode: pairNone}
	if isHalf {
		var self int
		pr, self = c.pairs.observe(&q, k.window)
		if c.pairs.keepsAnswer(self) {
			c.pairs.answered(self, a.answer)
		}
	}
	var wr walkResult
	k.observeWalk(searcher{ws: &c.walks, names: &names.walks, top: &s.top, ns: c.ns}, &wq, &wr)
	if wr.learned {
		c.ns = wr.ns
	}
	asIs := ""
	if wr.asIs && isHalf {
		asIs = a.name
	}
	c.tally.note(&wr, &pr, int(a.reason), asIs, q.h, names)
	var out pending
	if c.pend.add(a.srv.idx, &wr, &pr, c.ns, &out) {
		k.publish(&out)
	}
	if evicted || pr.race {
		a.srv.count(evicted, &pr, c.ns)
	}
}
