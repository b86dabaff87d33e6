package k8slint

// Prefetching: a client's state is cold when its next query comes (other
// clients' queries, and CoreDNS's own work for them, ran in between), and
// each access to it would wait for memory in turn: the shard's lock, the
// index slot, then the entry. A prefetch asks the processor for a cache
// line without waiting for it, so the shard and its slot are requested
// when the query arrives and are in cache by the time its answer is
// observed, and the entry's lines are requested together, not one after
// another as the observers reach them.

// prefetchLines (prefetch_*.s, prefetch_other.go) prefetches the cache
// lines of the n > 0 bytes at p; on processors without an implementation
// here it does nothing.
