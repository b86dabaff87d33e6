// Package parallel runs loops over indexes on a bounded number of
// goroutines, for dnslint's loaders and driver.
package parallel

import (
	"sync"
	"sync/atomic"
)

// For calls do(i) for every i in [0, n) on up to workers goroutines (on the
// caller's alone when workers <= 1), handing out the indexes in order, and
// returns when all calls have returned.
func For(n, workers int, do func(i int)) {
	Each(n, workers, func() struct{} { return struct{}{} }, func(_ struct{}, i int) { do(i) })
}

// Each is For with a state of its own for each goroutine, made by state
// once per goroutine (once in all when the loop runs on the caller's
// goroutine).
func Each[S any](n, workers int, state func() S, do func(s S, i int)) {
	workers = min(workers, n)
	if workers <= 1 {
		s := state()
		for i := range n {
			do(s, i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := state()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				do(s, i)
			}
		}()
	}
	wg.Wait()
}
