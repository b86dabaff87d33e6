package rules

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/k8slint/k8slint/internal/lint"
)

// corpusDir is the real-world Corefile corpus of issue 9 (its README
// defines the `# want RULE "regexp"` expectations).
const corpusDir = "../../../test/testdata/corefile-corpus"

// corpusOptions lint as `dnslint --fail-on info FILE` does: every rule
// but the opt-in ones, the CLI's defaults.
func corpusOptions() lint.Options {
	var rs []lint.Rule
	for _, r := range All() {
		if !r.OptIn {
			rs = append(rs, r)
		}
	}
	return lint.Options{
		Config: lint.Config{CoreDNSVersion: lint.DefaultCoreDNSVersion, ClusterDomain: "cluster.local"},
		Rules:  rs,
		Known:  func(id string) bool { _, ok := ByID(id); return ok },
	}
}

func corpusFiles(t *testing.T) []string {
	ents, err := os.ReadDir(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if n := e.Name(); strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".Corefile") {
			out = append(out, n)
		}
	}
	if len(out) < 60 {
		t.Fatalf("%s holds %d inputs; the corpus has at least 60", corpusDir, len(out))
	}
	return out
}

// corpusKnown reads KNOWN.txt: the deviations from the review that this
// branch knows and leaves to other work, one a line:
//
//	FILE:LINE RULE unexpected|missed  reason
//
// (the fix-validation test adds FILE:0 RULE new-after-fix and
// FILE:0 corefile-invalid refused-after-fix). A deviation not listed fails the test, and so does a listed one that no
// longer happens: the list only shrinks.
func corpusKnown(t *testing.T) map[string]string {
	f, err := os.Open(filepath.Join(corpusDir, "KNOWN.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fs := strings.Fields(line)
		if len(fs) < 4 {
			t.Fatalf("KNOWN.txt: bad line %q (want FILE:LINE RULE unexpected|missed reason)", line)
		}
		out[strings.Join(fs[:3], " ")] = strings.Join(fs[3:], " ")
	}
	return out
}

var deviationRe = regexp.MustCompile(`^(\d+)(?::\d+)?: (unexpected finding: .* \[([a-z0-9-]+)\]|no finding of ([a-z0-9-]+) matching .*)$`)

// deviation keys an error of check as KNOWN.txt does.
func deviation(file string, err error) (key string, severe bool) {
	m := deviationRe.FindStringSubmatch(err.Error())
	if m == nil {
		return file + ":? ? " + err.Error(), true
	}
	if m[3] != "" {
		r, _ := ByID(m[3])
		return fmt.Sprintf("%s:%s %s unexpected", file, m[1], m[3]), r.Severity == lint.Error
	}
	return fmt.Sprintf("%s:%s %s missed", file, m[1], m[4]), false
}

// valueFindings moves the findings on the lines of a plain multi-line
// YAML scalar to its key's line when the key's line carries a # want:
// there a # would change the parse, so the expectation stands for the
// whole value (README.md, aks-custom-override-block-server.yaml).
func valueFindings(src []byte, ws map[int][]*want, fs []lint.Finding) []lint.Finding {
	lines := strings.Split(string(src), "\n")
	indent := func(l string) int { return len(l) - len(strings.TrimLeft(l, " ")) }
	owner := map[int]int{}
	for n := range ws {
		key := lines[n-1]
		if c := strings.Index(key, " #"); c >= 0 {
			key = key[:c]
		}
		if !strings.HasSuffix(strings.TrimSpace(key), ":") {
			continue
		}
		for i := n; i < len(lines) && strings.TrimSpace(lines[i]) != "" && indent(lines[i]) > indent(key); i++ {
			owner[i+1] = n
		}
	}
	out := append([]lint.Finding(nil), fs...)
	for i := range out {
		if n, ok := owner[out[i].Line]; ok {
			out[i].Line = n
		}
	}
	return out
}

func TestTheCorpusFindsWhatTheReviewWants(t *testing.T) {
	known := corpusKnown(t)
	seen := map[string]bool{}
	findings, expected := 0, 0
	for _, name := range corpusFiles(t) {
		src, err := os.ReadFile(filepath.Join(corpusDir, name))
		if err != nil {
			t.Fatal(err)
		}
		fs := lintBytes(t, name, src, corpusOptions())
		ws := wants(t, src)
		errs := check("", valueFindings(src, ws, fs), ws)
		unexpected := 0
		for _, err := range errs {
			key, severe := deviation(name, err)
			if strings.Contains(key, " unexpected") {
				unexpected++
			}
			if reason, ok := known[key]; ok {
				seen[key] = true
				t.Logf("known: %s: %v (%s)", name, err, reason)
				continue
			}
			if severe {
				t.Errorf("%s:%v (an error-level finding the review does not want)", name, err)
			} else {
				t.Errorf("%s:%v", name, err)
			}
		}
		findings += len(fs)
		expected += len(fs) - unexpected
	}
	var stale []string
	for k := range known {
		if !seen[k] && (strings.HasSuffix(k, " unexpected") || strings.HasSuffix(k, " missed")) {
			stale = append(stale, k)
		}
	}
	sort.Strings(stale)
	for _, k := range stale {
		t.Errorf("KNOWN.txt lists %q, which no longer happens: remove the line", k)
	}
	t.Logf("corpus precision: %d of %d findings expected (%.1f%%); %d known deviations left", expected, findings, 100*float64(expected)/float64(max(findings, 1)), len(known))
}
