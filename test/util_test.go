package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/k8slint/k8slint/internal/testcluster"
	"github.com/k8slint/k8slint/internal/testenv"
)

func itoa(n int) string { return strconv.Itoa(n) }

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// kubectlBinary returns the kubectl the tests run: $K8SLINT_KUBECTL if set;
// else, where the test cluster can run (root and its Debian packages), the
// cluster harness's own build (testcluster.KubeBinaries: cached in
// .cache/kube, built once under a lock by whichever test asks first, about
// 10 minutes cold); else kubectl on PATH. Without one the test is skipped,
// saying why, except under CI=true, where the harness's prerequisites are
// installed and a skip would hide a test that never ran.
func kubectlBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("K8SLINT_KUBECTL"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("K8SLINT_KUBECTL=%s: %v", p, err)
		}
		return p
	}
	prereq := testcluster.Prerequisites()
	if prereq == nil {
		root, err := testenv.ModuleRoot()
		if err != nil {
			t.Fatal(err)
		}
		dir, err := testcluster.KubeBinaries(root, t.Logf)
		if err != nil {
			t.Fatalf("kubectl of the cluster harness: %v", err)
		}
		return filepath.Join(dir, "kubectl")
	}
	if p, err := exec.LookPath("kubectl"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but no kubectl: K8SLINT_KUBECTL is unset, none is on PATH, and the cluster harness cannot build one (%v)", prereq)
	}
	t.Skipf("no kubectl: set K8SLINT_KUBECTL, put one on PATH, or run as root with the cluster harness's prerequisites (%v)", prereq)
	return ""
}
