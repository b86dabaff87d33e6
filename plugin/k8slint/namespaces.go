package k8slint

import (
	"strings"
	"sync"
	"sync/atomic"
)

// Namespace label values are bounded: index 0 is "_unknown" (the client's
// namespace was never seen), index 1 is "_other" (the table was full, or the
// label was not a valid namespace name), then up to namespaces_max names in
// the order they were first seen.
const (
	nsUnknown uint16 = 0
	nsOther   uint16 = 1
)

type nsTable struct {
	max int
	mu  sync.Mutex // taken only to add a name
	// names has room for every name from the start: a name is written
	// once, under mu, before n counts it, and read without a lock.
	names []string
	n     atomic.Int32
	// index is replaced, never modified: readers load it without a lock.
	index atomic.Pointer[map[string]uint16]
}

func newNSTable(max int) *nsTable {
	t := &nsTable{max: max, names: make([]string, max+2)}
	t.names[nsUnknown], t.names[nsOther] = "_unknown", "_other"
	t.n.Store(2)
	m := map[string]uint16{}
	t.index.Store(&m)
	return t
}

// intern returns the index of namespace s, adding it if there is room.
func (t *nsTable) intern(s string) uint16 {
	if !validNamespace(s) {
		return nsOther
	}
	var buf [63]byte
	for i := 0; i < len(s); i++ {
		buf[i] = lower(s[i])
	}
	key := buf[:len(s)]
	if i, ok := (*t.index.Load())[string(key)]; ok { // no allocation: map index by string(bytes)
		return i
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	old := *t.index.Load()
	if i, ok := old[string(key)]; ok {
		return i
	}
	n := int(t.n.Load())
	if n-2 >= t.max {
		return nsOther
	}
	name := strings.Clone(string(key))
	next := make(map[string]uint16, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	i := uint16(n)
	next[name] = i
	t.names[i] = name
	t.n.Store(int32(n + 1))
	t.index.Store(&next)
	return i
}

// internAs is intern(s) for a client whose namespace is likely: the
// index of its last namespace (nsUnknown or nsOther if none). Most of a
// client's search walks name its namespace again, which a comparison
// tells without hashing s and looking it up (a name in the table is valid
// and lower case, so s equal to it in any case interns to its index).
func (t *nsTable) internAs(s string, likely uint16) uint16 {
	if likely != nsUnknown && likely != nsOther && t.is(s, likely) {
		return likely
	}
	return t.intern(s)
}

// is tells whether label, a DNS label, is namespace i's name (in any
// case). It takes no lock.
func (t *nsTable) is(label string, i uint16) bool {
	if int32(i) >= t.n.Load() {
		return false
	}
	name := t.names[i]
	return len(label) == len(name) && (label == name || strings.EqualFold(label, name))
}

func (t *nsTable) name(i uint16) string {
	if int32(i) < t.n.Load() {
		return t.names[i]
	}
	return "_other"
}
