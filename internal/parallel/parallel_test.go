package parallel

import (
	"sync/atomic"
	"testing"
)

func TestEveryIndexRunsOnceWithAStatePerGoroutine(t *testing.T) {
	for _, workers := range []int{0, 1, 2, 7, 100} {
		const n = 1000
		var seen [n]atomic.Int32
		var states atomic.Int32
		Each(n, workers, func() *int { states.Add(1); return new(int) }, func(s *int, i int) {
			*s++ // a state is never shared: -race catches it otherwise
			seen[i].Add(1)
		})
		for i := range seen {
			if c := seen[i].Load(); c != 1 {
				t.Fatalf("workers %d: index %d ran %d times", workers, i, c)
			}
		}
		if want := int32(max(1, min(workers, n))); states.Load() != want {
			t.Errorf("workers %d: %d states, want %d", workers, states.Load(), want)
		}
	}
}
