package k8slint

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"sync"
	"unsafe"
)

// The client index: where each client address's state lives.
//
// The table is split into shards by a hash of the address, each with its
// own lock, so that no lock is shared by all queries. A shard keeps its
// clients in a slice that grows as clients come (doubling, from 64) up to
// its share of clients_max, and finds them through an open-addressing
// index (linear probing, no Go map: the address is hashed once, nothing is
// allocated). Once the shard is full, a newcomer takes the entry of a
// client not seen recently, chosen by CLOCK: every query marks its client,
// and the hand sweeping the entries skips (and unmarks) marked ones. Memory
// is bounded by clients_max entries whatever the traffic, and a flood of
// one-off addresses replaces itself before it displaces regular clients.
const maxShards = 64

// client is one address's state: the index's key and mark, and what each
// observer keeps (the report's counters, search walks, A/AAAA halves). It
// holds no pointers, so the garbage collector never scans the table of
// them; the strings it refers to are in its clientNames.
type client struct {
	addr addrKey
	ah   uint64 // addrHash(addr)
	seen bool   // asked since the eviction hand last passed
	ns   uint16 // the namespace its last confirmed search walk named

	tally tally   // report.go
	pend  pending // counts.go
	walks walks   // search.go
	pairs pairs   // pairs.go
}

// clientNames are the strings of a client's state, read only when a walk
// is confirmed or wastes an answer, and by the report.
type clientNames struct {
	walks    [nWalks]string // each walk's first candidate
	lastBase string         // the base name of the last wasted walk
}

// addrKey is a client address, IPv4 as IPv4-mapped IPv6.
type addrKey [16]byte

func (a addrKey) addr() netip.Addr { return netip.AddrFrom16(a).Unmap() }

// shard is one lock's worth of clients, and the queue of their answers
// not yet observed (queue.go).
type shard struct {
	mu     sync.Mutex
	queued int32   // answers in queue
	slots  []int32 // index: entry + 1; 0: empty
	ents   []client
	names  []clientNames // by entry, beside ents
	limit  int           // most entries
	hand   int           // next eviction candidate
	top    nameSketch
	queue  [queueLen]answer
	_      [64]byte // keep shards' locks on separate cache lines
}

type clientTable struct {
	shards []shard
	// work observes a shard's queued answers (K8slint.work, set by New).
	work  func(*shard)
	shift uint // shard = hash >> shift
	// slots is every shard's index, one after the other: one
	// allocation, no pointers.
	slots []int32
}

func newClientTable(max int) *clientTable {
	n := maxShards
	for n > 1 && n > max {
		n >>= 1
	}
	size := slotsFor((max + n - 1) / n) // for the largest shard
	t := &clientTable{shards: make([]shard, n), shift: uint(64 - bits.TrailingZeros(uint(n))),
		slots: make([]int32, n*size)}
	for i := range t.shards {
		limit := max / n
		if i < max%n {
			limit++
		}
		t.shards[i].init(limit, t.slots[i*size:(i+1)*size:(i+1)*size])
	}
	return t
}

// slotsFor returns the size of the index of a shard of limit clients: a
// power of two, at least twice limit, so that probes stay short.
func slotsFor(limit int) int {
	size := 8
	for size < 2*limit {
		size <<= 1
	}
	return size
}

// init makes an empty shard for limit clients, indexed by slots (zero, of
// at least slotsFor(limit) entries, a power of two).
func (s *shard) init(limit int, slots []int32) {
	s.limit = limit
	s.slots = slots
	s.ents = make([]client, 0, min(limit, 64))
	s.names = make([]clientNames, 0, cap(s.ents))
}

// addrHash mixes a client address into 64 bits: the top bits choose the
// shard, the low bits the slot in it.
func addrHash(a addrKey) uint64 {
	hi, lo := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(a[8:])
	return mix64(lo ^ bits.RotateLeft64(hi, 29))
}

// shardIndex returns the index of the shard of the client whose addrHash
// is ah.
func (t *clientTable) shardIndex(ah uint64) uint64 {
	if t.shift >= 64 {
		return 0
	}
	return ah >> (t.shift & 63) // below 64: masking the count says so to the compiler
}

func (t *clientTable) shardFor(ah uint64) *shard { return &t.shards[t.shardIndex(ah)] }

// prefetch asks for the cache line a query from the client whose addrHash
// is ah will first need when its answer is written: its shard's lock and
// queue count. Its address follows from the hash and the table's own
// fields, which no query changes: it reads nothing the shard's lock
// guards, and nothing it would wait for.
func (t *clientTable) prefetch(ah uint64) {
	s := t.shardFor(ah)
	prefetchLines(unsafe.Pointer(s), unsafe.Offsetof(s.queued)+unsafe.Sizeof(s.queued))
}

// get returns the entry of the client at a (whose addrHash is ah), and
// its names, marked as seen, creating it if needed. The shard must be
// locked. evicted reports whether another client was dropped to make room.
func (s *shard) get(a addrKey, ah uint64) (c *client, names *clientNames, evicted bool) {
	m := uint64(len(s.slots) - 1)
	i := ah & m
	for ; s.slots[i] != 0; i = (i + 1) & m {
		if e := s.slots[i] - 1; s.ents[e].addr == a {
			c = &s.ents[e]
			c.seen = true
			return c, &s.names[e], false
		}
	}
	var e int
	if len(s.ents) < s.limit {
		if len(s.ents) == cap(s.ents) {
			// Double, but never past the limit.
			n := min(s.limit, 2*cap(s.ents))
			s.ents = append(make([]client, 0, n), s.ents...)
			s.names = append(make([]clientNames, 0, n), s.names...)
		}
		s.ents = append(s.ents, client{})
		s.names = append(s.names, clientNames{})
		e = len(s.ents) - 1
	} else {
		e = s.victim()
		// Its walks' wasted answers still count for the names.
		searcher{ws: &s.ents[e].walks, names: &s.names[e].walks, top: &s.top}.noteAll()
		s.remove(&s.ents[e])
		evicted = true
		// Removing shifted entries back: find the insertion point again.
		for i = ah & m; s.slots[i] != 0; i = (i + 1) & m {
		}
	}
	// A newcomer is unmarked: it is the first to go unless it asks again.
	// It keeps the counts not yet published, which are the metrics'.
	s.ents[e] = client{addr: a, ah: ah, pend: s.ents[e].pend}
	s.names[e] = clientNames{}
	s.slots[i] = int32(e) + 1
	return &s.ents[e], &s.names[e], evicted
}

// victim moves the CLOCK hand past the clients seen since it last passed
// (unmarking them) and returns the first unmarked one: at most one full
// turn finds one.
func (s *shard) victim() int {
	for s.ents[s.hand].seen {
		s.ents[s.hand].seen = false
		s.hand = (s.hand + 1) % len(s.ents)
	}
	e := s.hand
	s.hand = (s.hand + 1) % len(s.ents)
	return e
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

// eachShard calls f with each shard locked, its queued answers observed
// first, off the query path. The shard is unlocked however f ends: a panic
// in it (a bug, recovered by the caller) must not leave the shard's
// clients' queries waiting for the lock.
func (t *clientTable) eachShard(f func(s *shard)) {
	for i := range t.shards {
		s := &t.shards[i]
		func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.queued > 0 {
				t.work(s)
			}
			f(s)
		}()
	}
}

// len returns the number of tracked clients.
func (t *clientTable) len() int {
	n := 0
	t.eachShard(func(s *shard) { n += len(s.ents) })
	return n
}
