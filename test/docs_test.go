package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/k8slint/k8slint/internal/docstest"
	"github.com/k8slint/k8slint/internal/testenv"
)

// copyRepo copies the repository into a temporary directory
// (docstest.CopyRepo).
func copyRepo(t *testing.T, root string) string {
	t.Helper()
	dst := t.TempDir()
	if err := docstest.CopyRepo(root, dst); err != nil {
		t.Fatal(err)
	}
	return dst
}

// docsBin returns a directory holding the built dnslint, and
// kubectl-dnslint linked to it as make build does.
func docsBin(t *testing.T) string {
	t.Helper()
	bin, err := testenv.Binary("./cmd/dnslint")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"dnslint", "kubectl-dnslint"} {
		if err := os.Link(bin, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// docsPages run here; clusterDocsPages, whose examples need the test
// cluster, in test/cluster (a module of its own, which shares one cluster
// with its other tests).
var (
	docsPages        = []string{"docs/runbooks.md", "docs/ci.md"}
	clusterDocsPages = []string{"docs/operator.md", "docs/sre.md"}
)

// Every page of docs/ with shell examples is run by a test: here, or in
// test/cluster.
func TestEveryDocsPageRunsInATest(t *testing.T) {
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	pages, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	clusterTest, err := os.ReadFile(filepath.Join(root, "test", "cluster", "docs_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, p := range docsPages {
		listed[p] = true
	}
	for _, p := range clusterDocsPages {
		listed[p] = true
		if !strings.Contains(string(clusterTest), `"`+p+`"`) {
			t.Errorf("%s: test/cluster/docs_test.go does not run it", p)
		}
	}
	for _, path := range pages {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		blocks, err := docstest.Parse(filepath.Base(path), src)
		if err != nil {
			t.Error(err)
			continue
		}
		rel := "docs/" + filepath.Base(path)
		if len(blocks) > 0 && !listed[rel] {
			t.Errorf("%s has %d shell examples but no test runs them: add it to docsPages or clusterDocsPages", rel, len(blocks))
		}
	}
}

// The commands of the docs pages run against the built binaries, in a
// copy of the repository, and print what the pages show.
func TestDocsCommandsPrintWhatThePagesShow(t *testing.T) {
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := docsBin(t)
	have := map[string]bool{}
	// kubectl for `kubectl dnslint` (kubectlBinary: the cluster harness's
	// build where it can run).
	t.Run("kubectl", func(t *testing.T) {
		if err := os.Symlink(kubectlBinary(t), filepath.Join(bin, "kubectl")); err != nil {
			t.Fatal(err)
		}
		have["kubectl"] = true
	})
	for _, page := range docsPages {
		t.Run(strings.TrimSuffix(filepath.Base(page), ".md"), func(t *testing.T) {
			dir := copyRepo(t, root)
			home := t.TempDir()
			docstest.Run(t, filepath.Join(root, page), docstest.Options{
				Dir:  dir,
				PATH: []string{bin},
				Env:  []string{"HOME=" + home, "KUBECONFIG=" + filepath.Join(home, "no-kubeconfig"), "NO_COLOR=1"},
				Have: have,
			})
		})
	}
}
