package k8slint

// A/AAAA pairs and the conntrack race. See README.md, "A/AAAA pairs" and
// "Suspected race drops", for the definitions and their limits.

import "math/bits"

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

// pairs is a client's recent A and AAAA queries (halves: a name, type and
// ID), kept to pair each with its twin. A resolver may send the same query
// more than once (glibc and musl re-send after a timeout with the same
// ID, musl re-sends a query answered SERVFAIL at once and after each retry
// interval): every instance updates the one entry, whose times and port
// are the latest instance's, and one sent more than pairGap after the last
// one's answer ends the earlier instances' wait for a twin. Both halves of
// a pair are judged when the second of them is answered, from their
// arrival and answer times: whether they were in flight together, or one
// came after the other's answer. One lock per query suffices that way.
//
// The entries are kept by field: the pass looking for a name reads only
// the hashes (one cache line), the rest is read where a name matched. A
// new entry takes the place of the one added longest ago.
type pairs struct {
	h      [nHalves]uint64 // name hash; 0: free slot
	arrive [nHalves]int64  // nanoseconds (K8slint.now)
	info   [nHalves]halfInfo
	next   uint8 // the entry a new one replaces
}

// halfInfo is the rest of an entry.
type halfInfo struct {
	answer   uint32 // microseconds after arrive, rounded up (0 until kept: keepsAnswer)
	port, id uint16
	open     uint8 // instances still waiting for a twin
	flags    uint8 // the query type (halfA, halfAAAA), flagTCP, flagDone
}

const (
	qtypeBits = 3
	flagTCP   = 4
	flagDone  = 8 // paired at least once, or reported as a suspected drop
)

// half is one answered A or AAAA query, as observed. Its answer time is
// not read until its entry turns out to keep it (keepsAnswer).
type half struct {
	h        uint64 // hashName(trimDot(name)) of the query name
	arrive   int64
	port, id uint16
	qtype    uint8 // halfA or halfAAAA
	tcp      bool
}

// kind is q's flags: its type and transport.
func (q *half) kind() uint8 {
	if q.tcp {
		return q.qtype | flagTCP
	}
	return q.qtype
}

// answerAt is when entry i was answered, to the microsecond (rounded up).
func (p *pairs) answerAt(i int) int64 { return p.arrive[i] + 1000*int64(p.info[i].answer) }

// answerDelta is answer-arrive in whole microseconds, rounded up (never
// earlier than the answer), at most about 71 minutes.
func answerDelta(arrive, answer int64) uint32 {
	d := (answer - arrive + 999) / 1000
	return uint32(min(max(d, 0), 1<<32-1))
}

// recent reports whether arrive is at most window before t.
func recent(arrive, t, window int64) bool { return arrive <= t && t-arrive <= window }

// observe records the answered A or AAAA query q, judges whether it
// betrays a lost packet (a suspected race drop), and pairs it with an
// instance of its twin. window is the retry window in nanoseconds. It
// returns q's entry, self, whose answer time the caller sets (answered)
// when keepsAnswer says a later query may read it: nothing here reads the
// answer time of q itself.
func (p *pairs) observe(q *half, window int64) (res pairResult, self int) {
	res = pairResult{mode: pairNone}
	same := p.named(q.h) // the entries for q's name
	kind := q.kind()
	if same == 0 {
		// A name not asked recently (the first half of most pairs):
		// nothing to judge or pair it with, only an entry to take.
		return res, p.add(q, kind)
	}
	self, lost := -1, -1
	// The same query asked before: glibc's single-request modes re-send it
	// from a new port, so the port does not matter.
	for m := same; m != 0; m &= m - 1 {
		i := bits.TrailingZeros32(m)
		if f := &p.info[i]; f.flags&^flagDone == kind && f.id == q.id && recent(p.arrive[i], q.arrive, window) {
			self = i
			break
		}
	}
	stale := false
	if self >= 0 {
		// Sent again more than pairGap after the last sending's answer:
		// the earlier sendings still waiting for a twin can no longer
		// have one (a twin must come while its half is in flight or
		// within pairGap of its answer).
		stale = q.arrive-p.answerAt(self) > pairGap
		// Re-sent a resolver timeout after its answer, its twin never
		// having come: glibc re-sending the answered half of a pair whose
		// other half was lost.
		if f := &p.info[self]; f.open > 0 && f.flags&flagDone == 0 && stale {
			lost = self
		}
	} else {
		// The lost twin itself, first seen a resolver timeout after the
		// other half's answer, from the same socket: musl re-sending what
		// is unanswered.
		twin := twinOf(q.qtype) | kind&flagTCP // and not done
		for m := same; m != 0; m &= m - 1 {
			i := bits.TrailingZeros32(m)
			if f := &p.info[i]; f.flags == twin && f.open > 0 && f.port == q.port &&
				recent(p.arrive[i], q.arrive, window) && q.arrive-p.answerAt(i) > pairGap {
				lost = i
				break
			}
		}
	}
	if lost >= 0 {
		res.race, res.delay = true, q.arrive-p.arrive[lost]
		p.info[lost].flags |= flagDone
	}
	if self >= 0 {
		f := &p.info[self]
		p.arrive[self], f.answer, f.port = q.arrive, 0, q.port
		if stale {
			f.open = 0
		}
		f.open = satAdd(f.open, 1)
	} else {
		self = p.add(q, kind)
	}
	res.mode = p.pair(self, same, window)
	return res, self
}

