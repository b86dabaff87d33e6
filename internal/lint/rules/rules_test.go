package rules

import (
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/k8slint/k8slint/internal/lint"
)

var update = flag.Bool("update", false, "rewrite .golden files")

// options runs rule r; input rules come from the driver and see every rule.
func options(r lint.Rule) lint.Options {
	rs := []lint.Rule{r}
	if r.Scope == lint.ScopeInput {
		rs = All()
	}
	return lint.Options{
		Config: lint.Config{CoreDNSVersion: lint.DefaultCoreDNSVersion, ClusterDomain: "cluster.local"},
		Rules:  rs,
		Known:  func(id string) bool { _, ok := ByID(id); return ok },
	}
}

// wantRe reads `# want "regexp"`, or `# want `+"`regexp`"+` where a double quote
// would change how the line lexes (inside an unterminated quoted token),
// optionally with the rule ID first: `# want corefile-no-cache "regexp"`.
// More `RULE "regexp"` pairs may follow (wantMoreRe), as the corpus
// writes them: `# want corefile-no-cache "cache" corefile-no-ready "ready"`.
var (
	wantRe     = regexp.MustCompile(`# want (?:([a-z0-9]+(?:-[a-z0-9]+)+) )?` + wantPattern)
	wantMoreRe = regexp.MustCompile(`^\s+([a-z0-9]+(?:-[a-z0-9]+)+) ` + wantPattern)
)

const wantPattern = `(?:"((?:[^"\\]|\\.)*)"|` + "`([^`]*)`)"

// want is one expectation of a testdata line: a finding whose message
// matches re, of rule when it is set.
type want struct {
	rule string
	re   *regexp.Regexp
}

// wants reads the `# want` expectations of src by line.
func wants(t *testing.T, src []byte) map[int][]*want {
	out := map[int][]*want{}
	for i, line := range strings.Split(string(src), "\n") {
		for _, loc := range wantRe.FindAllStringSubmatchIndex(line, -1) {
			for m, rest := submatches(line, loc), line[loc[1]:]; m != nil; {
				expr := strings.ReplaceAll(m[2], `\"`, `"`)
				if m[2] == "" {
					expr = m[3]
				}
				re, err := regexp.Compile(expr)
				if err != nil {
					t.Fatalf("line %d: bad want: %v", i+1, err)
				}
				out[i+1] = append(out[i+1], &want{rule: m[1], re: re})
				if m[1] == "" {
					break
				}
				next := wantMoreRe.FindStringSubmatchIndex(rest)
				if next == nil {
					break
				}
				m, rest = submatches(rest, next), rest[next[1]:]
			}
		}
	}
	return out
}

// submatches returns the texts of the groups located by loc in s.
func submatches(s string, loc []int) []string {
	out := make([]string, len(loc)/2)
	for i := range out {
		if loc[2*i] >= 0 {
			out[i] = s[loc[2*i]:loc[2*i+1]]
		}
	}
	return out
}

// check compares findings of rule id (of every rule when id is "") with
// the wants: every finding must be wanted on its line, every want must be
// met.
func check(id string, fs []lint.Finding, wanted map[int][]*want) []error {
	var errs []error
	met := map[*want]bool{}
	for _, f := range fs {
		if id != "" && f.RuleID != id {
			continue
		}
		ok := false
		for _, w := range wanted[f.Line] {
			if !met[w] && (w.rule == "" || w.rule == f.RuleID) && w.re.MatchString(f.Message) {
				met[w], ok = true, true
				break
			}
		}
		if !ok {
			errs = append(errs, fmt.Errorf("%d:%d: unexpected finding: %s [%s]", f.Line, f.Col, f.Message, f.RuleID))
		}
	}
	var lines []int
	for l := range wanted {
		lines = append(lines, l)
	}
	sort.Ints(lines)
	for _, l := range lines {
		for _, w := range wanted[l] {
			if !met[w] {
				rule := ""
				if w.rule != "" {
					rule = " of " + w.rule
				}
				errs = append(errs, fmt.Errorf("%d: no finding%s matching %q", l, rule, w.re))
			}
		}
	}
	return errs
}

