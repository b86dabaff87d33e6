package k8slint

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"sync"
)

// Per-client state lives in a table split into shards by client address,
// each with its own lock, so that no lock is shared by all queries. Every
// shard holds a fixed share of clients_max entries and evicts a client not
// seen recently to make room: memory is bounded whatever the traffic.
const (
	maxShards = 64
	nWalks    = 4 // concurrent search walks remembered per client
	nHalves   = 6 // recent A/AAAA queries remembered per client
	topK      = 16
)

type client struct {
	addr netip.Addr
	ah   uint64 // addrHash(addr)
	seen bool   // asked since the eviction hand last passed
	ns   uint16
	// Since the last report: what the worst-offenders report ranks by.
	races      uint16
	expansions uint32
	wasted     uint32
	lastBase   string // base name of the last wasted walk
	walks      [nWalks]walk
	halves     [nHalves]half
}

// shard is one lock's worth of clients: an open-addressing index (linear
// probing, no Go map: no hashing of the address a second time, no
// allocation) into a fixed array of entries kept in LRU order.
type shard struct {
	mu    sync.Mutex
	slots []int32 // entry index + 1; 0: empty
	ents  []client
	limit int
	hand  int // next eviction candidate (CLOCK)
	top   [topK]topEntry
	_     [64]byte // keep shards' locks on separate cache lines
}

type clientTable struct {
	shards []shard
	shift  uint // shard = hash >> shift
}

func newClientTable(max int) *clientTable {
	n := maxShards
	for n > 1 && n > max {
		n >>= 1
	}
	t := &clientTable{shards: make([]shard, n), shift: uint(64 - bits.TrailingZeros(uint(n)))}
	for i := range t.shards {
		limit := max / n
		if i < max%n {
			limit++
		}
		t.shards[i].init(limit)
	}
	return t
}

// init makes an empty shard for limit clients.
func (s *shard) init(limit int) {
	s.limit = limit
	size := 8
	for size < 2*limit {
		size <<= 1
	}
	s.slots = make([]int32, size)
	// Grown as clients come: a small cluster never pays for the full table.
	s.ents = make([]client, 0, min(limit, 64))
}

// addrHash mixes a client address into 64 bits: the top bits choose the
// shard, the low bits the slot in it.
func addrHash(a netip.Addr) uint64 {
	b := a.As16()
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	return mix64(lo ^ bits.RotateLeft64(hi, 29))
}

func (t *clientTable) shardFor(ah uint64) *shard {
	if t.shift >= 64 {
		return &t.shards[0]
	}
	return &t.shards[ah>>t.shift]
}

// get returns the client for a (whose addrHash is ah), creating it, and
// evicting a client not seen recently when the shard is full: the CLOCK
// approximation of least recently seen, which marks a client on each query
// instead of relinking a list (no writes to other clients' entries). The
// shard must be locked. evicted reports whether a client was dropped.
func (s *shard) get(a netip.Addr, ah uint64) (c *client, evicted bool) {
	m := uint64(len(s.slots) - 1)
	i := ah & m
	for ; s.slots[i] != 0; i = (i + 1) & m {
		if e := s.slots[i] - 1; s.ents[e].addr == a {
			c := &s.ents[e]
			c.seen = true
			return c, false
		}
	}
	var e int32
	if len(s.ents) < s.limit {
		if len(s.ents) == cap(s.ents) {
			// Double, but never past the limit: the table's memory stays
			// within clients_max entries.
			grown := make([]client, len(s.ents), min(s.limit, 2*cap(s.ents)))
			copy(grown, s.ents)
			s.ents = grown
		}
		s.ents = append(s.ents, client{})
		e = int32(len(s.ents) - 1)
	} else {
		// Second chance: skip (and unmark) clients seen since the hand
		// last passed; at most one full turn finds one.
		for s.ents[s.hand].seen {
			s.ents[s.hand].seen = false
			s.hand = (s.hand + 1) % len(s.ents)
		}
		e = int32(s.hand)
		s.hand = (s.hand + 1) % len(s.ents)
		s.remove(&s.ents[e])
		evicted = true
		// Removing shifted entries back: find the insertion point again.
		for i = ah & m; s.slots[i] != 0; i = (i + 1) & m {
		}
	}
	s.ents[e] = client{addr: a, ah: ah}
	s.slots[i] = e + 1
	return &s.ents[e], evicted
}

// remove deletes c from the index with backward-shift deletion, which
// keeps every probe sequence unbroken without tombstones.
func (s *shard) remove(c *client) {
	m := uint64(len(s.slots) - 1)
	i := c.ah & m
	for s.ents[s.slots[i]-1].addr != c.addr {
		i = (i + 1) & m
	}
	for j := (i + 1) & m; s.slots[j] != 0; j = (j + 1) & m {
		home := s.ents[s.slots[j]-1].ah & m
		// The entry at j may move to the hole at i unless its home slot
		// lies cyclically in (i, j].
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			s.slots[i] = s.slots[j]
			i = j
		}
	}
	s.slots[i] = 0
}

func (t *clientTable) len() int {
	n := 0
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		n += len(s.ents)
		s.mu.Unlock()
	}
	return n
}

// topEntry is one slot of a shard's space-saving sketch of the base names
// with the most wasted NXDOMAIN answers, per namespace, since the ticker
// last read it.
type topEntry struct {
	ns    uint16
	h     uint64
	base  string
	count uint32
}

// noteWasted counts n wasted answers for base in namespace ns. The shard
// must be locked.
func (s *shard) noteWasted(ns uint16, h uint64, base string, n uint32) {
	minAt := 0
	for i := range s.top {
		e := &s.top[i]
		if e.count > 0 && e.ns == ns && e.h == h {
			e.count += n
			return
		}
		if e.count < s.top[minAt].count {
			minAt = i
		}
	}
	e := &s.top[minAt]
	*e = topEntry{ns: ns, h: h, base: base, count: e.count + n}
}