// add gives q (whose flags are kind) the entry added longest ago, and
// returns it.
func (p *pairs) add(q *half, kind uint8) int {
	self := int(p.next) // from 0 to nHalves
	if self >= nHalves {
		self = 0
	}
	p.next = uint8(self + 1)
	p.h[self], p.arrive[self] = q.h, q.arrive
	f := &p.info[self]
	f.answer, f.port, f.id, f.open, f.flags = 0, q.port, q.id, 1, kind
	return self
}

// named returns the entries whose name hash is h, as a bit set: the
// comparisons unrolled and without branches, as this runs for every A and
// AAAA query.
func (p *pairs) named(h uint64) uint32 {
	var _ [nHalves - 6]struct{} // nHalves is 6: change named with it
	var _ [6 - nHalves]struct{}
	ph := &p.h
	return b2u(ph[0] == h) | b2u(ph[1] == h)<<1 | b2u(ph[2] == h)<<2 |
		b2u(ph[3] == h)<<3 | b2u(ph[4] == h)<<4 | b2u(ph[5] == h)<<5
}

// b2u is 1 for true, 0 for false.
func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// keepsAnswer reports whether entry i, just observed, may still be read by
// a later query: an instance waits for its twin, or it was neither paired
// nor reported. Only then is its answer time worth a clock read: an entry
// with no open instance that is done is passed over by observe and pair.
func (p *pairs) keepsAnswer(i int) bool {
	f := &p.info[i]
	return f.open > 0 || f.flags&flagDone == 0
}

// answered sets when entry i was answered (nanoseconds, K8slint.now).
func (p *pairs) answered(i int, at int64) {
	p.info[i].answer = answerDelta(p.arrive[i], at)
}

// pair matches entry self with an instance of its twin, among the entries
// same for its name, in flight at the same time or asked just after the
// other's answer, and returns how the pair was sent (pairNone if no twin
// waits). Each pair takes one waiting instance of each: A, A again, AAAA,
// AAAA again are two pairs.
func (p *pairs) pair(self int, same uint32, window int64) int {
	sf := &p.info[self]
	twin := twinOf(sf.flags & qtypeBits)
	for m := same; m != 0; m &= m - 1 {
		i := bits.TrailingZeros32(m)
		f := &p.info[i]
		if f.flags&qtypeBits != twin || f.open == 0 || p.arrive[self]-p.arrive[i] > window || p.arrive[i]-p.arrive[self] > window {
			continue
		}
		first, second := i, self
		if p.arrive[self] < p.arrive[i] {
			first, second = self, i
		}
		// When self came first, its twin was answered before self was:
		// the twin arrived before self's answer.
		together := first == self || p.arrive[second] < p.answerAt(first) || p.arrive[second]-p.arrive[first] < parallelGap
		if !together && p.arrive[second]-p.answerAt(first) > pairGap {
			continue
		}
		tcp, twinTCP := sf.flags&flagTCP != 0, f.flags&flagTCP != 0
		mode := pairNone
		switch {
		case tcp && twinTCP:
			mode = modeTCP
		case tcp != twinTCP:
			continue // a UDP answer truncated and retried over TCP
		case f.port == sf.port && together:
			mode = pairParallel
		case f.port == sf.port:
			mode = modeSameSocket
		case !together:
			mode = modeNewSocket
		default:
			// In parallel from two sockets (Go's resolver): no shared
			// conntrack entry to race on, counted in neither metric.
		}
		f.open--
		sf.open--
		f.flags |= flagDone
		sf.flags |= flagDone
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
