package k8slint

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The counter is used only where the kernel keeps time with it, and then
// reads as nanotime does: over 50 ms, the two clocks agree within 0.1%.
func TestTheClockReadsTheCounterOnlyWhereTheKernelDoes(t *testing.T) {
	dir := t.TempDir()
	src := func(s string) string {
		f := filepath.Join(dir, s)
		if err := os.WriteFile(f, []byte(s+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	for _, f := range []string{src("kvm-clock"), src("hpet"), filepath.Join(dir, "missing")} {
		if s := calibrate(f); s != 0 {
			t.Errorf("%s: scale %d, want 0 (nanotime)", filepath.Base(f), s)
		}
	}
	scale := calibrate(src("tsc"))
	if !haveTicks {
		if scale != 0 {
			t.Fatalf("no counter, scale %d", scale)
		}
		return
	}
	if scale == 0 {
		t.Fatal("clock source tsc: the counter is not used")
	}
	// Each clock read between two of nanotime's close together: a
	// preemption between them would skew the comparison, not the clock.
	read := func() (c, n int64) {
		n, c, ok := bracketed(func() int64 { return clock(scale) }, 1000)
		if !ok {
			t.Fatal("no two reads of nanotime within 2 µs in 1000 tries")
		}
		return c, n
	}
	c0, n0 := read()
	time.Sleep(50 * time.Millisecond)
	c1, n1 := read()
	if dc, dn := float64(c1-c0), float64(n1-n0); dc < dn*0.999 || dc > dn*1.001 {
		t.Errorf("over %.0f ns of nanotime the counter's clock read %.0f ns", dn, dc)
	}
	if clock(0) < n1 {
		t.Errorf("scale 0 does not read nanotime")
	}
}

// BenchmarkClock compares a read of the plugin's clock with the counter
// (where the kernel's clock source is tsc) and with nanotime.
func BenchmarkClock(b *testing.B) {
	for _, c := range []struct {
		name  string
		scale uint64
	}{{"nanotime", 0}, {"counter", tickScale()}} {
		b.Run(c.name, func(b *testing.B) {
			if c.name == "counter" && c.scale == 0 {
				b.Skip("the kernel's clock source is not the counter")
			}
			var sum int64
			for b.Loop() {
				sum += clock(c.scale)
			}
			if sum == 0 {
				b.Fatal("no time passed")
			}
		})
	}
}
