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
	max   int
	mu    sync.Mutex // taken only to add a name
	names []string   // guarded by mu; read by the ticker under mu
	// index is replaced, never modified: readers load it without a lock.
	index atomic.Pointer[map[string]uint16]
}

func newNSTable(max int) *nsTable {
	t := &nsTable{max: max, names: []string{"_unknown", "_other"}}
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
	key := lowerInto(&buf, s)
	if i, ok := (*t.index.Load())[string(key)]; ok { // no allocation: map index by string(bytes)
		return i
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	old := *t.index.Load()
	if i, ok := old[string(key)]; ok {
		return i
	}
	if len(t.names)-2 >= t.max {
		return nsOther
	}
	name := strings.Clone(string(key))
	next := make(map[string]uint16, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	i := uint16(len(t.names))
	next[name] = i
	t.names = append(t.names, name)
	t.index.Store(&next)
	return i
}

// find returns the index of namespace s, or nsUnknown if it has none. It
// takes no lock.
func (t *nsTable) find(s string) uint16 {
	if !validNamespace(s) {
		return nsOther
	}
	var buf [63]byte
	return (*t.index.Load())[string(lowerInto(&buf, s))]
}

// lowerInto writes s, a valid namespace name, in lower case into buf.
func lowerInto(buf *[63]byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		buf[i] = lower(s[i])
	}
	return buf[:len(s)]
}

func (t *nsTable) name(i uint16) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if int(i) < len(t.names) {
		return t.names[i]
	}
	return "_other"
}
