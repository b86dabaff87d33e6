package test

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/k8slint/k8slint/internal/docstest"
	"github.com/k8slint/k8slint/internal/testenv"
)

// copyRepo copies the repository's files (not bin/ or .git) into a
// temporary directory, where the docs' commands run as in a checkout and
// may change files (dnslint --fix) without touching the real one.
func copyRepo(t *testing.T, root string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if rel == "bin" || rel == ".git" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, info.Mode().Perm())
	})
	if err != nil {
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
	// kubectl for `kubectl dnslint`: $K8SLINT_KUBECTL or the one on PATH.
	kubectl := os.Getenv("K8SLINT_KUBECTL")
	if kubectl == "" {
		kubectl, _ = exec.LookPath("kubectl")
	}
	if kubectl != "" {
		if err := os.Symlink(kubectl, filepath.Join(bin, "kubectl")); err != nil {
			t.Fatal(err)
		}
		have["kubectl"] = true
	}
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
