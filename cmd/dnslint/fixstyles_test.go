package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFixInEveryYAMLScalarStyleAppliesOrRefusesClearly runs --fix on a
// ConfigMap whose Corefile is written in each YAML scalar style (and as
// JSON). Literal blocks and folded blocks that keep every line are fixed
// in place; for the others the file must stay byte for byte as it was and
// stderr must say why. The .golden file beside each input is the expected
// result; a second --fix must change nothing.
func TestFixInEveryYAMLScalarStyleAppliesOrRefusesClearly(t *testing.T) {
	ins, _ := filepath.Glob("testdata/fixstyles/*")
	n := 0
	for _, in := range ins {
		if strings.HasSuffix(in, ".golden") {
			continue
		}
		n++
		t.Run(filepath.Base(in), func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(in + ".golden")
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), filepath.Base(in))
			if err := os.WriteFile(path, src, 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"--fix", "--enable", "corefile-health-without-lameduck", path}
			_, _, errs := runCLI(t, "", args...)
			got, _ := os.ReadFile(path)
			if string(got) != string(want) {
				t.Fatalf("--fix wrote\n%s\nwant (%s.golden)\n%s", got, in, want)
			}
			refused := string(want) == string(src)
			if says := strings.Contains(errs, "fix not applied: "); says != refused {
				t.Errorf("fix refused: %v, but stderr %q", refused, errs)
			}
			if _, _, _ = runCLI(t, "", args...); true {
				again, _ := os.ReadFile(path)
				if string(again) != string(want) {
					t.Errorf("a second --fix changed the file again:\n%s", again)
				}
			}
		})
	}
	if n < 6 {
		t.Fatalf("only %d inputs in testdata/fixstyles", n)
	}
}
