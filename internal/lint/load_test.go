package lint_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/rules"
)

func allRules() lint.Options {
	return lint.Options{Config: lint.Config{CoreDNSVersion: lint.DefaultCoreDNSVersion}, Rules: rules.All(),
		Known: func(id string) bool { _, ok := rules.ByID(id); return ok }}
}

// checkPositions asserts that every token of every unit maps into the file
// and, where the mapping is exact, onto the token's own text.
func checkPositions(t *testing.T, in *lint.Input) {
	t.Helper()
	for _, u := range in.Units {
		for _, tok := range u.Corefile.Tokens {
			off := u.ToFile(tok.Offset)
			if off < 0 || off > len(in.Src) {
				t.Fatalf("token %q maps to %d, outside %d bytes", tok.Text, off, len(in.Src))
			}
			// A carriage return inside a token is dropped, not a separator,
			// exactly as caddy's lexer does ("0\r0" reads "00").
			span := bytes.ReplaceAll(in.Src[off:min(off+tok.End-tok.Offset, len(in.Src))], []byte("\r"), nil)
			if u.Context == "" && !tok.Quoted && utf8.Valid(in.Src[tok.Offset:tok.End]) && string(span) != tok.Text {
				t.Fatalf("token %q at %d does not match the file", tok.Text, off)
			}
		}
	}
}

var corefileSeeds = []string{
	".:53 {\n    forward . 10.0.0.1\n}\n",
	"example.org {\n  file \"db x\" {\n    reload 1s\n  }\n}\n",
	".:53\nwhoami\n",
	".:53 { # c\n  # dnslint:ignore corefile-no-cache why\n  forward . {$UPSTREAM}\n}",
	"a, b\nc {\n}\n}\n{\n",
	"\"unterminated\n",
	"\xff\xfe\x00garbage{{{}}}",
}

func FuzzLoadCorefile(f *testing.F) {
	for _, s := range corefileSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		in, err := lint.Load("fuzz.Corefile", src)
		if err != nil {
			return
		}
		checkPositions(t, in)
		opts := allRules()
		opts.Rules = withoutInvalid(opts.Rules) // CoreDNS's own parser is not ours to fuzz
		lint.Run(in, opts)
	})
}

var manifestSeeds = []string{
	"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  Corefile: |\n    .:53 {\n        health\n    }\n",
	"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  data:\n    x.server: |\n      a:53 {\n\n        whoami\n      }\n",
	"{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"data\":{\"Corefile\":\".:53 {\\n health\\n}\\n\"}}",
	"---\napiVersion: v1\nkind: ConfigMap\ndata:\n  Corefile: >\n    .:53 {\n    }\n---\nkind: [\n",
	"a: &a [x]\nb: &b [*a, *a]\n",
}

func FuzzLoadManifest(f *testing.F) {
	for _, s := range manifestSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		in, err := lint.Load("fuzz.yaml", src)
		if err != nil {
			return
		}
		checkPositions(t, in)
		opts := allRules()
		opts.Rules = withoutInvalid(opts.Rules)
		fs := lint.Run(in, opts)
		// Fixes must apply cleanly to the file they point into.
		if _, _, err := lint.Fixed(src, fs); err != nil {
			t.Fatalf("fixes do not apply: %v", err)
		}
	})
}

func withoutInvalid(rs []lint.Rule) []lint.Rule {
	var out []lint.Rule
	for _, r := range rs {
		// CoreDNS's own parser and plugin setups are not ours to fuzz
		// (and they read the files a Corefile names).
		if r.ID != "corefile-invalid" && r.ID != "corefile-malformed" && r.ID != "corefile-setup-warning" {
			out = append(out, r)
		}
	}
	return out
}

