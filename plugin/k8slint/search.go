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

// observeWalk classifies one answered query of client c, whose cluster
// domain (clusterDomain) is dom. The shard must be locked. nx: the answer
// was NXDOMAIN; positive: NOERROR with answers.
func (k *K8slint) observeWalk(c *client, q string, dom int, nx, positive bool, now int64) (res walkResult) {
	if len(q) < 2 {
		return res
	}
	// Decompose q under its cluster domain: rest is what precedes
	// ".<domain>.".
	under := false
	var b [3]int // base length per candidate index; -1: not that shape
	b[0], b[1], b[2] = -1, -1, -1
	nsAt := 0
	if dom >= 0 {
		if d := k.domains[dom]; len(q) > len(d)+1 {
			under = true
			rest := q[:len(q)-len(d)-1]
			b[candDomain] = len(rest)
			if len(rest) > 4 && hasSuffixFold(rest, "svc") {
				b1 := len(rest) - 4
				b[candSvc] = b1
				for i := b1 - 1; i > 0; i-- {
					if rest[i] == '.' {
						b[candNamespace], nsAt = i, i+1
						break
					}
				}
			}
		}
	}
	for wi := range c.walks {
		w := &c.walks[wi]
		if w.h == 0 {
			continue
		}
		if now-w.last > int64(k.cfg.RetryWindow) {
			*w = walk{}
			continue
		}
		bl := len(w.base)
		if bl >= len(q) || q[bl] != '.' || !hasPrefixFold(q, w.base) {
			continue
		}
		// The bare name ends the walk, also when it lies under a cluster
		// domain (kubernetes.default.svc.cluster.local asked with ndots:5).
		asIs := len(q) == bl+1
		idx := -1
		switch {
		case asIs:
		case under:
			if b[candNamespace] == bl && (w.idx > candNamespace || w.ended) {
				// The first candidate again after the walk moved on or
				// ended: a new lookup of the same base. Start afresh.
				*w = walk{}
				continue
			}
			for i := int(w.idx); i <= candDomain; i++ {
				if i >= 0 && b[i] == bl {
					idx = i
					break
				}
			}
		case len(q) > bl+1 && q[bl] == '.' && w.idx >= candDomain:
			// The node's search domains follow the cluster's in the
			// list: before <base>.<domain> such a name is another lookup
			// (web-0.web.shop.svc is not a candidate of web-0.web).
			idx = candNode
		}
		if idx < 0 && !asIs {
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
		w.last = now
		if asIs {
			k.confirm(c, w, &res)
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
		k.confirm(c, w, &res)
		res.expansions++
		if nx {
			res.wasted++
		}
		return res
	}
	// Not a continuation: maybe the first candidate of a new walk. A base
	// with no dot is a short service name: searching is how it is meant to
	// be resolved. Only NXDOMAIN opens a walk: a name that exists (A found,
	// or NODATA because only the other of A and AAAA exists, as for every
	// Service in an IPv4-only cluster) ends the resolver's search there.
	b0 := b[candNamespace]
	if b0 <= 0 || !nx {
		return res
	}
	base := q[:b0]
	if !hasDot(base) {
		return res
	}
	slot := &c.walks[0]
	for wi := range c.walks {
		w := &c.walks[wi]
		if w.h == 0 || now-w.last > int64(k.cfg.RetryWindow) {
			slot = w
			break
		}
		if w.last < slot.last {
			slot = w
		}
	}
	*slot = walk{
		h: hashName(base), idx: candNamespace, pendQ: 1, atIdx: 1,
		nsName: q[nsAt:b[candSvc]], base: base, last: now,
	}
	if nx {
		slot.pendNX = 1
	}
	return res
}

// confirm turns a walk's pending first candidates into counted ones and
// learns the client's namespace from it.
func (k *K8slint) confirm(c *client, w *walk, res *walkResult) {
	if !w.confirmed {
		w.confirmed = true
		w.ns = k.ns.intern(w.nsName)
		c.ns = w.ns
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
