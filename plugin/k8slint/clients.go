package k8slint

import (
	"math/bits"
	"net/netip"
	"sync"
)

// Per-client state lives in a table split into shards by client address,
// each with its own lock, so that no lock is shared by all queries. Every
// shard holds a fixed share of clients_max entries and evicts its least
// recently seen client to make room: memory is bounded whatever the traffic.
const (
	maxShards = 64
	nWalks    = 4 // concurrent search walks remembered per client
	nHalves   = 6 // recent A/AAAA queries remembered per client
	topK      = 16
)

type client struct {
	addr       netip.Addr
	prev, next int32 // LRU list; -1 ends it
	ns         uint16
	walks      [nWalks]walk
	halves     [nHalves]half
}

type shard struct {
	mu         sync.Mutex
	index      map[netip.Addr]int32
	ents       []client
	limit      int
	head, tail int32 // most and least recently seen
	top        [topK]topEntry
	_          [64]byte // keep shards' locks on separate cache lines
}

type clientTable struct {
	shards []shard
	mask   uint64
}

func newClientTable(max int) *clientTable {
	n := maxShards
	for n > 1 && n > max {
		n >>= 1
	}
	t := &clientTable{shards: make([]shard, n), mask: uint64(n - 1)}
	for i := range t.shards {
		s := &t.shards[i]
		s.limit = max / n
		if i < max%n {
			s.limit++
		}
		s.index = make(map[netip.Addr]int32, s.limit)
		s.head, s.tail = -1, -1
	}
	return t
}

func (t *clientTable) shardFor(a netip.Addr) *shard {
	b := a.As16()
	x := uint64(b[15]) | uint64(b[14])<<8 | uint64(b[13])<<16 | uint64(b[12])<<24
	x ^= uint64(b[7])<<32 | uint64(b[11])<<40
	x *= 0x9E3779B97F4A7C15
	return &t.shards[bits.RotateLeft64(x, 17)&t.mask]
}

// get returns the client for a, creating it (and evicting the least
// recently seen client when the shard is full). The shard must be locked.
// evicted reports whether a client was dropped to make room.
func (s *shard) get(a netip.Addr) (c *client, evicted bool) {
	if i, ok := s.index[a]; ok {
		s.touch(i)
		return &s.ents[i], false
	}
	var i int32
	if len(s.ents) < s.limit {
		s.ents = append(s.ents, client{})
		i = int32(len(s.ents) - 1)
	} else {
		i = s.tail
		s.unlink(i)
		delete(s.index, s.ents[i].addr)
		evicted = true
	}
	s.ents[i] = client{addr: a, prev: -1, next: -1}
	s.index[a] = i
	s.pushFront(i)
	return &s.ents[i], evicted
}

// find returns the client for a without creating it. The shard must be
// locked.
func (s *shard) find(a netip.Addr) *client {
	if i, ok := s.index[a]; ok {
		return &s.ents[i]
	}
	return nil
}

func (s *shard) touch(i int32) {
	if s.head == i {
		return
	}
	s.unlink(i)
	s.pushFront(i)
}

func (s *shard) unlink(i int32) {
	e := &s.ents[i]
	if e.prev >= 0 {
		s.ents[e.prev].next = e.next
	} else {
		s.head = e.next
	}
	if e.next >= 0 {
		s.ents[e.next].prev = e.prev
	} else {
		s.tail = e.prev
	}
	e.prev, e.next = -1, -1
}

func (s *shard) pushFront(i int32) {
	e := &s.ents[i]
	e.prev, e.next = -1, s.head
	if s.head >= 0 {
		s.ents[s.head].prev = i
	}
	s.head = i
	if s.tail < 0 {
		s.tail = i
	}
}

func (t *clientTable) len() int {
	n := 0
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		n += len(s.index)
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