func TestAnExactConfigMapMappingPointsEveryTokenAtItsYAMLBytes(t *testing.T) {
	src := []byte(manifestSeeds[1])
	in, err := lint.Load("m.yaml", src)
	if err != nil || len(in.Units) != 1 {
		t.Fatalf("%v %d units", err, len(in.Units))
	}
	u := in.Units[0]
	for _, tok := range u.Corefile.Tokens {
		off := u.ToFile(tok.Offset)
		if !bytes.HasPrefix(src[off:], []byte(tok.Text)) {
			t.Errorf("token %q maps to %q", tok.Text, src[off:min(off+10, len(src))])
		}
	}
}

// hangGuard bounds one hostile input's load and run. It is no speed
// target (make bench measures speed against a baseline of the same run):
// an alias bomb expanded or a recursion without bound takes hours, so a
// minute tells a hang from a slow, loaded machine.
const hangGuard = time.Minute

func TestHostileInputGivesAFindingOrAnErrorWithoutHanging(t *testing.T) {
	deepBraces := ".:53 {\n" + strings.Repeat("a {\n", 100000) + "\n"
	deepYAML := "a: " + strings.Repeat("[", 100000) + "\n"
	bomb := "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
	for i, p := 'b', 'a'; i <= 'j'; i, p = i+1, i {
		bomb += string(i) + ": &" + string(i) + " [" + strings.Repeat("*"+string(p)+",", 8) + "*" + string(p) + "]\n"
	}
	bomb = "apiVersion: v1\nkind: ConfigMap\n" + bomb
	junk := make([]byte, 1<<20)
	for i := range junk {
		junk[i] = byte(i*7919 + i>>3)
	}
	cases := []struct {
		name, path string
		src        []byte
		wantErr    bool
	}{
		{"binary junk", "junk.Corefile", junk, false},
		{"invalid UTF-8", "bad.Corefile", []byte(".:53 {\n  \xff\xfe forward . 1.1.1.1\n}\n"), false},
		{"unterminated block", "open.Corefile", []byte(".:53 {\n  whoami\n"), false},
		{"deeply nested braces", "deep.Corefile", []byte(deepBraces), false},
		{"deeply nested YAML", "deep.yaml", []byte(deepYAML), false},
		{"YAML alias bomb", "bomb.yaml", []byte(bomb), false},
		{"50 MB file", "huge.Corefile", bytes.Repeat([]byte("# padding\n"), 5<<20), true},
	}
	for _, c := range cases {
		type outcome struct {
			fs  []lint.Finding
			err error
		}
		done := make(chan outcome, 1)
		go func() {
			in, err := lint.Load(c.path, c.src)
			if err != nil {
				done <- outcome{err: err}
				return
			}
			done <- outcome{fs: lint.Run(in, allRules())}
		}()
		var o outcome
		select {
		case o = <-done:
		case <-time.After(hangGuard):
			t.Fatalf("%s: no result after %s: the input makes dnslint hang", c.name, hangGuard)
		}
		fs, err := o.fs, o.err
		if c.wantErr {
			if err == nil || !strings.Contains(err.Error(), c.path) {
				t.Errorf("%s: err = %v, want an error naming the file", c.name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if len(fs) == 0 && c.name != "YAML alias bomb" {
			t.Errorf("%s: no finding", c.name)
		}
		for _, f := range fs {
			if f.Line < 1 || f.Col < 1 {
				t.Errorf("%s: finding without a position: %+v", c.name, f)
			}
		}
	}
}

func TestRealWorldManifestsLoadWithoutPanicsAndWithPositions(t *testing.T) {
	// shared/ sits beside the checkout: ../../../shared from this package.
	paths, _ := filepath.Glob("../../../shared/corpus/*.yaml")
	if len(paths) == 0 {
		paths, _ = filepath.Glob("/work/shared/corpus/*.yaml")
	}
	if len(paths) == 0 {
		t.Skip("no shared/corpus beside the checkout")
	}
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		in, err := lint.Load(p, src)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		checkPositions(t, in)
		for _, f := range lint.Run(in, allRules()) {
			if f.RuleID == "manifest-invalid" && f.Line < 1 {
				t.Errorf("%s: parse error without a line: %+v", p, f)
			}
		}
	}
}
