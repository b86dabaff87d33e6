package main

import (
	"os"
	"runtime/debug"
)

// gcPercent is the GC target dnslint runs with unless GOGC is set: a run
// allocates a great deal (yaml.v3 builds a node per scalar) and keeps
// little, so collecting less often trades some memory for time. See
// tuneGC for the measurement.
const gcPercent = 400

// tuneGC sets gcPercent unless the user chose GOGC. BenchmarkCLIWorkloads
// measures the command with and without it.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}
