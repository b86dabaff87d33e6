package demo

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/k8slint/k8slint/internal/testenv"
)

// demoProcesses counts running processes whose command line names a demo
// Corefile.
func demoProcesses(t *testing.T) int {
	t.Helper()
	n := 0
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err == nil && bytes.Contains(b, []byte("k8slint-demo-")) {
			n++
		}
	}
	return n
}

func TestTheDemoShowsEveryDetectorAndLeavesNoProcessBehind(t *testing.T) {
	bin, err := testenv.Binary("./cmd/coredns-custom")
	if err != nil {
		t.Fatal(err)
	}
	before := demoProcesses(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := Run(ctx, bin, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	s := out.String()
	t.Log("\n" + s)
	row := func(ns string) []string {
		m := regexp.MustCompile(`(?m)^` + ns + `\s+(.*)$`).FindStringSubmatch(s)
		if m == nil {
			t.Fatalf("no row for namespace %s", ns)
		}
		return strings.Fields(m[1])
	}
	shop := row("shop")
	if shop[0] == "0" || shop[1] == "0" || shop[2] == "0" {
		t.Errorf("shop: expansions, wasted and storms should all be non-zero: %v", shop)
	}
	for _, want := range []string{"search-path storm in namespace", "upstream degraded on", "upstream failures: ", "report 1/", "demo done"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if regexp.MustCompile(`race retry delays observed: 0;`).MatchString(s) {
		t.Error("the lost AAAA was not seen as a suspected race drop")
	}
	if after := demoProcesses(t); after != before {
		t.Errorf("%d demo processes still running", after-before)
	}
}
