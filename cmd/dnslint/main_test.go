package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/rules"
)

func TestParseLintReadsFlagsBeforeAndAfterPaths(t *testing.T) {
	// def is the command line with paths and everything else as set
	// by change, the defaults otherwise.
	def := func(paths []string, change func(*lintCmd)) lintCmd {
		c := lintCmd{paths: paths, format: "text", failOn: lint.Warning, version: lint.DefaultCoreDNSVersion, settings: settings{clusterDomain: "cluster.local"}}
		change(&c)
		return c
	}
	cases := []struct {
		name    string
		args    []string
		want    lintCmd
		wantErr string
	}{
		{name: "defaults", args: []string{"a"}, want: def([]string{"a"}, func(*lintCmd) {})},
		{name: "flags after paths", args: []string{"a", "--format", "json", "b", "--fail-on=info", "--disable", "x,y", "--disable=z"},
			want: def([]string{"a", "b"}, func(c *lintCmd) { c.format, c.failOn, c.disable = "json", lint.Info, []string{"x", "y", "z"} })},
		{name: "version and fix", args: []string{"--coredns-version", "v1.6", "--fix", "--diff", "--cluster-domain", "k.local", "-"},
			want: def([]string{"-"}, func(c *lintCmd) {
				c.version, c.clusterDomain, c.clusterDomainStated, c.fix, c.diff = lint.Version{1, 6, 0}, "k.local", true, true, true
			})},
		{name: "a path after --", args: []string{"--fix", "--", "--odd-name"}, want: def([]string{"--odd-name"}, func(c *lintCmd) { c.fix = true })},
		{name: "no path", args: nil, wantErr: "no PATH"},
		{name: "root not a directory", args: []string{"--root", "/nonexistent/dnslint", "a"}, wantErr: "--root /nonexistent/dnslint: not a directory"},
		{name: "bad format", args: []string{"--format", "xml", "a"}, wantErr: `unknown format "xml" (want text, json or sarif)`},
		{name: "bad severity", args: []string{"--fail-on", "fatal", "a"}, wantErr: "--fail-on: unknown severity"},
		{name: "bad version", args: []string{"--coredns-version", "one", "a"}, wantErr: "--coredns-version: bad CoreDNS version"},
		{name: "unknown flag", args: []string{"--frobnicate", "a"}, wantErr: "frobnicate"},
	}
	for _, c := range cases {
		checkParse(t, c.name, c.args, c.want, c.wantErr, parseLint)
	}
}

func TestParseRulesAndExplainReadTheirOwnCommandLines(t *testing.T) {
	if f, err := parseRules([]string{"--format", "markdown"}); err != nil || f != "markdown" {
		t.Errorf("rules --format markdown: %q, %v", f, err)
	}
	if f, err := parseRules(nil); err != nil || f != "text" {
		t.Errorf("rules: %q, %v", f, err)
	}
	if id, err := parseExplain([]string{"corefile-no-cache"}); err != nil || id != "corefile-no-cache" {
		t.Errorf("explain: %q, %v", id, err)
	}
	for _, c := range []struct {
		parse func([]string) (string, error)
		args  []string
		err   string
	}{
		{parseRules, []string{"--format", "json"}, `unknown format "json" (want text or markdown)`},
		{parseRules, []string{"x"}, "rules takes no arguments"},
		{parseRules, []string{"--fail-on", "info"}, "not defined: -fail-on"},
		{parseExplain, nil, "exactly one"},
		{parseExplain, []string{"a", "b"}, "exactly one"},
	} {
		if _, err := c.parse(c.args); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%q: err %v, want %q", c.args, err, c.err)
		}
	}
}

func TestHelpPrintsTheUsageAndSucceedsForEveryCommand(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"rules", "-h"}, {"explain", "--help"}, {"explain-lookup", "-help"}} {
		code, out, errs := runCLI(t, "", args...)
		if code != exitOK || !strings.HasPrefix(out, "usage: dnslint [flags] PATH...") || errs != "" {
			t.Errorf("%q: exit %d, stderr %q, stdout %.40q", args, code, errs, out)
		}
	}
	code, out, errs := runCLI(t, "", "--frobnicate", "a")
	if code != exitUsage || out != "" || !strings.HasPrefix(errs, "dnslint: flag provided but not defined: -frobnicate\nusage: dnslint") {
		t.Errorf("unknown flag: exit %d, stdout %q, stderr %.80q", code, out, errs)
	}
}

func TestDocsRulesMdIsGeneratedFromTheTable(t *testing.T) {
	got, err := os.ReadFile("../../docs/rules.md")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != markdown(rules.All()) {
		t.Fatal("docs/rules.md is stale: run `go run ./cmd/dnslint rules --format markdown > docs/rules.md`")
	}
}

func TestTheStaleDocsCheckNoticesAChangedRule(t *testing.T) {
	rs := rules.All()
	rs[0].Title += " (changed)"
	if markdown(rs) == markdown(rules.All()) {
		t.Fatal("markdown ignores a rule's title")
	}
}

func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

const brokenConfigMap = `apiVersion: v1
kind: ConfigMap
metadata:
  name: coredns
  namespace: kube-system
data:
  # the cluster's Corefile
  Corefile: |
    .:53 {
        errors
        health
        ready
        k8slint
        kubernetes cluster.local in-addr.arpa ip6.arpa {
            fallthrough in-addr.arpa ip6.arpa
        }
        prometheus :9153
        forward . 10.0.0.1 {
            max_concurrent 1000
        }
        cache 30
        loop
        reload
    }
  other: "kept"
`

