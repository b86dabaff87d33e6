package k8slint

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

// half is one A or AAAA query of a client (a name, type and ID), kept to
// pair it with its twin. A resolver may send the same query more than once
// (glibc and musl re-send after a timeout with the same ID, musl re-sends
// a query answered SERVFAIL at once and after each retry interval): every
// instance updates the one entry, whose times and port are the latest
// instance's. Both halves of a pair are judged when the second of them is
// answered, from their arrival and answer times: whether they were in
// flight together, or one came after the other's answer. One lock per
// query suffices that way.
type half struct {
	h      uint64 // name hash; 0: free slot
	port   uint16
	id     uint16
	tcp    bool
	open   uint8 // instances still waiting for a twin
	done   bool  // paired at least once, or reported as a suspected drop
	qtype  uint8 // halfA or halfAAAA: the entry fits 32 bytes
	arrive int64
	answer int64
}

// The query types of a half.
const (
	halfA    = 1
	halfAAAA = 2
)

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

// observeHalf records the answered A or AAAA query q of client c, judges
// whether it is the retransmission of a lone query, and pairs it with an
// instance of its twin. The shard must be locked.
func (k *K8slint) observeHalf(c *client, q half) pairResult {
	res := pairResult{mode: pairNone}
	other := uint8(halfAAAA)
	if q.qtype == halfAAAA {
		other = halfA
	}
	window := int64(k.cfg.RetryWindow)
	recent := func(e *half) bool { return e.arrive <= q.arrive && q.arrive-e.arrive <= window }
	// The same query asked before: glibc's single-request modes re-send it
	// from a new port, so the port does not matter.
	var self *half
	for i := range c.halves {
		e := &c.halves[i]
		if e.h == q.h && e.qtype == q.qtype && e.id == q.id && e.tcp == q.tcp && recent(e) {
			self = e
			break
		}
	}
	if self != nil {
		// Re-sent a resolver timeout after its answer, its twin never
		// having come: glibc re-sending the answered half of a pair whose
		// other half was lost.
		if self.open > 0 && !self.done && q.arrive-self.answer > pairGap {
			res.race, res.delay = true, q.arrive-self.arrive
			self.done = true
		}
		self.port, self.arrive, self.answer = q.port, q.arrive, q.answer
		self.open = satAdd(self.open, 1)
	} else {
		// The lost twin itself, first seen a resolver timeout after the
		// other half's answer, from the same socket: musl re-sending what
		// is unanswered.
		for i := range c.halves {
			e := &c.halves[i]
			if e.h == q.h && e.qtype == other && e.open > 0 && !e.done && e.port == q.port && e.tcp == q.tcp && recent(e) && q.arrive-e.answer > pairGap {
				res.race, res.delay = true, q.arrive-e.arrive
				e.done = true
				break
			}
		}
		q.open = 1
		self = c.storeHalf(q)
	}
	// Its twin: an instance in flight at the same time, or asked just
	// after the other's answer. Each pair takes one waiting instance of
	// each (A, A again, AAAA, AAAA again are two pairs).
	for i := range c.halves {
		e := &c.halves[i]
		if e.h != self.h || e.qtype != other || e.open == 0 || self.arrive-e.arrive > window || e.arrive-self.arrive > window {
			continue
		}
		first, second := e, self
		if self.arrive < e.arrive {
			first, second = self, e
		}
		together := second.arrive < first.answer || second.arrive-first.arrive < parallelGap
		if !together && second.arrive-first.answer > pairGap {
			continue
		}
		switch {
		case self.tcp && e.tcp:
			res.mode = modeTCP
		case self.tcp != e.tcp:
			continue // a UDP answer truncated and retried over TCP
		case e.port == self.port && together:
			res.mode = pairParallel
		case e.port == self.port:
			res.mode = modeSameSocket
		case !together:
			res.mode = modeNewSocket
		default:
			// In parallel from two sockets (Go's resolver): no shared
			// conntrack entry to race on, counted in neither metric.
		}
		e.open--
		self.open--
		e.done, self.done = true, true
		return res
	}
	return res
}

// storeHalf keeps q in a free slot or in place of the oldest, and returns
// the slot.
func (c *client) storeHalf(q half) *half {
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
	return slot
}
