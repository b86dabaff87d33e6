package rules

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/coredns/corefile-migration/migration"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/validate"
)

func newestMigrationRelease(t *testing.T) lint.Version {
	vs := migration.ValidVersions()
	v, err := lint.ParseVersion(vs[len(vs)-1])
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestOurRemovalTableHoldsOnlyWhatCorefileMigrationLacks(t *testing.T) {
	newest := newestMigrationRelease(t)
	for _, r := range removals {
		a := migrationRemoval(newest, r.plugin, r.option)
		switch {
		case r.in == lint.Version{} && !a.removed:
			t.Errorf("%s %s: our table leaves the release to corefile-migration, which does not know it", r.plugin, r.option)
		case r.in != lint.Version{} && a.removed:
			t.Errorf("%s %s: corefile-migration now knows this removal (%s); drop our release %s", r.plugin, r.option, a.in, r.in)
		}
	}
}

func TestCorefileMigrationGivesTheReleasesCoreDNSNotesName(t *testing.T) {
	newest := newestMigrationRelease(t)
	cases := []struct {
		plugin, option, in, replacedBy string
	}{
		{"proxy", "", "1.5.0", "forward"},
		{"kubernetes", "upstream", "1.7.0", ""},
		{"kubernetes", "resyncperiod", "1.7.0", ""},
		{"kubernetes", "transfer", "1.8.0", ""},
	}
	for _, c := range cases {
		a := migrationRemoval(newest, c.plugin, c.option)
		if !a.removed || a.in.String() != c.in || a.replacedBy != c.replacedBy {
			t.Errorf("%s %s: got %+v, want removed in %s, replaced by %q", c.plugin, c.option, a, c.in, c.replacedBy)
		}
	}
	// Deprecated or ignored is not removed: CoreDNS still starts.
	if a := migrationRemoval(newest, "kubernetes", "endpoint"); a.removed {
		t.Errorf("kubernetes endpoint (ignored beyond its first argument) reported removed: %+v", a)
	}
}

// crossCheckCorefile names every removal either table knows.
const crossCheckCorefile = `.:53 {
    kubernetes cluster.local {
        upstream
        resyncperiod 30s
        transfer to *
        endpoint https://10.0.0.1
    }
    proxy . 10.0.0.1
    federation cluster.local {
        prod prod.example.com
    }
    etcd example.org {
        upstream
    }
    file db.example.org {
        upstream
    }
    auto {
        upstream
    }
}
`

// TestRemovedOptionAgreesWithCorefileMigrationAtEveryRelease runs the rule
// at every release corefile-migration knows and requires exactly its
// removals (from its own parser, on the whole Corefile) plus ours.
func TestRemovedOptionAgreesWithCorefileMigrationAtEveryRelease(t *testing.T) {
	vs := migration.ValidVersions()
	for _, s := range vs[1:] {
		v, err := lint.ParseVersion(s)
		if err != nil {
			t.Fatal(err)
		}
		notices, err := migration.Deprecated(vs[0], s, crossCheckCorefile)
		if err != nil {
			t.Fatal(err)
		}
		// Notices come release by release; a removal repeats while the
		// tables still list it: the first names the release.
		want, seen := map[string]bool{}, map[string]bool{}
		for _, n := range notices {
			if n.Severity == migration.SevRemoved && !seen[n.Plugin+"/"+n.Option] {
				seen[n.Plugin+"/"+n.Option] = true
				want[fmt.Sprintf("%s/%s in %s", n.Plugin, n.Option, n.Version)] = true
			}
		}
		for _, r := range removals {
			if r.in != (lint.Version{}) && !v.Less(r.in) {
				want[fmt.Sprintf("%s/%s in %s", r.plugin, r.option, r.in)] = true
			}
		}
		got := map[string]bool{}
		opts := options(RemovedOption)
		opts.Config.CoreDNSVersion = v
		for _, f := range lintBytes(t, "x.Corefile", []byte(crossCheckCorefile), opts) {
			m := removedMsg.FindStringSubmatch(f.Message)
			if m == nil {
				t.Fatalf("%s: unexpected message %q", s, f.Message)
			}
			got[fmt.Sprintf("%s%s/%s in %s", m[1], m[2], m[3], m[4])] = true
		}
		if g, w := keys(got), keys(want); g != w {
			t.Errorf("CoreDNS %s:\n dnslint            %s\n migration + ours   %s", s, g, w)
		}
	}
}

var removedMsg = regexp.MustCompile(`^(?:plugin (\S+)|(\S+) option (\S+)) was removed in CoreDNS (\S+): `)

func keys(m map[string]bool) string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

func TestRemovedOptionFollowsCoreDNSVersion(t *testing.T) {
	src := []byte(".:53 {\n    kubernetes cluster.local {\n        upstream\n        transfer to *\n    }\n    proxy . 10.0.0.1\n}\n")
	cases := []struct {
		version string
		want    []string
	}{
		{"1.4.0", nil},
		{"1.5.0", []string{"plugin proxy was removed in CoreDNS 1.5.0"}},
		{"1.6.9", []string{"plugin proxy was removed in CoreDNS 1.5.0"}},
		{"1.7.0", []string{"kubernetes option upstream was removed in CoreDNS 1.7.0", "plugin proxy was removed in CoreDNS 1.5.0"}},
		{"1.8.1", []string{"kubernetes option upstream was removed in CoreDNS 1.7.0", "kubernetes option transfer was removed in CoreDNS 1.8.0", "plugin proxy was removed in CoreDNS 1.5.0"}},
		// Newer than corefile-migration's newest release: its newest answer.
		{"1.99.0", []string{"kubernetes option upstream was removed in CoreDNS 1.7.0", "kubernetes option transfer was removed in CoreDNS 1.8.0", "plugin proxy was removed in CoreDNS 1.5.0"}},
	}
	for _, c := range cases {
		v, err := lint.ParseVersion(c.version)
		if err != nil {
			t.Fatal(err)
		}
		opts := options(RemovedOption)
		opts.Config.CoreDNSVersion = v
		var got []string
		for _, f := range lintBytes(t, "x.Corefile", src, opts) {
			got = append(got, f.Message[:strings.IndexByte(f.Message, ':')])
		}
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("--coredns-version %s:\n got  %q\n want %q", c.version, got, c.want)
		}
	}
}

