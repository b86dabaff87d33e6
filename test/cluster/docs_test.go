package cluster

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/k8slint/k8slint/internal/docstest"
	"github.com/k8slint/k8slint/internal/testcluster"
)

// normalizeDocs masks what differs from run to run in the pages' outputs:
// pod and ReplicaSet names, image digests, kubectl diff's temporary
// directories.
func normalizeDocs(s string) string {
	for _, r := range []struct {
		re   *regexp.Regexp
		with string
	}{
		{regexp.MustCompile(`coredns-[a-z0-9]{6,10}-[a-z0-9]{5}\b`), "coredns-POD"},
		{regexp.MustCompile(`sha256:[0-9a-f]{64}`), "sha256:DIGEST"},
		{regexp.MustCompile(`/tmp/(LIVE|MERGED)-[0-9]+`), "/tmp/$1-N"},
	} {
		s = r.re.ReplaceAllString(s, r.with)
	}
	return s
}

// runPage runs the shell examples of a docs page on the shared cluster,
// from the repository copy whose bin/ make build and make cluster-up
// filled, with the admin kubeconfig, while a pod resolves through kube-dns:
// no lookup may fail.
func runPage(t *testing.T, page string) {
	t.Helper()
	rc := testcluster.StartResolving(env.client, 20*time.Millisecond)
	defer func() {
		rc.Stop()
		t.Logf("client: %d lookups, %d retried, %d failed", rc.Lookups(), rc.Retried(), rc.Failed())
		if n := rc.Failed(); n > 0 {
			t.Errorf("%d lookups failed while the page's commands ran:\n%s", n, strings.Join(rc.Failures(), "\n"))
		}
	}()
	docstest.Run(t, filepath.Join(env.root, page), docstest.Options{
		Dir:       env.repo,
		PATH:      []string{filepath.Join(env.repo, "bin")},
		Env:       []string{"HOME=" + t.TempDir(), "KUBECONFIG=" + filepath.Join(env.repo, "bin", "cluster", "kubeconfig"), "NO_COLOR=1"},
		Have:      map[string]bool{"cluster": true, "kubectl": true},
		Normalize: normalizeDocs,
		Timeout:   5 * time.Minute,
	})
}

// docs/operator.md, from the cluster as make cluster-up leaves it: import
// the image, save and lint the ConfigMap, add k8slint with dnslint's fix,
// apply the overlay server-side, check, roll back.
func TestTheOperatorPage(t *testing.T) {
	need(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := stockCoreDNS(ctx); err != nil {
		t.Fatal(err)
	}
	runPage(t, "docs/operator.md")
}