func TestAFindingInAConfigMapPointsIntoTheYAMLFile(t *testing.T) {
	code, out, _ := runCLI(t, brokenConfigMap, "--fail-on", "info", "-")
	want := "-:11:9: info: health has no lameduck: CoreDNS drops queries on every restart [corefile-health-without-lameduck] (ConfigMap kube-system/coredns, key Corefile) [fixable]\n"
	if out != want || code != exitFindings {
		t.Fatalf("exit %d, output:\n%s\nwant:\n%s", code, out, want)
	}
}

func TestFixEditsOnlyTheBytesItMustAndIsIdempotent(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "coredns.yaml")
	if err := os.WriteFile(p, []byte(brokenConfigMap), 0o640); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := runCLI(t, "", "--fix", p); code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	got, _ := os.ReadFile(p)
	want := strings.Replace(brokenConfigMap, "        health\n", "        health {\n            lameduck 5s\n        }\n", 1)
	if string(got) != want {
		t.Fatalf("fixed file:\n%s\nwant:\n%s", got, want)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", st.Mode().Perm())
	}
	if code, out, _ := runCLI(t, "", "--diff", p); code != exitOK || out != "" {
		t.Fatalf("second run not clean: exit %d\n%s", code, out)
	}
}

func TestDiffPrintsTheFixWithoutWriting(t *testing.T) {
	code, out, _ := runCLI(t, ".:53 {\n    forward . 10.0.0.1 {\n        max_concurrent 10\n    }\n    hosts /etc/hosts\n    cache 30\n}\n", "--enable", "corefile-hosts-without-fallthrough", "--diff", "-")
	want := "--- -\n+++ -\n@@ -2,6 +2,8 @@\n     forward . 10.0.0.1 {\n         max_concurrent 10\n     }\n-    hosts /etc/hosts\n+    hosts /etc/hosts {\n+        fallthrough\n+    }\n     cache 30\n }\n"
	if code != exitOK || out != want {
		t.Fatalf("exit %d\n%s\nwant\n%s", code, out, want)
	}
}

func TestExitCodesFollowFailOn(t *testing.T) {
	in := ".:53 {\n    kubernetes cluster.local {\n        pods insecure\n    }\n    k8slint\n    ready\n    reload\n    prometheus :9153\n    cache 30\n}\n"
	if code, out, _ := runCLI(t, in, "--enable", "corefile-pods-insecure", "-"); code != exitOK {
		t.Errorf("info finding failed at the default --fail-on: %d\n%s", code, out)
	}
	if code, _, _ := runCLI(t, in, "--enable", "corefile-pods-insecure", "--fail-on", "info", "-"); code != exitFindings {
		t.Errorf("--fail-on info: exit %d, want 1", code)
	}
	if code, _, _ := runCLI(t, in, "--disable", "nope", "-"); code != exitUsage {
		t.Errorf("unknown rule: exit %d, want 2", code)
	}
	if code, _, _ := runCLI(t, in, "/does/not/exist"); code != exitUsage {
		t.Errorf("missing file: exit %d, want 2", code)
	}
}

func TestExplainPrintsTheRuleDoc(t *testing.T) {
	code, out, _ := runCLI(t, "", "explain", "corefile-no-cache")
	if code != exitOK || !strings.HasPrefix(out, "corefile-no-cache (warning): server block without cache\n") || !strings.Contains(out, "Remediation: Add `cache 30`.") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}

func TestRootChecksTheFilesACorefileNamesUnderItAndOnlyThen(t *testing.T) {
	dir := t.TempDir()
	cf := filepath.Join(dir, "Corefile")
	body := ".:53 {\n    hosts /etc/coredns/NodeHosts {\n        fallthrough\n    }\n    import custom/*.override\n    forward . 127.0.0.1:15353\n}\n"
	if err := os.WriteFile(cf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "pod")
	if err := os.MkdirAll(filepath.Join(root, "etc", "coredns", "custom"), 0o755); err != nil {
		t.Fatal(err)
	}
	lintIt := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := run(append(append([]string{"--enable", "corefile-setup-warning,corefile-invalid"}, args...), cf), nil, &out, &errb)
		return code, out.String() + errb.String()
	}
	// Without --root the pod's files are not checked.
	if code, out := lintIt(); code != exitOK || out != "" {
		t.Fatalf("without --root: exit %d, output %q; want 0 and nothing", code, out)
	}
	// Under --root the hosts file is missing: CoreDNS's warning.
	code, out := lintIt("--root", root)
	if code != exitFindings || !strings.Contains(out, "File does not exist: "+filepath.Join(root, "etc/coredns/NodeHosts")) {
		t.Fatalf("--root without NodeHosts: exit %d, output %q", code, out)
	}
	// With the file and a bad imported snippet under --root, CoreDNS's
	// refusal of the snippet, as resolved from /etc/coredns.
	os.WriteFile(filepath.Join(root, "etc/coredns/NodeHosts"), []byte("10.0.0.1 node-1\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/coredns/custom/x.override"), []byte("forwardd . 10.0.0.1\n"), 0o644)
	code, out = lintIt("--root", root)
	if code != exitFindings || !strings.Contains(out, "Unknown directive 'forwardd'") || strings.Contains(out, "File does not exist") {
		t.Fatalf("--root with a bad snippet: exit %d, output %q", code, out)
	}
}

// checkParse checks one case of a subcommand's parse function: the error
// it must give (wantErr, a substring), or the settings it must return.
func checkParse[T any](t *testing.T, name string, args []string, want T, wantErr string, parse func([]string) (T, error)) {
	t.Helper()
	got, err := parse(args)
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: err = %v, want %q", name, err, wantErr)
		}
		return
	}
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", name, got, want)
	}
}
