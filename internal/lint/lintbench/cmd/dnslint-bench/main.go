// Command dnslint-bench measures the dnslint binary as a whole process on
// the generated workload objects of package lintbench (10,000 objects in
// 100 files of 100), the way a user runs it: the median wall time, peak
// RSS (the child's rusage Maxrss) and CPU time of several runs, against
// the targets of issue 13 (0.5 s and 140 MiB on a quiet 2-core machine).
// Before measuring it checks that the output is byte for byte what a run
// on one CPU prints.
//
// Exit codes: 0 the bench ran (whether or not the targets were met), 1 it
// could not run or the outputs differ, 2 bad flags.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/k8slint/k8slint/internal/lint/lintbench"
)

// Targets of the whole process on lintbench.Objects objects.
const (
	targetWall = 500 * time.Millisecond
	targetRSS  = 140 << 20
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dnslint-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bin := fs.String("dnslint", "bin/dnslint", "the dnslint binary")
	runs := fs.Int("runs", 7, "measured runs")
	if err := fs.Parse(args); err != nil || *runs < 1 {
		return 2
	}
	dir, err := os.MkdirTemp("", "dnslint-bench-")
	if err != nil {
		fmt.Fprintln(stderr, "dnslint-bench:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	files := lintbench.WorkloadFiles(lintbench.Objects, lintbench.PerFile)
	for i, src := range files {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("w%03d.yaml", i)), src, 0o644); err != nil {
			fmt.Fprintln(stderr, "dnslint-bench:", err)
			return 1
		}
	}
	// The files are linted concurrently; what is printed must not show it.
	one, err := output(*bin, dir, "GOMAXPROCS=1")
	if err != nil {
		fmt.Fprintln(stderr, "dnslint-bench:", err)
		return 1
	}
	all, err := output(*bin, dir)
	if err != nil {
		fmt.Fprintln(stderr, "dnslint-bench:", err)
		return 1
	}
	if !bytes.Equal(one, all) || len(all) == 0 {
		fmt.Fprintf(stderr, "dnslint-bench: the output on %d CPUs (%d bytes) differs from the output on one (%d bytes)\n", runtime.NumCPU(), len(all), len(one))
		return 1
	}
	var walls, cpus []time.Duration
	var rsss []int64
	for range *runs {
		wall, cpu, rss, err := measure(*bin, dir)
		if err != nil {
			fmt.Fprintln(stderr, "dnslint-bench:", err)
			return 1
		}
		walls, cpus, rsss = append(walls, wall), append(cpus, cpu), append(rsss, rss)
	}
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "missed"
	}
	w, c, r := median(walls), median(cpus), median(rsss)
	fmt.Fprintf(stdout, "dnslint, %d generated workload objects in %d files, whole process on %d CPUs (median of %d runs; load average %s): "+
		"%.2f s wall (target ≤ %.1f s: %s), %.0f MiB peak RSS (target ≤ %d MiB: %s), %.2f s CPU; %d bytes of output, the same as on one CPU\n",
		lintbench.Objects, len(files), runtime.NumCPU(), *runs, loadAverage(), w.Seconds(), targetWall.Seconds(), verdict(w <= targetWall),
		float64(r)/(1<<20), targetRSS>>20, verdict(r <= targetRSS), c.Seconds(), len(all))
	fmt.Fprintf(stdout, "  runs: wall %s; RSS MiB %s\n", list(walls, func(d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()) }),
		list(rsss, func(b int64) string { return fmt.Sprintf("%.0f", float64(b)/(1<<20)) }))
	return 0
}

// output runs dnslint on dir with env added and returns what it printed.
func output(bin, dir string, env ...string) ([]byte, error) {
	cmd := exec.Command(bin, dir)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil && cmd.ProcessState.ExitCode() != 1 {
		return nil, fmt.Errorf("%s %s: %v: %s", bin, dir, err, errb.String())
	}
	return out.Bytes(), nil
}

// measure runs dnslint on dir with its output to /dev/null and returns
// its wall time, CPU time (user and system) and peak RSS in bytes.
func measure(bin, dir string) (wall, cpu time.Duration, rss int64, err error) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return 0, 0, 0, err
	}
	defer null.Close()
	cmd := exec.Command(bin, dir)
	cmd.Stdout, cmd.Stderr = null, null
	start := time.Now()
	err = cmd.Run()
	wall = time.Since(start)
	if err != nil && cmd.ProcessState.ExitCode() != 1 {
		return 0, 0, 0, fmt.Errorf("%s %s: %v", bin, dir, err)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	// Linux reports Maxrss in KiB.
	return wall, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), ru.Maxrss << 10, nil
}

func median[T int64 | time.Duration](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func list[T any](xs []T, f func(T) string) string {
	var out []string
	for _, x := range xs {
		out = append(out, f(x))
	}
	return strings.Join(out, " ")
}

// loadAverage is the 1-minute load average, for judging the noise.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Fields(string(b))[0]
}
