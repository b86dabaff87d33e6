package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

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
