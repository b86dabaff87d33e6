package k8slint

import (
	"bytes"
	"math/bits"
	"os"
	"sync"
	"time"
)

// The plugin's clock: every A and AAAA query reads it on arrival, and every
// answer when it is written. The runtime's monotonic clock (nanotime, the
// one time.Since reads) calls the kernel's vDSO on the scheduler's stack:
// measured on this project's 2-core VM, 34 ns a read. Where the kernel
// itself keeps time with the processor's time-stamp counter (its clock
// source is "tsc": a counter that runs at a constant rate, in step on
// every CPU), the plugin reads that counter instead and scales it to
// nanoseconds with a factor measured against nanotime once per process
// (over 5 ms, when the first instance is created): 13.5 ns a read against
// nanotime's 35 on that VM (BenchmarkClock). Elsewhere, and on processors
// other than amd64, it reads nanotime.

// clockSource is where the kernel says which clock source it uses.
const clockSource = "/sys/devices/system/clocksource/clocksource0/current_clocksource"

// tickScale is the counter's nanoseconds per tick as a 32.32 fixed-point
// number, 0 where the counter is not used.
var tickScale = sync.OnceValue(func() uint64 { return calibrate(clockSource) })

// calibrate measures the counter's rate against nanotime over 5 ms, if
// the kernel's clock source (read from file) is the counter.
func calibrate(file string) uint64 {
	if !haveTicks {
		return 0
	}
	b, err := os.ReadFile(file)
	if err != nil || !bytes.Equal(bytes.TrimSpace(b), []byte("tsc")) {
		return 0
	}
	t0, c0, ok0 := bracketed(ticks, 100)
	time.Sleep(5 * time.Millisecond)
	t1, c1, ok1 := bracketed(ticks, 100)
	if !ok0 || !ok1 || t1 <= t0 || c1 <= c0 {
		return 0
	}
	return uint64(t1-t0) << 32 / (c1 - c0)
}

// bracketed calls read between two reads of nanotime at most 2 µs apart,
// and returns what it read with their midpoint. A thread preempted
// between a read of one clock and one of the other would skew the pair by
// as long as it was away (for calibrate, the scale with it for the life
// of the process); ok is false when no such reading came in tries.
func bracketed[T any](read func() T, tries int) (t int64, v T, ok bool) {
	for range tries {
		a := nanotime()
		v = read()
		if b := nanotime(); b-a <= 2000 {
			return a + (b-a)/2, v, true
		}
	}
	return 0, v, false
}

// clock reads the clock in nanoseconds, with the counter scaled by scale
// (0: nanotime).
func clock(scale uint64) int64 {
	if scale == 0 {
		return nanotime()
	}
	hi, lo := bits.Mul64(ticks(), scale)
	return int64(hi<<32 | lo>>32)
}
