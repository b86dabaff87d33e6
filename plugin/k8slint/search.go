package k8slint

// Search-path expansion, as the server sees it. See README.md, "Search-path
// expansion", for the definition and its limits.

// Search candidate index of a query within a walk.
const (
	candNamespace = 0 // <base>.<ns>.svc.<domain>
	candSvc       = 1 // <base>.svc.<domain>
	candDomain    = 2 // <base>.<domain>
	candNode      = 3 // <base>.<anything else>: the node's own search domains
)

// nWalks is how many search walks are remembered per client at once.
const nWalks = 4

// walks is a client's recent search walks. A walk refers to its base name
// by hash and length; the name itself (the walk's first candidate, from
// which the base and the <ns> label are cut) is kept among the client's
// names, read only when the walk is confirmed or ends.
type walks [nWalks]walk

// walk is one client's search of one base name, from the candidate that
// opened it: its first, or a later one when the first went to another
// replica (a late walk).
type walk struct {
	h      uint64 // hashName of the base name (no trailing dot); 0: free slot
	last   int64  // when its last candidate arrived
	blen   uint16 // length of the base name
	nsLen  uint16 // length of the <ns> label after it in the first candidate
	ns     uint16 // namespace index, once confirmed
	idx    int8   // furthest candidate index seen
	atIdx  uint8  // queries answered at candidate idx
	pendQ  uint8  // first candidates not counted until the walk is confirmed
	pendNX uint8
	flags  uint8
	// cands is how many different candidates the walk asked; nodeH the
	// hash of its last node candidate (candNode), to tell the next apart.
	cands uint8
	nodeH uint32
	// unnoted counts the walk's wasted answers not yet in its shard's
	// name sketch: they go there when the walk ends or is dropped, or when
	// the ticker drains the sketch, not one by one.
	unnoted uint16
	// A walk opened at <a>.<b>.svc.<domain> may be the first candidate of
	// <a> in namespace <b>, or the second of <a>.<b> (its first went to
	// another replica): altLen and altH (of hashName) are the length and
	// hash of that second reading's base, until a query decides.
	altLen uint16
	altH   uint32
}

const (
	walkConfirmed = 1 << iota // a later candidate (or the bare name) followed the first
	// walkEnded: candidate idx was answered positively, so the resolver has
	// stopped searching; only the twin query of that candidate (the other
	// of A and AAAA) may still come, within pairGap.
	walkEnded
	walkTwinLeft
	// walkLate: the walk opened after its first candidate, which this
	// server did not see: its namespace is the client's, not read from a
	// candidate, and its candidates are not all of the search list.
	walkLate
)

func (w *walk) is(f uint8) bool { return w.flags&f != 0 }

// walkQuery is one answered query, as the search observer sees it.
type walkQuery struct {
	name         string
	shape        shape  // what it could be a candidate of (shapeOf)
	nx, positive bool   // answered NXDOMAIN; NOERROR with answers
	at           int64  // arrival
	h            uint64 // hashName(trimDot(name)), 0 until worked out (hash)
}

// hash returns hashName(trimDot(q.name)), working it out once: an A or AAAA query
// comes with the hash its pairs entry took.
func (q *walkQuery) hash() uint64 {
	if q.h == 0 {
		q.h = hashName(trimDot(q.name))
	}
	return q.h
}

type walkResult struct {
	expansions, wasted uint32
	// unconfirmed: NXDOMAIN answers of walks dropped unconfirmed (README,
	// "Search-path expansion").
	unconfirmed uint32
	ns          uint16
	learned     bool // the walk was just confirmed: ns is the client's namespace
	late        bool // the walk is late (walkLate): cands is not its search list
	// through: the bare name ended a confirmed walk whose base has
	// baseDots dots after cands candidates. asIs: a name outside the
	// cluster domains, asked as it is (no walk of the client had it).
	through, asIs   bool
	cands, baseDots uint8
	// The walk's slot and base name (by hash and length: the text is the
	// start of the slot's first candidate).
	walk    int
	h       uint64
	baseLen uint16
}

// clusterDomain returns the index in k.domains of the cluster domain q
// lies in (or is), or -1.
func (k *K8slint) clusterDomain(q string) int {
	for i := range k.domains {
		if k.domains[i].hasSuffix(q) {
			return i
		}
	}
	return -1
}

// shape is what a query name could be a candidate of: the base name's
// length if it is <base>.<ns>.svc.<domain>, <base>.svc.<domain> or
// <base>.<domain> (-1 where it is not of that form).
type shape struct {
	under bool     // the name lies under a cluster domain
	b     [3]int32 // by candidate index candNamespace, candSvc, candDomain
}

