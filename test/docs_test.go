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
	for _, page := range []string{"docs/runbooks.md", "docs/ci.md"} {
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
