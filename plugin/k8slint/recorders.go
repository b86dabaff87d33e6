package k8slint

import (
	"runtime"
	"sync"
	_ "unsafe" // go:linkname
)

// recorderCache hands out the recorders of queries without allocating.
// Each P (the runtime's processor a goroutine runs on) keeps one recorder
// in a slot of its own, taken and given back with the goroutine pinned to
// the P, as sync.Pool keeps its private item: that is the whole of a
// query's hand-off, where sync.Pool's Get and Put also look up the P's
// part of the pool and its shared list. A P with no recorder in its slot
// (its query is in flight, another goroutine's query came in meanwhile), or
// a P beyond the slots (GOMAXPROCS raised since New), uses the sync.Pool.
// Under the race detector only the pool is used: it tells the detector of
// the hand-off, the slots cannot.
type recorderCache struct {
	slots []recorderSlot
	pool  sync.Pool
}

// recorderSlot is a P's recorder, alone on its cache line: the Ps never
// write to each other's lines.
type recorderSlot struct {
	rec *recorder
	_   [56]byte
}

func newRecorderCache() *recorderCache {
	c := &recorderCache{slots: make([]recorderSlot, runtime.GOMAXPROCS(0))}
	c.pool.New = func() any { return &recorder{} }
	return c
}

// get returns a zero recorder.
func (c *recorderCache) get() *recorder {
	if !raceEnabled {
		pid := procPin()
		if pid < len(c.slots) {
			if rec := c.slots[pid].rec; rec != nil {
				c.slots[pid].rec = nil
				procUnpin()
				return rec
			}
		}
		procUnpin()
	}
	return c.pool.Get().(*recorder)
}

// put takes back rec, which must be zero.
func (c *recorderCache) put(rec *recorder) {
	if !raceEnabled {
		pid := procPin()
		if pid < len(c.slots) && c.slots[pid].rec == nil {
			c.slots[pid].rec = rec
			procUnpin()
			return
		}
		procUnpin()
	}
	c.pool.Put(rec)
}

// procPin keeps the calling goroutine on its P until procUnpin, and
// returns the P's id: what sync.Pool does around its private item. Both
// are on the runtime's list of symbols that may be linked to.
//
//go:linkname procPin runtime.procPin
func procPin() int

//go:linkname procUnpin runtime.procUnpin
func procUnpin()