func lintBytes(t *testing.T, path string, src []byte, opts lint.Options) []lint.Finding {
	t.Helper()
	fs, err := lint.Lint(path, src, opts)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// fixAll applies fixes until none is left, as --fix does.
func fixAll(t *testing.T, path string, src []byte, opts lint.Options) []byte {
	t.Helper()
	r, err := lint.FixAll(path, src, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Converged {
		t.Fatalf("%s: fixes did not converge in %d rounds", path, lint.MaxFixRounds)
	}
	return r.Src
}

func inputs(t *testing.T, id string) []string {
	ents, err := os.ReadDir(filepath.Join("testdata", id))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() && !strings.HasSuffix(e.Name(), ".golden") {
			out = append(out, filepath.Join("testdata", id, e.Name()))
		}
	}
	return out
}

// configRe reads `# dnslint-test: cluster-domain=D coredns-version=V
// k8slint=true root=DIR`, the settings a testdata file is linted with
// (defaults: cluster.local, not stated, the linked release, a stock image,
// no root); root is relative to the package.
var configRe = regexp.MustCompile(`# dnslint-test:((?: +[a-z0-9-]+=\S+)+)`)

func fileOptions(t *testing.T, opts lint.Options, src []byte) lint.Options {
	m := configRe.FindSubmatch(src)
	if m == nil {
		return opts
	}
	for _, kv := range strings.Fields(string(m[1])) {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "cluster-domain":
			opts.Config.ClusterDomain, opts.Config.ClusterDomainStated = v, true
		case "root":
			abs, err := filepath.Abs(v)
			if err != nil {
				t.Fatal(err)
			}
			opts.Config.Root = abs
		case "k8slint":
			opts.Config.K8slint = v == "true"
		case "coredns-version":
			ver, err := lint.ParseVersion(v)
			if err != nil {
				t.Fatal(err)
			}
			opts.Config.CoreDNSVersion = ver
		default:
			t.Fatalf("unknown dnslint-test setting %q", k)
		}
	}
	return opts
}

func TestEveryRuleFindsExactlyWhatItsTestdataWants(t *testing.T) {
	for _, r := range All() {
		t.Run(r.ID, func(t *testing.T) {
			for _, path := range inputs(t, r.ID) {
				src, _ := os.ReadFile(path)
				opts := fileOptions(t, options(r), src)
				fs := lintBytes(t, path, src, opts)
				for _, err := range check(r.ID, fs, wants(t, src)) {
					t.Errorf("%s:%v", path, err)
				}
				fixable := false
				for _, f := range fs {
					fixable = fixable || f.RuleID == r.ID && len(f.Fixes) > 0
				}
				golden := path + ".golden"
				if !fixable {
					if _, err := os.Stat(golden); err == nil {
						t.Errorf("%s exists but no finding of %s in %s has a fix", golden, r.ID, path)
					}
					continue
				}
				fixed := fixAll(t, path, src, opts)
				if *update {
					os.WriteFile(golden, fixed, 0o644)
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Errorf("%s has fixable findings but no golden file (go test -update)", path)
					continue
				}
				if string(fixed) != string(want) {
					t.Errorf("%s: fixed output differs from %s:\n%s", path, golden, fixed)
				}
				if again := fixAll(t, path, want, opts); string(again) != string(want) {
					t.Errorf("%s: fixing the golden file changes it again: fixes are not idempotent", golden)
				}
			}
		})
	}
}

func TestTheHarnessReportsUnexpectedAndMissingFindings(t *testing.T) {
	wanted := wants(t, []byte("a\nb # want \"no cache\"\nc\nd\ne # want `never`\n"))
	fs := []lint.Finding{{Line: 2, RuleID: "x", Message: "has no cache"}, {Line: 3, RuleID: "x", Message: "surprise"}, {Line: 3, RuleID: "y", Message: "another rule's"}}
	errs := check("x", fs, wanted)
	if len(errs) != 2 || !strings.Contains(errs[0].Error(), "3:0: unexpected finding: surprise [x]") || !strings.Contains(errs[1].Error(), `5: no finding matching "never"`) {
		t.Fatalf("got %v", errs)
	}
	// Every rule at once, wants naming the rule they expect.
	wanted = wants(t, []byte("a # want rule-x \"one\" # want rule-y `two`\nb # want rule-z \"three\"\n"))
	fs = []lint.Finding{{Line: 1, RuleID: "rule-y", Message: "one two"}, {Line: 1, RuleID: "rule-x", Message: "one"}, {Line: 2, RuleID: "rule-x", Message: "three"}}
	errs = check("", fs, wanted)
	if len(errs) != 2 || !strings.Contains(errs[0].Error(), "2:0: unexpected finding: three [rule-x]") || !strings.Contains(errs[1].Error(), `2: no finding of rule-z matching "three"`) {
		t.Fatalf("every rule: got %v", errs)
	}
	// Pairs after one `# want`, as the corpus writes them.
	wanted = wants(t, []byte("a # want rule-x \"one\" rule-y `two` rule-z \"three\"\n"))
	fs = []lint.Finding{{Line: 1, RuleID: "rule-y", Message: "two"}, {Line: 1, RuleID: "rule-x", Message: "one"}}
	errs = check("", fs, wanted)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), `1: no finding of rule-z matching "three"`) {
		t.Fatalf("pairs: got %v", errs)
	}
}

