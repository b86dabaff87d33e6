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
type half struct {
	h        uint64 // name hash; 0: free slot
	qtype    uint16
	port     uint16
	id       uint16
	tcp      bool
	answered bool
	paired   bool // matched with its twin, or already reported as raced
	resend   bool // repeats the ID of a query whose twin came: never lone
	arrive   int64
	answer   int64
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

// arriveHalf records an A or AAAA query of client c as it arrives, before
// it is answered. The shard must be locked.
func (k *K8slint) arriveHalf(c *client, h uint64, qtype, port, id uint16, tcp bool, now int64) pairResult {
	res := pairResult{mode: pairNone}
	other := uint16(dns.TypeAAAA)
	if qtype == dns.TypeAAAA {
		other = dns.TypeA
	}
	window := int64(k.cfg.RetryWindow)
	// Its twin, if it is in flight or was answered just now.
	for i := range c.halves {
		e := &c.halves[i]
		if e.h != h || e.qtype != other || e.paired || now-e.arrive > window {
			continue
		}
		if e.answered && now-e.answer > pairGap {
			continue
		}
		switch {
		case tcp && e.tcp:
			res.mode = modeTCP
		case tcp != e.tcp:
			continue // a UDP answer truncated and retried over TCP
		case e.port == port && (!e.answered || now-e.arrive < parallelGap):
			res.mode = pairParallel
		case e.port == port:
			res.mode = modeSameSocket
		case e.answered:
			res.mode = modeNewSocket
		default:
			// In parallel from two sockets (Go's resolver): no shared
			// conntrack entry to race on, counted in neither metric.
		}
		e.paired = true
		k.storeHalf(c, h, qtype, port, id, tcp, true, now)
		return res
	}
	// A retransmission of a query whose twin never came, a resolver
	// timeout after its answer: glibc re-sends the answered query with the
	// same ID, from the same socket after a parallel pair, from a new one
	// in its single-request modes; musl re-sends the unanswered (lost) twin
	// from the same socket. A re-send of a query whose twin did come is no
	// such thing: musl re-sends a query answered SERVFAIL at once and then
	// after each retry interval, with its ID.
	resend := false
	for i := range c.halves {
		e := &c.halves[i]
		if e.h != h || e.tcp != tcp || now-e.arrive > window {
			continue
		}
		if e.paired || e.resend {
			resend = resend || (e.qtype == qtype && e.id == id && e.port == port)
		}
		if e.paired || e.resend || !e.answered || now-e.answer <= pairGap {
			continue
		}
		if (e.qtype == qtype && e.id == id) || (e.port == port && e.qtype == other) {
			e.paired = true
			res.race, res.delay = true, now-e.arrive
			break
		}
	}
	k.storeHalf(c, h, qtype, port, id, tcp, false, now).resend = resend && !res.race
	return res
}

func (k *K8slint) storeHalf(c *client, h uint64, qtype, port, id uint16, tcp, paired bool, now int64) *half {
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
	*slot = half{h: h, qtype: qtype, port: port, id: id, tcp: tcp, paired: paired, arrive: now}
	return slot
}

// answerHalf marks the recorded query answered. The shard must be locked.
func answerHalf(c *client, h uint64, qtype, port, id uint16, now int64) {
	for i := range c.halves {
		e := &c.halves[i]
		if e.h == h && e.qtype == qtype && e.port == port && e.id == id && !e.answered {
			e.answered, e.answer = true, now
			return
		}
	}
}
