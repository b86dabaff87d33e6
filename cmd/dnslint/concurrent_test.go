package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/lintbench"
	"github.com/k8slint/k8slint/internal/lint/rules"
)

// TestFilesLintedAheadComeOutInOrder lints files (and stdin, and a path
// given twice, and one that does not exist) one at a time and ahead on
// several goroutines and wants the same outcomes in the same order, and
// the command's output byte for byte the same on every run. Run it with
// -race: CGO_ENABLED=1 go test -race -run InOrder ./cmd/dnslint/
func TestFilesLintedAheadComeOutInOrder(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for i, src := range lintbench.WorkloadFiles(600, 50) {
		p := filepath.Join(dir, fmt.Sprintf("w%02d.yaml", i))
		if err := os.WriteFile(p, src, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	stdin := lintbench.WorkloadFiles(30, 30)[0]
	files = append(files, "-", files[3], filepath.Join(dir, "missing.yaml"))
	opts := lint.Options{Config: lint.Config{CoreDNSVersion: lint.DefaultCoreDNSVersion}, Rules: rules.All()}
	collectAll := func(workers, window int) []linted {
		var out []linted
		opts.Workers = workers
		for r := range lintFiles(files, bytes.NewReader(stdin), opts, true, window) {
			r.src, r.fixed = nil, nil // compared through the findings
			if r.err != nil {
				r.fs = []lint.Finding{{Message: r.err.Error()}}
				r.err = nil
			}
			out = append(out, r)
		}
		return out
	}
	want := collectAll(1, 1)
	if len(want) != len(files) || len(want[0].fs) == 0 || len(want[len(files)-2].fs) == 0 {
		t.Fatalf("sequential run: %d outcomes for %d files", len(want), len(files))
	}
	for _, c := range [][2]int{{2, 4}, {4, 8}, {8, 3}} {
		if got := collectAll(c[0], c[1]); !reflect.DeepEqual(got, want) {
			t.Errorf("%d workers, window %d: outcomes differ from a sequential run", c[0], c[1])
		}
	}
	args := append([]string{"--format", "json"}, files...)
	_, first, _ := runCLI(t, string(stdin), args...)
	for range 3 {
		if _, out, _ := runCLI(t, string(stdin), args...); out != first {
			t.Fatal("two runs of dnslint print different output")
		}
	}
}

// BenchmarkCLIWorkloads runs the command on the 10,000 objects of the
// library benchmark (lintbench.WorkloadFiles) written to 100 files, text
// output discarded: reading, linting files ahead with their documents
// parsed concurrently, formatting. gc-default keeps the Go runtime's GC
// percent, gc-tuned applies the command's (tuneGC).
func BenchmarkCLIWorkloads(b *testing.B) {
	dir := b.TempDir()
	for i, src := range lintbench.WorkloadFiles(lintbench.Objects, lintbench.PerFile) {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("w%02d.yaml", i)), src, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	var out bytes.Buffer
	if code := run([]string{dir}, nil, &out, os.Stderr); code != exitFindings || out.Len() == 0 {
		b.Fatalf("exit %d, %d bytes of output", code, out.Len())
	}
	for _, tuned := range []bool{false, true} {
		name := "gc-default"
		if tuned {
			name = "gc-tuned"
		}
		b.Run(fmt.Sprintf("cli-%s-%d", name, runtime.GOMAXPROCS(0)), func(b *testing.B) {
			if tuned {
				old := debug.SetGCPercent(100)
				tuneGC()
				defer debug.SetGCPercent(old)
			}
			for i := 0; i < b.N; i++ {
				out.Reset()
				run([]string{dir}, nil, &out, os.Stderr)
			}
			b.ReportMetric(float64(lintbench.Objects*b.N)/b.Elapsed().Seconds(), "objects/s")
		})
	}
}
