package main

import (
	"os"
	"runtime/debug"
)

// gcPercent is the GC target dnslint runs with unless GOGC is set: a run
// allocates a great deal (yaml.v3 builds a node per scalar and many
// short-lived tokens) and keeps little alive (the files in flight), so
// collecting less often trades a little memory for time. Measured with
// bin/dnslint on the 10,000 objects of lintbench in 100 files (6 runs
// each, shared 2-core machine, load average about 4.5, 2026-12-01):
// GOGC=400 0.52 s wall, 0.90 s CPU, 120 MiB peak RSS; GOGC=200 0.56 s,
// 0.94 s, 103 MiB; GOGC=100 0.67 s, 1.13 s, 94 MiB. 800 stayed as fast
// as 400 with 150-175 MiB, over the 140 MiB target. On a quiet machine
// (7 runs each, 2026-12-02): 400 0.49 s, 0.89 s CPU, 87-98 MiB; 800
// 0.51 s, 0.93 s, 116-132 MiB: no faster, for a third more memory.
const gcPercent = 400

// tuneGC sets gcPercent unless the user chose GOGC. BenchmarkCLIWorkloads
// measures the command with and without it.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}