// shapeOf decomposes q under its cluster domain dom (-1: none) into sh,
// which it fills in place (it is part of a walkQuery on the hot path).
func (k *K8slint) shapeOf(sh *shape, q string, dom int) {
	sh.under, sh.b = false, [3]int32{-1, -1, -1}
	if dom < 0 {
		return
	}
	d := int(k.domains[dom].size)
	if len(q) <= d+1 {
		return
	}
	sh.under = true
	rest := q[:len(q)-d-1] // what precedes ".<domain>."
	sh.b[candDomain] = int32(len(rest))
	if n := len(rest); n > 4 && rest[n-4] == '.' && rest[n-3]|0x20 == 's' && rest[n-2]|0x20 == 'v' && rest[n-1]|0x20 == 'c' {
		b1 := n - 4
		sh.b[candSvc] = int32(b1)
		for i := b1 - 1; i > 0; i-- {
			if rest[i] == '.' {
				sh.b[candNamespace] = int32(i)
				break
			}
		}
	}
}

// prefixHash memoizes hashName of one prefix of a name: the walks of a
// client mostly share their base.
type prefixHash struct {
	n int // length hashed; 0: none yet
	h uint64
}

func (p *prefixHash) of(q string, n int) uint64 {
	if p.n != n {
		p.n, p.h = n, hashName(q[:n])
	}
	return p.h
}

// searcher is what the search observer works on: a client's walks and
// their first candidates, and its shard's name sketch. The shard must be
// locked.
type searcher struct {
	ws    *walks
	names *[nWalks]string
	top   *nameSketch
	ns    uint16 // the client's namespace (nsUnknown if not known)
}

// drop ends walk wi, noting its wasted answers in the sketch, and returns
// the NXDOMAIN answers it held unconfirmed.
func (s searcher) drop(wi int) (unconfirmed uint32) {
	w := &s.ws[wi]
	if w.unnoted > 0 {
		s.top.note(w.ns, w.h, s.names[wi][:w.blen], uint32(w.unnoted))
	}
	if !w.is(walkConfirmed) {
		unconfirmed = uint32(w.pendNX)
	}
	*w = walk{}
	return unconfirmed
}

// expire drops the walks nothing followed for window (at now), returning
// the NXDOMAIN answers they held unconfirmed. The report's drain calls it,
// so that walks of clients gone quiet are settled too.
func (s searcher) expire(now, window int64) (unconfirmed uint32) {
	for wi := range s.ws {
		if w := &s.ws[wi]; w.h != 0 && now-w.last > window {
			unconfirmed += s.drop(wi)
		}
	}
	return unconfirmed
}

// noteAll notes the wasted answers of every walk in the sketch, the walks
// going on.
func (s searcher) noteAll() {
	for wi := range s.ws {
		if w := &s.ws[wi]; w.unnoted > 0 {
			s.top.note(w.ns, w.h, s.names[wi][:w.blen], uint32(w.unnoted))
			w.unnoted = 0
		}
	}
}

// observeWalk classifies one answered query q of a client: a candidate of
// a walk in progress, or the first candidate of a new one. It fills res,
// which must be zero (a pointer: no copy of the result per query).
func (k *K8slint) observeWalk(s searcher, q *walkQuery, res *walkResult) {
	if len(q.name) < 2 {
		return
	}
	sh := &q.shape
	window := k.window
	var ph prefixHash
	if q.h != 0 && q.name[len(q.name)-1] == '.' {
		// The hash of the name without its dot is known: that of a bare
		// base name (<base>.), which ends a walk.
		ph.n, ph.h = len(q.name)-1, q.h
	}
	for wi := range s.ws {
		w := &s.ws[wi]
		if w.h == 0 {
			continue
		}
		if q.at-w.last > window {
			res.unconfirmed += s.drop(wi)
			continue
		}
		idx, asIs, ok := w.candidate(q.name, sh, &ph)
		if idx == candAgain {
			// The first candidate again after the walk moved on or
			// ended: a new lookup of the same base. Start afresh.
			res.unconfirmed += s.drop(wi)
			continue
		}
		if !ok && w.altLen > 0 && w.alternative(q.name, s.names[wi], sh, &ph) {
			idx, asIs, ok = w.candidate(q.name, sh, &ph)
		}
		if !ok {
			continue
		}
		if w.is(walkEnded) {
			// The resolver stopped at a positive answer: only the twin of
			// that candidate, just after it, still belongs to this walk.
			if asIs || idx != int(w.idx) || !w.is(walkTwinLeft) || q.at-w.last > pairGap {
				continue
			}
			w.flags &^= walkTwinLeft
		}
		k.advance(w, &s.names[wi], s.ns, idx, asIs, q, res)
		res.walk = wi
		if int(w.unnoted)+int(res.wasted) > 1<<16-1 {
			s.noteAll() // a walk going on and on: note it now rather than overflow
		}
		w.unnoted += uint16(res.wasted)
		if asIs {
			if w.is(walkConfirmed) {
				res.through, res.cands, res.late = true, w.cands, w.is(walkLate)
				res.baseDots = dots(s.names[wi][:w.blen], 255)
			}
			s.drop(wi)
		}
		return
	}
	res.asIs = !sh.under
	if q.nx {
		res.unconfirmed += s.open(q, sh, window, &ph, k.ns)
	}
}

