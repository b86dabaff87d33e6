package k8slint

// Prefetching: a client's shard is cold when its next query comes (other
// clients' queries, and CoreDNS's own work for them, ran in between), and
// each access to it would wait for memory in turn. A prefetch asks the
// processor for a cache line without waiting for it: the shard's lock is
// requested when the query arrives and is in cache by the time its answer
// is noted in the shard's queue (queue.go); the queued answers' lines and
// names are requested together before they are observed, and each
// client's entry before its observers read it, not one line after another
// as they reach them.

// prefetchLines (prefetch_*.s, prefetch_other.go) prefetches the cache
// lines of the n > 0 bytes at p; on processors without an implementation
// here it does nothing.
