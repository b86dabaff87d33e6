package k8slint

import "github.com/miekg/dns"

// A/AAAA pairs and the conntrack race. See README.md, "A/AAAA pairs" and
// "Suspected race drops", for the definitions and their limits.

// pairGap is how long after one half of a pair was answered its twin may
// arrive and still count as sent one after the other. glibc's
// single-request sends the twin as soon as the first answer is read; a
// retransmission after a lost packet comes a resolver timeout later (musl:
// timeout/attempts, at least 100 ms).
const pairGap = int64(90e6) // 90 ms

// parallelGap: a twin from the same socket arriving this soon after the
// first half was sent with it, even when a fast answer (a cache hit) was
// written in between. A resolver sending one after the other needs a round
// trip first: the answer to reach it, and its next query to come back.
const parallelGap = int64(50e3) // 50 µs

// half is one A or AAAA query of a client, kept to pair it with its twin.
// Both halves are judged when the second of them is answered, from their
// arrival and answer times: whether they were in flight together, or one
// came after the other's answer. One lock per query suffices that way.
type half struct {
	h      uint64 // name hash; 0: free slot
	qtype  uint16
	port   uint16
	id     uint16
	tcp    bool
	paired bool // matched with its twin, or already reported as raced
	arrive int64
	answer int64
}

// Pair outcomes.
const (
	pairNone     = -1
	pairParallel = numModes // after the sequential modes
)

type pairResult struct {
	mode  int // pairNone, pairParallel or a sequential mode
	race  bool
	delay int64
}

// observeHalf records the answered A or AAAA query q of client c and pairs
// it with its twin, or recognises it as a retransmission. The shard must be
// locked.
func (k *K8slint) observeHalf(c *client, q half) pairResult {
	res := pairResult{mode: pairNone}
	other := uint16(dns.TypeAAAA)
	if q.qtype == dns.TypeAAAA {
		other = dns.TypeA
	}
	window := int64(k.cfg.RetryWindow)
	// Its twin: in flight at the same time, or asked just after.
	for i := range c.halves {
		e := &c.halves[i]
		if e.h != q.h || e.qtype != other || e.paired || q.arrive-e.arrive > window || e.arrive-q.arrive > window {
			continue
		}
		first, second := e, &q
		if q.arrive < e.arrive {
			first, second = &q, e
		}
		together := second.arrive < first.answer || second.arrive-first.arrive < parallelGap
		if !together && second.arrive-first.answer > pairGap {
			continue // too late for a twin: maybe a retransmission, below
		}
		switch {
		case q.tcp && e.tcp:
			res.mode = modeTCP
		case q.tcp != e.tcp:
			continue // a UDP answer truncated and retried over TCP
		case e.port == q.port && together:
			res.mode = pairParallel
		case e.port == q.port:
			res.mode = modeSameSocket
		case !together:
			res.mode = modeNewSocket
		default:
			// In parallel from two sockets (Go's resolver): no shared
			// conntrack entry to race on, counted in neither metric.
		}
		e.paired = true
		q.paired = true
		c.storeHalf(q)
		return res
	}
	// A retransmission from the same socket of a query whose twin never
	// came: glibc re-sends the answered query with the same ID; musl
	// re-sends the unanswered (lost) twin.
	for i := range c.halves {
		e := &c.halves[i]
		if e.h != q.h || e.paired || e.port != q.port || e.tcp != q.tcp || e.answer >= q.arrive || q.arrive-e.arrive > window {
			continue
		}
		if (e.qtype == q.qtype && e.id == q.id) || (e.qtype == other && q.arrive-e.answer > pairGap) {
			e.paired = true
			res.race, res.delay = true, q.arrive-e.arrive
			break
		}
	}
	c.storeHalf(q)
	return res
}

// storeHalf keeps q in a free slot or in place of the oldest.
func (c *client) storeHalf(q half) {
	slot := &c.halves[0]
	for i := range c.halves {
		e := &c.halves[i]
		if e.h == 0 {
			slot = e
			break
		}
		if e.arrive < slot.arrive {
			slot = e
		}
	}
	*slot = q
}
