package cluster

import (
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/k8slint/k8slint/internal/docstest"
	"github.com/k8slint/k8slint/internal/testcluster"
)

// normalizeDocs masks what differs from run to run in the pages' outputs:
// pod names, image digests, kubectl diff's temporary directories, pod
// addresses, k8slint's report window (its interval, give or take a
// second), the window dnslint cluster read and the queries of every
// client in it (the test's own resolving client among them).
func normalizeDocs(s string) string {
	for _, r := range []struct {
		re   *regexp.Regexp
		with string
	}{
		{regexp.MustCompile(`coredns-[a-z0-9]{6,10}-[a-z0-9]{5}\b`), "coredns-POD"},
		{regexp.MustCompile(`sha256:[0-9a-f]{64}`), "sha256:DIGEST"},
		{regexp.MustCompile(`/tmp/(LIVE|MERGED)-[0-9]+`), "/tmp/$1-N"},
		{regexp.MustCompile(`\b10\.88\.0\.(1[0-9][0-9]|200)\b`), "POD-IP"},                              // the CNI's pod addresses
		{regexp.MustCompile(`report on (\S+) for the last [0-9]+s`), "report on $1 for the last Ns"},    // the report's window, to the second
		{regexp.MustCompile(`(CoreDNS pod\(s\)), [0-9hms.]+: [0-9]+ queries`), "$1, WINDOW: N queries"}, // dnslint cluster's window, and its queries of every client
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

// toolboxOnce builds and imports the toolbox images make cluster-up
// imports (a glibc image with getent, a musl one) once.
var toolboxOnce struct {
	sync.Once
	err error
}

// docs/sre.md, on the cluster as operator.md leaves it (coredns-custom
// with k8slint, the coredns-k8slint Service) with one replica and
// `k8slint { report :9154; attribution }`, as the page says.
func TestTheSREPage(t *testing.T) {
	c := need(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if _, err := exec.LookPath("musl-gcc"); err != nil {
		t.Fatal("the toolbox images need musl-gcc (Debian musl-tools)")
	}
	toolboxOnce.Do(func() {
		toolboxOnce.err = c.ToolboxImages(ctx, filepath.Join(env.root, "test", "testdata", "resolvers", "gai.c"))
	})
	if toolboxOnce.err != nil {
		t.Fatal(toolboxOnce.err)
	}
	corefile, err := testcluster.KubeadmCorefile(env.root, true)
	if err != nil {
		t.Fatal(err)
	}
	corefile = strings.Replace(corefile, "    k8slint\n", "    k8slint {\n        report :9154\n        attribution\n    }\n", 1)
	if !strings.Contains(corefile, "report :9154") {
		t.Fatalf("no k8slint line in kubeadm's Corefile:\n%s", corefile)
	}
	if err := c.DeployCoreDNS(ctx, testcluster.CoreDNS{
		Image: CustomImage, Corefile: corefile, Replicas: 1,
		RollOnCorefile: true,
	}); err != nil {
		t.Fatal(err)
	}
	kubectl(t, "", "apply", "--server-side", "--field-manager=k8slint", "-f", filepath.Join(env.root, "deploy", "kustomize", "coredns-custom", "service.yaml"))
	defer func() {
		kubectl(t, "", "delete", "namespace", "shop", "--ignore-not-found", "--wait=false")
		if err := stockCoreDNS(ctx); err != nil {
			t.Error(err)
		}
	}()
	runPage(t, "docs/sre.md")
}
