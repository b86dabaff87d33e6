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

// walks is a client's recent search walks.
type walks [nWalks]walk

// walk is one client's search of one base name, from its first candidate.
type walk struct {
	h         uint64 // hashName of the base name (no trailing dot); 0: free slot
	idx       int8   // furthest candidate index seen
	confirmed bool   // a later candidate (or the bare name) followed the first
	pendQ     uint8
	pendNX    uint8
	ns        uint16 // namespace index, once confirmed
	nsName    string // the <ns> label of the first candidate
	base      string
	last      int64
	// ended: candidate idx was answered positively, so the resolver has
	// stopped searching; only the twin query of that candidate (the other
	// of A and AAAA) may still come, within pairGap.
	ended    bool
	twinLeft bool
	atIdx    uint8 // queries answered at candidate idx
}

type walkResult struct {
	expansions, wasted uint32
	ns                 uint16
	learned            bool // the walk was just confirmed: ns is the client's namespace
	h                  uint64
	base               string
}

// clusterDomain returns the index in k.domains of the cluster domain q
// lies in (or is), or -1.
func (k *K8slint) clusterDomain(q string) int {
	for i, d := range k.domains {
		if hasSuffixFold(q, d) {
			return i
		}
	}
	return -1
}

// shape is what a query name could be a candidate of: the base name's
// length if it is <base>.<ns>.svc.<domain>, <base>.svc.<domain> or
// <base>.<domain> (-1 where it is not of that form).
type shape struct {
	under bool   // the name lies under a cluster domain
	b     [3]int // by candidate index candNamespace, candSvc, candDomain
	nsAt  int    // start of <ns> in the first form
}

// shapeOf decomposes q under its cluster domain dom (-1: none).
func (k *K8slint) shapeOf(q string, dom int) shape {
	sh := shape{b: [3]int{-1, -1, -1}}
	if dom < 0 {
		return sh
	}
	d := k.domains[dom]
	if len(q) <= len(d)+1 {
		return sh
	}
	sh.under = true
	rest := q[:len(q)-len(d)-1] // what precedes ".<domain>."
	sh.b[candDomain] = len(rest)
	if len(rest) > 4 && hasSuffixFold(rest, "svc") {
		b1 := len(rest) - 4
		sh.b[candSvc] = b1
		for i := b1 - 1; i > 0; i-- {
			if rest[i] == '.' {
				sh.b[candNamespace], sh.nsAt = i, i+1
				break
			}
		}
	}
	return sh
}

// observeWalk classifies one answered query q of a client with walks ws,
// q's cluster domain (clusterDomain) being dom: a candidate of a walk in
// progress, or the first candidate of a new one. nx: the answer was
// NXDOMAIN; positive: NOERROR with answers. The shard must be locked.
func (k *K8slint) observeWalk(ws *walks, q string, dom int, nx, positive bool, now int64) walkResult {
	if len(q) < 2 {
		return walkResult{}
	}
	sh := k.shapeOf(q, dom)
	window := int64(k.cfg.RetryWindow)
	for wi := range ws {
		w := &ws[wi]
		if w.h == 0 {
			continue
		}
		if now-w.last > window {
			*w = walk{}
			continue
		}
		idx, asIs, ok := w.candidate(q, sh)
		if !ok {
			continue
		}
		if w.ended {
			// The resolver stopped at a positive answer: only the twin of
			// that candidate, just after it, still belongs to this walk.
			if asIs || idx != int(w.idx) || !w.twinLeft || now-w.last > pairGap {
				continue
			}
			w.twinLeft = false
		}
		return k.advance(w, idx, asIs, nx, positive, now)
	}
	ws.open(q, sh, nx, now, window)
	return walkResult{}
}

// candidate returns which candidate of w's walk q is (idx), or that it is
// the bare base name (asIs); ok is false when q is neither. A first
// candidate asked again after the walk moved on starts a new lookup: w is
// cleared and ok is false.
func (w *walk) candidate(q string, sh shape) (idx int, asIs, ok bool) {
	bl := len(w.base)
	if bl >= len(q) || q[bl] != '.' || !hasPrefixFold(q, w.base) {
		return -1, false, false
	}
	// The bare name ends the walk, also when it lies under a cluster
	// domain (kubernetes.default.svc.cluster.local asked with ndots:5).
	if len(q) == bl+1 {
		return -1, true, true
	}
	switch {
	case sh.under:
		if sh.b[candNamespace] == bl && (w.idx > candNamespace || w.ended) {
			*w = walk{}
			return -1, false, false
		}
		for i := int(w.idx); i <= candDomain; i++ {
			if i >= 0 && sh.b[i] == bl {
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

// advance counts candidate idx (or the bare name) of walk w.
func (k *K8slint) advance(w *walk, idx int, asIs, nx, positive bool, now int64) (res walkResult) {
	w.last = now
	if asIs {
		k.confirm(w, &res)
		*w = walk{}
		return res
	}
	if idx > int(w.idx) {
		w.idx, w.atIdx = int8(idx), 0
	}
	if positive && !w.ended {
		// The twin may still come unless it was answered already.
		w.ended, w.twinLeft = true, w.atIdx == 0
	}
	w.atIdx = satAdd(w.atIdx, 1)
	if idx == candNamespace && !w.confirmed {
		// The twin or a retry of the first candidate: still unproven.
		w.pendQ = satAdd(w.pendQ, 1)
		if nx {
			w.pendNX = satAdd(w.pendNX, 1)
		}
		return res
	}
	k.confirm(w, &res)
	res.expansions++
	if nx {
		res.wasted++
	}
	return res
}

// open starts a walk if q can be the first candidate of one. A base with
// no dot is a short service name: searching is how it is meant to be
// resolved. Only NXDOMAIN opens a walk: a name that exists (A found, or
// NODATA because only the other of A and AAAA exists, as for every
// Service in an IPv4-only cluster) ends the resolver's search there. The
// walk takes a free slot, an expired one, or the least recent.
func (ws *walks) open(q string, sh shape, nx bool, now, window int64) {
	b0 := sh.b[candNamespace]
	if b0 <= 0 || !nx {
		return
	}
	base := q[:b0]
	if !hasDot(base) {
		return
	}
	slot := &ws[0]
	for wi := range ws {
		w := &ws[wi]
		if w.h == 0 || now-w.last > window {
			slot = w
			break
		}
		if w.last < slot.last {
			slot = w
		}
	}
	*slot = walk{
		h: hashName(base), idx: candNamespace, pendQ: 1, pendNX: 1, atIdx: 1,
		nsName: q[sh.nsAt:sh.b[candSvc]], base: base, last: now,
	}
}

// confirm turns a walk's pending first candidates into counted ones and
// learns the client's namespace from it.
func (k *K8slint) confirm(w *walk, res *walkResult) {
	if !w.confirmed {
		w.confirmed = true
		w.ns = k.ns.intern(w.nsName)
		res.learned = true
		res.expansions += uint32(w.pendQ)
		res.wasted += uint32(w.pendNX)
		w.pendQ, w.pendNX = 0, 0
	}
	res.ns, res.h, res.base = w.ns, w.h, w.base
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