// alternative tells whether q is a later candidate, or the bare name, of
// the second reading of w's opening candidate (altLen), and if so makes
// that reading w's: a late walk at <base>.svc.<domain>, whose opening
// queries are still pending. altLen is set only while the walk is
// unconfirmed at its first candidate (confirm clears it).
func (w *walk) alternative(q, first string, sh *shape, ph *prefixHash) bool {
	al := int(w.altLen)
	if al >= len(q) || q[al] != '.' {
		return false
	}
	if len(q) != al+1 && int(sh.b[candDomain]) != al {
		return false // neither the bare name nor <base>.<domain>
	}
	if uint32(ph.of(q, al)) != w.altH {
		return false
	}
	w.h, w.blen, w.nsLen, w.altLen, w.altH = hashName(first[:al]), uint16(al), 0, 0, 0
	w.idx, w.flags = candSvc, w.flags|walkLate
	return true
}

// candAgain is what candidate returns for the first candidate of a walk
// that moved on.
const candAgain = -2

// candidate returns which candidate of w's walk q is (idx), or that it is
// the bare base name (asIs); ok is false when q is neither. A first
// candidate asked again after the walk moved on starts a new lookup: idx
// is candAgain.
//
// q's base is compared with the walk's by hash (which ignores case), never
// with the text of the walk's first candidate: that string was allocated
// with an earlier query and is seldom still in the processor's caches when
// the client asks again, while hashing the base costs a few dozen
// instructions, once per query for the walks that share it (ph).
func (w *walk) candidate(q string, sh *shape, ph *prefixHash) (idx int, asIs, ok bool) {
	bl := int(w.blen)
	if bl >= len(q) || q[bl] != '.' || ph.of(q, bl) != w.h {
		return -1, false, false
	}
	// The bare name ends the walk, also when it lies under a cluster
	// domain (kubernetes.default.svc.cluster.local asked with ndots:5).
	if len(q) == bl+1 {
		return -1, true, true
	}
	switch {
	case sh.under:
		if int(sh.b[candNamespace]) == bl && (w.idx > candNamespace || w.is(walkEnded)) {
			return candAgain, false, false
		}
		for i := int(w.idx); i <= candDomain; i++ {
			if i >= 0 && int(sh.b[i]) == bl {
				return i, false, true
			}
		}
	case w.idx >= candDomain:
		// The node's search domains follow the cluster's in the list:
		// before <base>.<domain> such a name is another lookup
		// (web-0.web.shop.svc is not a candidate of web-0.web).
		return candNode, false, true
	}
	return -1, false, false
}

// advance counts candidate idx (or the bare name) of walk w, whose first
// candidate is *first (read only when the walk is confirmed).
func (k *K8slint) advance(w *walk, first *string, clientNS uint16, idx int, asIs bool, q *walkQuery, res *walkResult) {
	w.last = q.at
	if asIs {
		k.confirm(w, first, clientNS, res)
		return
	}
	moved := idx > int(w.idx)
	if moved {
		w.idx, w.atIdx = int8(idx), 0
		w.cands = satAdd(w.cands, 1)
		if idx == candNode {
			w.nodeH = uint32(q.hash())
		}
	} else if idx == candNode {
		// The node's next search domain (its A and AAAA share a name).
		if h := uint32(q.hash()); h != w.nodeH {
			w.nodeH = h
			w.cands = satAdd(w.cands, 1)
		}
	}
	if q.positive && !w.is(walkEnded) {
		// The twin may still come unless it was answered already.
		w.flags |= walkEnded
		if w.atIdx == 0 {
			w.flags |= walkTwinLeft
		}
	}
	w.atIdx = satAdd(w.atIdx, 1)
	if !moved && !w.is(walkConfirmed) {
		// The twin or a retry of the opening candidate: still unproven.
		w.pendQ = satAdd(w.pendQ, 1)
		if q.nx {
			w.pendNX = satAdd(w.pendNX, 1)
		}
		return
	}
	k.confirm(w, first, clientNS, res)
	res.expansions++
	if q.nx {
		res.wasted++
	}
}

