package main

import (
	"os"
	"runtime/debug"
)

// gcPercent is the GC target dnslint runs with unless GOGC is set: a run
// allocates a great deal (yaml.v3 builds a node per scalar and many
// short-lived tokens), so collecting less often trades memory for time.
// Measured on the 10,000 objects of BenchmarkCLIWorkloads as ten files on
// the shared 2-core machine: about a fifth less CPU time than GOGC=100
// (0.9 s against 1.1 s user+system), with peak RSS about 290 MB against
// 175 MB; on one 5.4 MB file of the same objects, 0.9 s against 1.2 s and
// about 400 MB against 350 MB. 800 was no faster than 400.
const gcPercent = 400

// tuneGC sets gcPercent unless the user chose GOGC. BenchmarkCLIWorkloads
// measures the command with and without it.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}
