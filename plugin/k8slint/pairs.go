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

// nHalves is how many recent A/AAAA queries are kept per client.
const nHalves = 6

// pairs is a client's recent A and AAAA queries.
type pairs struct {
	halves [nHalves]half
}

// observe records the answered A or AAAA query q, judges whether it
// betrays a lost packet (a suspected race drop), and pairs it with an
// instance of its twin. window is the retry window in nanoseconds.
func (p *pairs) observe(q half, window int64) pairResult {
	res := pairResult{mode: pairNone}
	var lost *half // the lone half whose packet was lost
	self := p.find(q, window)
	if self != nil {
		// Re-sent a resolver timeout after its answer, its twin never
		// having come: glibc re-sending the answered half of a pair whose
		// other half was lost.
		if self.open > 0 && !self.done && q.arrive-self.answer > pairGap {
			lost = self
		}
	} else {
		lost = p.lostTwin(q, window)
	}
	if lost != nil {
		res.race, res.delay = true, q.arrive-lost.arrive
		lost.done = true
	}
	if self != nil {
		self.port, self.arrive, self.answer = q.port, q.arrive, q.answer
		self.open = satAdd(self.open, 1)
	} else {
		q.open = 1
		self = p.store(q)
	}
	res.mode = p.pair(self, window)
	return res
}

// recent reports whether e arrived at most window before t.
func (e *half) recent(t, window int64) bool { return e.arrive <= t && t-e.arrive <= window }

// find returns the earlier instance of q itself, if it was asked within
// the window: same name, type, ID and transport. glibc's single-request
// modes re-send from a new port, so the port does not matter.
func (p *pairs) find(q half, window int64) *half {
	for i := range p.halves {
		e := &p.halves[i]
		if e.h == q.h && e.qtype == q.qtype && e.id == q.id && e.tcp == q.tcp && e.recent(q.arrive, window) {
			return e
		}
	}
	return nil
}

// lostTwin returns the answered, unpaired twin of q when q itself comes
// only a resolver timeout after that answer, from the same socket: musl
// re-sending what is unanswered, the first instance having been lost.
func (p *pairs) lostTwin(q half, window int64) *half {
	for i := range p.halves {
		e := &p.halves[i]
		if e.h == q.h && e.qtype == twinOf(q.qtype) && e.open > 0 && !e.done && e.port == q.port && e.tcp == q.tcp &&
			e.recent(q.arrive, window) && q.arrive-e.answer > pairGap {
			return e
		}
	}
	return nil
}

// pair matches self with an instance of its twin in flight at the same
// time or asked just after the other's answer, and returns how the pair
// was sent (pairNone if no twin waits). Each pair takes one waiting
// instance of each: A, A again, AAAA, AAAA again are two pairs.
func (p *pairs) pair(self *half, window int64) int {
	for i := range p.halves {
		e := &p.halves[i]
		if e.h != self.h || e.qtype != twinOf(self.qtype) || e.open == 0 || self.arrive-e.arrive > window || e.arrive-self.arrive > window {
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
		mode := pairNone
		switch {
		case self.tcp && e.tcp:
			mode = modeTCP
		case self.tcp != e.tcp:
			continue // a UDP answer truncated and retried over TCP
		case e.port == self.port && together:
			mode = pairParallel
		case e.port == self.port:
			mode = modeSameSocket
		case !together:
			mode = modeNewSocket
		default:
			// In parallel from two sockets (Go's resolver): no shared
			// conntrack entry to race on, counted in neither metric.
		}
		e.open--
		self.open--
		e.done, self.done = true, true
		return mode
	}
	return pairNone
}

func twinOf(qtype uint8) uint8 {
	if qtype == halfAAAA {
		return halfA
	}
	return halfAAAA
}

// store keeps q in a free slot or in place of the oldest, and returns the
// slot.
func (p *pairs) store(q half) *half {
	slot := &p.halves[0]
	for i := range p.halves {
		e := &p.halves[i]
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
