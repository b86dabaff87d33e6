package main

import (
	"os"
	"runtime/debug"
)

// gcPercent is the GC target dnslint runs with unless GOGC is set: a run
// allocates a great deal (a node per scalar, most of it garbage once a
// file's findings are out) and keeps little alive (the files in flight),
// so collecting less often than Go's default trades a little memory for
// time. Once manifest's own parser read the plain documents instead of
// yaml.v3 (4.1 million allocations a run became 1.4 million), 200 was as
// fast as 400 in less memory: a copy of bin/dnslint on the same 10,000
// objects, runs of the settings interleaved, load average 1.0-1.5,
// 2026-12-02: 21 runs each, GOGC=400 median 0.35 s wall, 0.59 s CPU, 94
// MiB; 300 0.33 s, 0.55 s, 87 MiB; 200 0.33 s, 0.55 s, 77 MiB; in 15 runs
// 100 took 0.38 s, 0.65 s, 67 MiB (page faults, of fresh heap and of the
// binary, were 18% of the CPU samples of a run in perf: a smaller heap
// pays for part of its extra collections). The binary as the linker
// wrote it maps more of itself per page fault: about 25 MiB more RSS and
// 0.03 s less than a copy.
//
// Before that parser, 400 was the choice. Measured with
// bin/dnslint on the 10,000 objects of lintbench in 100 files (6 runs
// each, shared 2-core machine, load average about 4.5, 2026-12-01):
// GOGC=400 0.52 s wall, 0.90 s CPU, 120 MiB peak RSS; GOGC=200 0.56 s,
// 0.94 s, 103 MiB; GOGC=100 0.67 s, 1.13 s, 94 MiB. 800 stayed as fast
// as 400 with 150-175 MiB, over the 140 MiB target. On a quiet machine
// (7 runs each, 2026-12-02): 400 0.49 s, 0.89 s CPU, 87-98 MiB; 800
// 0.51 s, 0.93 s, 116-132 MiB: no faster, for a third more memory.
const gcPercent = 200

// tuneGC sets gcPercent unless the user chose GOGC. BenchmarkCLIWorkloads
// measures the command with and without it.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}