// open starts a walk if q, answered NXDOMAIN, can be a candidate of one,
// and returns the NXDOMAIN answers held unconfirmed by the walk whose slot
// it took. Only NXDOMAIN opens a walk: a name that exists (A found, or
// NODATA because only the other of A and AAAA exists, as for every Service
// in an IPv4-only cluster) ends the resolver's search there. A base with
// no dot is a short service name: searching is how it is meant to be
// resolved. q opens the walk as the first candidate it can be:
// <base>.<ns>.svc.<domain> (also read as <base>.<ns> at its second
// candidate, until a query decides), else <base>.svc.<domain>, else
// <base>.<domain>; a walk opened after its first candidate is late
// (another replica got the first). The walk takes a free slot, an expired
// one, or the least recent.
func (s searcher) open(q *walkQuery, sh *shape, window int64, ph *prefixHash, nst *nsTable) (unconfirmed uint32) {
	idx, b, alt := -1, 0, 0
	if b1 := int(sh.b[candSvc]); b1 > 0 {
		// <a>.<b>.svc.<domain>: the first candidate of <a> if <b> is the
		// client's namespace, the second of <a>.<b> if it is not; both
		// while the client's namespace is not known.
		b0, other, known := int(sh.b[candNamespace]), false, s.ns != nsUnknown && s.ns != nsOther
		if known && b0 > 0 {
			other = !nst.is(q.name[b0+1:b1], s.ns)
		}
		switch {
		case b0 > 0 && !other && hasDot(q.name[:b0]):
			idx, b = candNamespace, b0
			if !known {
				alt = b1
			}
		case (!known || other) && hasDot(q.name[:b1]):
			idx, b = candSvc, b1
		}
	} else if b2 := int(sh.b[candDomain]); b2 > 0 && hasDot(q.name[:b2]) {
		idx, b = candDomain, b2
	}
	if idx < 0 {
		return 0
	}
	slot := 0
	for wi := range s.ws {
		w := &s.ws[wi]
		if w.h == 0 || q.at-w.last > window {
			slot = wi
			break
		}
		if w.last < s.ws[slot].last {
			slot = wi
		}
	}
	unconfirmed = s.drop(slot)
	w := &s.ws[slot]
	*w = walk{h: ph.of(q.name, b), idx: int8(idx), pendQ: 1, pendNX: 1, atIdx: 1, cands: 1, last: q.at, blen: uint16(b)}
	if idx == candNamespace {
		w.nsLen = uint16(int(sh.b[candSvc]) - b - 1)
		if alt > 0 {
			w.altLen, w.altH = uint16(alt), uint32(hashName(q.name[:alt]))
		}
	} else {
		w.flags = walkLate
	}
	s.names[slot] = q.name
	return unconfirmed
}

// confirm turns a walk's pending opening candidates into counted ones and
// learns the client's namespace from the first candidate (*first); a late
// walk is counted under the client's namespace as known (clientNS).
func (k *K8slint) confirm(w *walk, first *string, clientNS uint16, res *walkResult) {
	if !w.is(walkConfirmed) {
		w.flags |= walkConfirmed
		w.altLen, w.altH = 0, 0
		if w.is(walkLate) {
			w.ns = clientNS
		} else {
			ns := int(w.blen) + 1
			w.ns = k.ns.internAs((*first)[ns:ns+int(w.nsLen)], clientNS)
			res.learned = true
		}
		res.expansions += uint32(w.pendQ)
		res.wasted += uint32(w.pendNX)
		w.pendQ, w.pendNX = 0, 0
	}
	res.ns, res.h, res.baseLen = w.ns, w.h, w.blen
}

// dots counts the dots in s, up to most.
func dots(s string, most uint8) uint8 {
	n := uint8(0)
	for i := 0; i < len(s) && n < most; i++ {
		if s[i] == '.' {
			n++
		}
	}
	return n
}

func hasDot(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return true
		}
	}
	return false
}

func satAdd(a, b uint8) uint8 {
	if a > 255-b {
		return 255
	}
	return a + b
}
