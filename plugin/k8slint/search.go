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
}

type walkResult struct {
	expansions, wasted uint32
	ns                 uint16
	h                  uint64
	base               string
}

// observeWalk classifies one answered query of client c. The shard must be
// locked. nx: the answer was NXDOMAIN; positive: NOERROR with answers.
func (k *K8slint) observeWalk(c *client, q string, nx, positive bool, now int64) (res walkResult) {
	if len(q) < 2 {
		return res
	}
	// Decompose q under a cluster domain: rest is what precedes ".<domain>.".
	under := false
	var b [3]int // base length per candidate index; -1: not that shape
	b[0], b[1], b[2] = -1, -1, -1
	nsAt := 0
	for _, d := range k.domains {
		if len(q) > len(d)+1 && hasSuffixFold(q, d) {
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
			break
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
		if bl > len(q) {
			continue
		}
		idx := -1
		asIs := false
		if under {
			for i := int(w.idx); i <= candDomain; i++ {
				if i >= 0 && b[i] == bl {
					idx = i
					break
				}
			}
		} else if len(q) == bl+1 {
			asIs = true
		} else if len(q) > bl+1 && q[bl] == '.' {
			idx = candNode
		}
		if (idx < 0 && !asIs) || !hasPrefixFold(q, w.base) {
			continue
		}
		w.last = now
		if asIs {
			k.confirm(c, w, &res)
			*w = walk{}
			return res
		}
		if idx == int(w.idx) && !w.confirmed {
			// The twin or a retry of the first candidate: still unproven.
			w.pendQ = satAdd(w.pendQ, 1)
			if nx {
				w.pendNX = satAdd(w.pendNX, 1)
			}
			return res
		}
		k.confirm(c, w, &res)
		if idx > int(w.idx) {
			w.idx = int8(idx)
		}
		res.expansions++
		if nx {
			res.wasted++
		}
		return res
	}
	// Not a continuation: maybe the first candidate of a new walk. A base
	// with no dot is a short service name: searching is how it is meant to
	// be resolved. A positive answer means an in-cluster name resolved.
	b0 := b[candNamespace]
	if b0 <= 0 || positive {
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
		h: hashName(base), idx: candNamespace, pendQ: 1,
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
