package rules

import (
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/lintbench"
	"github.com/k8slint/k8slint/internal/lint/manifest"
)

// BenchmarkLintWorkloads loads and lints 10,000 workload objects
// (lintbench.WorkloadFiles) with every rule and reports objects per
// second. The variants differ only in how the work is spread over
// goroutines; cmd/dnslint's BenchmarkCLIWorkloads measures the command.
func BenchmarkLintWorkloads(b *testing.B) {
	files := lintbench.WorkloadFiles(lintbench.Objects, lintbench.PerFile)
	opts := options(PodNdotsHigh)
	opts.Rules = All()
	objects, findings := 0, 0
	for _, src := range files {
		in, err := lint.Load("bench.yaml", src)
		if err != nil {
			b.Fatal(err)
		}
		objects += len(in.Workloads)
		findings += len(lint.Run(in, opts))
	}
	if objects != lintbench.Objects || findings == 0 {
		b.Fatalf("%d workload objects, %d findings", objects, findings)
	}
	procs := runtime.GOMAXPROCS(0)
	// Parsing the documents alone (manifest.Load: YAML into nodes, by
	// manifest's own parser for plain documents and yaml.v3 for the rest,
	// and the object index) on one goroutine: the bound of everything
	// else.
	b.Run("yaml-parse-only", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for _, src := range files {
				manifest.Load(src)
			}
		}
		b.ReportMetric(float64(lintbench.Objects*b.N)/b.Elapsed().Seconds(), "objects/s")
	})
	// Loading alone (YAML parsing, the workload model, no rule) on one
	// goroutine is the ceiling the rules are measured against.
	b.Run("load-only", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for _, src := range files {
				lint.Load("bench.yaml", src)
			}
		}
		b.ReportMetric(float64(lintbench.Objects*b.N)/b.Elapsed().Seconds(), "objects/s")
	})
	// Everything on one goroutine.
	b.Run("sequential", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for _, src := range files {
				in, _ := lint.Load("bench.yaml", src)
				lint.Run(in, opts)
			}
		}
		b.ReportMetric(float64(lintbench.Objects*b.N)/b.Elapsed().Seconds(), "objects/s")
	})
	// One file at a time, its documents parsed, pod specs read and
	// workloads checked by one goroutine per CPU (lint.LoadN,
	// Options.Workers), as dnslint does for one large file.
	b.Run(fmt.Sprintf("docs-in-parallel-%d", procs), func(b *testing.B) {
		popts := opts
		popts.Workers = procs
		for i := 0; i < b.N; i++ {
			for _, src := range files {
				in, _ := lint.LoadN("bench.yaml", src, procs)
				lint.Run(in, popts)
			}
		}
		b.ReportMetric(float64(lintbench.Objects*b.N)/b.Elapsed().Seconds(), "objects/s")
	})
	// Files are independent: one goroutine per CPU, each file loaded on
	// its goroutine alone.
	b.Run(fmt.Sprintf("files-in-parallel-%d", procs), func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			next := make(chan []byte)
			var wg sync.WaitGroup
			for range procs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for src := range next {
						in, _ := lint.Load("bench.yaml", src)
						lint.Run(in, opts)
					}
				}()
			}
			for _, src := range files {
				next <- src
			}
			close(next)
			wg.Wait()
		}
		b.ReportMetric(float64(lintbench.Objects*b.N)/b.Elapsed().Seconds(), "objects/s")
	})
}