// tableErrors checks the conventions of a rule table; files maps each
// rule ID to the file that declares its value.
func tableErrors(rs []lint.Rule, hasTestdata func(id string) bool, files map[string]string) []error {
	var errs []error
	seen := map[string]bool{}
	for i, r := range rs {
		if seen[r.ID] {
			errs = append(errs, fmt.Errorf("%s: duplicate ID", r.ID))
		}
		seen[r.ID] = true
		if i > 0 && (rs[i-1].Scope == r.Scope && rs[i-1].ID >= r.ID) {
			errs = append(errs, fmt.Errorf("%s: table not sorted (after %s)", r.ID, rs[i-1].ID))
		}
		if !regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)+$`).MatchString(r.ID) {
			errs = append(errs, fmt.Errorf("%q: IDs are lower-case words joined by dashes", r.ID))
		}
		if r.Title == "" || r.Doc == "" || r.Remediation == "" {
			errs = append(errs, fmt.Errorf("%s: needs a title, a doc and a remediation", r.ID))
		}
		if r.Source == "" || r.Silent == "" {
			errs = append(errs, fmt.Errorf("%s: needs a source (why) and when it is silent", r.ID))
		}
		if (r.Check == nil) != (r.Scope == lint.ScopeInput) {
			errs = append(errs, fmt.Errorf("%s: rules with a check have corefile or workload scope, input rules have none", r.ID))
		}
		if !hasTestdata(r.ID) {
			errs = append(errs, fmt.Errorf("%s: no testdata folder", r.ID))
		}
		if want := fileOf(r.ID); files[r.ID] != want {
			errs = append(errs, fmt.Errorf("%s: declared in %q; a rule lives alone in the file named by its ID, %s", r.ID, files[r.ID], want))
		}
	}
	return errs
}

// fileOf is the file of rule id: pod-ndots-high lives in pod_ndots_high.go.
func fileOf(id string) string { return strings.ReplaceAll(id, "-", "_") + ".go" }

// ruleFiles reads the package's sources and maps each rule ID to the
// file that declares its lint.Rule value; a file that declares two gets
// an error. An ID may be a string or a string constant of package lint.
func ruleFiles(dir string) (map[string]string, []error) {
	fset := token.NewFileSet()
	consts := map[string]string{}
	lintFiles, _ := filepath.Glob(filepath.Join(dir, "..", "*.go"))
	for _, path := range lintFiles {
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return nil, []error{err}
		}
		for _, d := range f.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.CONST {
				for _, spec := range g.Specs {
					vs := spec.(*ast.ValueSpec)
					for i, name := range vs.Names {
						if i < len(vs.Values) {
							if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
								consts[name.Name], _ = strconv.Unquote(lit.Value)
							}
						}
					}
				}
			}
		}
	}
	out := map[string]string{}
	var errs []error
	paths, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return nil, []error{err}
		}
		var ids []string
		ast.Inspect(f, func(n ast.Node) bool {
			cl, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			if sel, ok := cl.Type.(*ast.SelectorExpr); !ok || sel.Sel.Name != "Rule" {
				return true
			}
			for _, e := range cl.Elts {
				kv, ok := e.(*ast.KeyValueExpr)
				if !ok || kv.Key.(*ast.Ident).Name != "ID" {
					continue
				}
				switch v := kv.Value.(type) {
				case *ast.BasicLit:
					id, _ := strconv.Unquote(v.Value)
					ids = append(ids, id)
				case *ast.SelectorExpr:
					ids = append(ids, consts[v.Sel.Name])
				}
			}
			return false
		})
		if len(ids) > 1 {
			errs = append(errs, fmt.Errorf("%s declares %d rules (%s); one rule, one file", filepath.Base(path), len(ids), strings.Join(ids, ", ")))
		}
		for _, id := range ids {
			out[id] = filepath.Base(path)
		}
	}
	return out, errs
}

func TestTheRuleTableFollowsTheConventions(t *testing.T) {
	has := func(id string) bool {
		st, err := os.Stat(filepath.Join("testdata", id))
		return err == nil && st.IsDir()
	}
	files, errs := ruleFiles(".")
	for _, err := range append(errs, tableErrors(All(), has, files)...) {
		t.Error(err)
	}
}

func TestTheTableConventionsCatchABadTable(t *testing.T) {
	good := All()[0]
	bad := []lint.Rule{good, good, {ID: "Bad_ID", Scope: lint.ScopeCorefile}}
	files := map[string]string{good.ID: fileOf(good.ID), "Bad_ID": "pods_insecure.go"}
	errs := tableErrors(bad, func(id string) bool { return id == good.ID }, files)
	joined := errors.Join(errs...).Error()
	for _, want := range []string{"duplicate ID", "not sorted", "lower-case", "needs a title", "needs a source", "input rules have none", "no testdata", `declared in "pods_insecure.go"`} {
		if !strings.Contains(joined, want) {
			t.Errorf("bad table: no error mentioning %q in\n%s", want, joined)
		}
	}
	if strings.Contains(joined, good.ID+": declared") {
		t.Errorf("a rule in its own file is reported:\n%s", joined)
	}
	dir := filepath.Join(t.TempDir(), "rules")
	os.Mkdir(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "two.go"), []byte("package rules\nvar A = lint.Rule{ID: \"a-b\"}\nvar B = lint.Rule{ID: lint.X}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "..", "consts.go"), []byte("package lint\nconst X = \"x-y\"\n"), 0o644)
	if got, errs := ruleFiles(dir); len(errs) != 1 || !strings.Contains(errs[0].Error(), "two.go declares 2 rules (a-b, x-y)") || got["x-y"] != "two.go" {
		t.Errorf("two rules in one file: %v, %v", got, errs)
	}
}
