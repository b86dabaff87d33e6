// Command render writes the files the k8slint monitoring mixin renders
// (prometheus_alerts.yaml, prometheus_rules.yaml, prometheusrule.yaml,
// dashboards_out/*.json) into a directory, by default deploy/monitoring.
//
//	go run ./cmd/render [-o DIR]     (from deploy/monitoring)
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/k8slint/k8slint/deploy/monitoring"
)

func main() {
	dir := flag.String("o", ".", "directory to write the rendered files into")
	flag.Parse()
	files, err := monitoring.Render("")
	if err != nil {
		fmt.Fprintf(os.Stderr, "render: %v\n", err)
		os.Exit(1)
	}
	for _, name := range monitoring.Names(files) {
		p := filepath.Join(*dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			fmt.Fprintf(os.Stderr, "render: %v\n", err)
			os.Exit(1)
		}
		if err := os.WriteFile(p, []byte(files[name]), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "render: %v\n", err)
			os.Exit(1)
		}
		fmt.Println(p)
	}
}
