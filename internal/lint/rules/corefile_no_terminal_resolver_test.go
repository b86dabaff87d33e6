package rules

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/k8slint/k8slint/internal/lint"
)

// A block whose answer depends on a file dnslint cannot see is a warning
// (it is right only if that file adds no resolver); one whose whole chain
// dnslint reads, imports included, is an error.
func TestNoTerminalResolverIsAWarningOnlyWhereAnImportIsNotGiven(t *testing.T) {
	dir := filepath.Join("testdata", NoTerminalResolver.ID)
	for name, want := range map[string]lint.Severity{
		"import-not-given.Corefile": lint.Warning,
		"import-configmap.yaml":     lint.Error,
		"import-root.Corefile":      lint.Error,
		"a.Corefile":                lint.Error,
	} {
		path := filepath.Join(dir, name)
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, f := range lintBytes(t, path, src, fileOptions(t, options(NoTerminalResolver), src)) {
			if f.RuleID != NoTerminalResolver.ID {
				continue
			}
			n++
			if f.Severity != want {
				t.Errorf("%s:%d: %s, want %s: %s", name, f.Line, f.Severity, want, f.Message)
			}
			if conditional := strings.Contains(f.Message, " unless "); conditional != (want == lint.Warning) {
				t.Errorf("%s:%d: conditional wording %v at %s: %s", name, f.Line, conditional, f.Severity, f.Message)
			}
		}
		if n == 0 {
			t.Errorf("%s: no finding of %s", name, NoTerminalResolver.ID)
		}
	}
}

// An import under --root that is not a regular file (a FIFO) is never
// opened by the rule: reading it would block until a writer appears.
func TestNoTerminalResolverNeverOpensAFIFOUnderRoot(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "etc", "coredns")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "x.conf"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := []byte(".:53 {\n    kubernetes cluster.local {\n        fallthrough\n    }\n    import x.conf\n}\n")
	opts := options(NoTerminalResolver)
	opts.Config.Root = root
	done := make(chan []lint.Finding, 1)
	go func() { done <- lintBytes(t, "Corefile", src, opts) }()
	select {
	case fs := <-done:
		if len(fs) != 0 {
			t.Errorf("findings %v; want none (what the FIFO adds is unknown)", fs)
		}
	case <-time.After(30 * time.Second):
		// Unblock the reader so the test process can end.
		if w, err := os.OpenFile(filepath.Join(dir, "x.conf"), os.O_WRONLY, 0); err == nil {
			w.Close()
		}
		t.Fatal("the rule opened the FIFO and blocked")
	}
}
