package rules

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/corefile"
	"github.com/k8slint/k8slint/internal/validate"
)

// coreDNSVerdicts runs CoreDNS v1.15.0's own setup code (package validate)
// on every Corefile of src, as loaded: an *.override snippet spliced into
// a minimal server block, as the main Corefile's import would. It returns
// the refusals, and how many server blocks use k8slint (which the stock
// image does not have).
func coreDNSVerdicts(t *testing.T, path string, src []byte) (refusals []string, k8slintLines int) {
	t.Helper()
	in, err := lint.Load(path, src)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range in.Units {
		u.Corefile.Walk(func(_ *corefile.ServerBlock, d *corefile.Directive) {
			if d.Parent == nil && d.Name.Text == "k8slint" {
				k8slintLines++
			}
		})
		body := u.Corefile.Src
		if u.Snippet {
			body = spliced(body)
		}
		if len(u.Corefile.Tokens) == 0 {
			continue
		}
		if r := validate.Check(validateName, body); r.Err != nil {
			refusals = append(refusals, u.Context+": "+r.Err.Error())
		}
	}
	return refusals, k8slintLines
}

// digits stands for the numbers of a message (lines, columns), which a fix
// above them shifts.
var digits = regexp.MustCompile(`[0-9]+`)

func findingKey(f lint.Finding) string {
	return f.RuleID + " " + digits.ReplaceAllString(f.Message, "N")
}

// TestEveryFixOnTheCorpusIsAcceptedByCoreDNS applies every offered fix to
// every corpus file (dnslint --fix) and checks the result three ways:
// CoreDNS v1.15.0's setup code accepts each Corefile it accepted before
// (and refuses no new one), no fix added k8slint (the stock image lacks
// it), and dnslint run again finds nothing fixable and nothing it did not
// find before.
func TestEveryFixOnTheCorpusIsAcceptedByCoreDNS(t *testing.T) {
	known := corpusKnown(t)
	seen := map[string]bool{}
	opts := corpusOptions()
	fixedFiles := 0
	for _, name := range corpusFiles(t) {
		src, err := os.ReadFile(filepath.Join(corpusDir, name))
		if err != nil {
			t.Fatal(err)
		}
		before := lintBytes(t, name, src, opts)
		fixed := fixAll(t, name, src, opts)
		if string(fixed) == string(src) {
			continue
		}
		fixedFiles++
		deviate := func(key, format string, a ...any) {
			if reason, ok := known[key]; ok {
				seen[key] = true
				t.Logf("known: "+format+" (%s)", append(a, reason)...)
				return
			}
			t.Errorf(format, a...)
		}
		refusedBefore, k8slintBefore := coreDNSVerdicts(t, name, src)
		refusedAfter, k8slintAfter := coreDNSVerdicts(t, name, fixed)
		if len(refusedAfter) > len(refusedBefore) {
			deviate(name+":0 corefile-invalid refused-after-fix", "%s: CoreDNS refuses the fixed file: %s", name, strings.Join(refusedAfter, "; "))
		}
		if k8slintAfter > k8slintBefore {
			t.Errorf("%s: a fix added k8slint, which the stock CoreDNS image lacks", name)
		}
		after := lintBytes(t, name, fixed, opts)
		was := map[string]int{}
		for _, f := range before {
			was[findingKey(f)]++
		}
		for _, f := range after {
			if len(f.Fixes) > 0 {
				t.Errorf("%s:%d: still fixable after --fix: %s [%s]", name, f.Line, f.Message, f.RuleID)
			}
			k := findingKey(f)
			if was[k] == 0 {
				deviate(name+":0 "+f.RuleID+" new-after-fix", "%s:%d: new finding after --fix: %s [%s]", name, f.Line, f.Message, f.RuleID)
				continue
			}
			was[k]--
		}
	}
	for k := range known {
		if (strings.HasSuffix(k, " new-after-fix") || strings.HasSuffix(k, " refused-after-fix")) && !seen[k] {
			t.Errorf("KNOWN.txt lists %q, which no longer happens: remove the line", k)
		}
	}
	t.Logf("%d corpus files changed by --fix", fixedFiles)
	if fixedFiles == 0 {
		t.Fatal("no corpus file has a fix: the test checks nothing")
	}
}

// TestEveryGoldenFileIsAcceptedByCoreDNSWhenItsInputIs checks the rules'
// own fixes the same way: a golden file (the input with the rule's fixes
// applied) is accepted by CoreDNS whenever its input is.
func TestEveryGoldenFileIsAcceptedByCoreDNSWhenItsInputIs(t *testing.T) {
	goldens, _ := filepath.Glob("testdata/*/*.golden")
	if len(goldens) < 10 {
		t.Fatalf("only %d golden files", len(goldens))
	}
	for _, g := range goldens {
		in := strings.TrimSuffix(g, ".golden")
		src, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		fixed, err := os.ReadFile(g)
		if err != nil {
			t.Fatal(err)
		}
		refusedBefore, _ := coreDNSVerdicts(t, in, src)
		if len(refusedBefore) > 0 {
			continue
		}
		if refused, _ := coreDNSVerdicts(t, in, fixed); len(refused) > 0 {
			t.Errorf("%s: CoreDNS accepts the input but refuses the fixed file: %s", g, strings.Join(refused, "; "))
		}
	}
}