func TestRemovedOptionNamesOnlyTheRemovedValueOfProxyProtocol(t *testing.T) {
	src := []byte(". {\n    proxy . 10.0.0.1 {\n        protocol https_google\n    }\n    proxy example.org 10.0.0.2 {\n        protocol dns\n    }\n}\n")
	opts := options(RemovedOption)
	opts.Config.CoreDNSVersion = lint.Version{1, 4, 0}
	var got []string
	for _, f := range lintBytes(t, "x.Corefile", src, opts) {
		got = append(got, fmt.Sprintf("%d: %s", f.Line, f.Message))
	}
	if len(got) != 1 || !strings.HasPrefix(got[0], "3: proxy option protocol was removed") {
		t.Errorf("got %q, want one finding on line 3", got)
	}
}

// corefile-invalid stays silent where corefile-removed-option reports (one
// defect, one finding); this pins that CoreDNS really rejects those lines,
// so the removed-option finding stands for the rejection.
func TestCoreDNSRejectsWhatRemovedOptionReports(t *testing.T) {
	paths, _ := filepath.Glob("testdata/corefile-invalid/removed-*.Corefile")
	if len(paths) < 4 {
		t.Fatalf("found %d removed-*.Corefile inputs, want at least 4", len(paths))
	}
	for _, path := range paths {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if r := validate.Check("Corefile", src); r.Err == nil {
			t.Errorf("%s: CoreDNS accepts it", path)
		}
		fs := lintBytes(t, path, src, options(RemovedOption))
		if len(fs) != 1 {
			t.Errorf("%s: %d corefile-removed-option findings, want 1", path, len(fs))
		}
	}
}
