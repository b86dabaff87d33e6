package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/k8slint/k8slint/internal/docstest"
	"github.com/k8slint/k8slint/internal/image"
	"github.com/k8slint/k8slint/internal/testcluster"
	"github.com/k8slint/k8slint/internal/testenv"
)

// CustomImage is coredns-custom (the binary under test, image.CoreDNSSpec)
// under the name deploy/kustomize/coredns-custom gives the Deployment:
// make image names it docker.io/k8slint/coredns-custom:VERSION, VERSION
// being "dev" outside a git checkout.
const CustomImage = "docker.io/k8slint/coredns-custom:dev"

// env is what the tests of the package share: one cluster, started by the
// first test that needs it, in the state `make cluster-up` leaves (the
// stock CoreDNS v1.15.0 with kubeadm's Corefile), inside a copy of the
// repository whose bin/ holds what make build and make cluster-up put
// there (dnslint, kubectl-dnslint, kubectl, cluster/kubeconfig), so that
// the docs' commands run there as written.
var env struct {
	once    sync.Once
	err     error  // the cluster could not start
	skip    string // the cluster cannot run here
	root    string // the repository
	work    string // temporary directory holding repo/
	repo    string // the copy of the repository
	coredns string // coredns-custom binary
	dnslint string // dnslint binary
	c       *testcluster.Cluster
	client  *testenv.Netns // a hand-made pod (10.88.0.31), ClusterFirst in namespace default
	started time.Duration
}

// clusterFirst is the resolv.conf kubelet writes for a ClusterFirst pod in
// namespace default.
const clusterFirst = "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"

func TestMain(m *testing.M) {
	code := m.Run()
	if env.c != nil {
		if err := env.c.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "cluster: tear-down: %v\n", err)
			code = 1
		}
		if code == 0 {
			os.RemoveAll(env.work)
		} else {
			fmt.Fprintf(os.Stderr, "cluster: the cluster's logs are in %s\n", env.c.LogFile("*"))
		}
	}
	// CI installs everything the cluster needs: there, a skip is a failure.
	if env.skip != "" && os.Getenv("CI") == "true" {
		fmt.Fprintf(os.Stderr, "cluster: CI=true but the cluster tests cannot run: %s\n", env.skip)
		code = 1
	}
	os.Exit(code)
}

// need returns the shared cluster, starting it on first use, or skips the
// test saying why there is none.
func need(t *testing.T) *testcluster.Cluster {
	t.Helper()
	env.once.Do(start)
	if env.err != nil {
		t.Fatal(env.err)
	}
	if env.c == nil {
		t.Skip(env.skip)
	}
	t.Cleanup(func() {
		if t.Failed() {
			env.c.DumpLogs(os.Stderr, 15)
		}
	})
	return env.c
}

func start() {
	var err error
	if env.root, err = testenv.ModuleRoot(); err != nil {
		env.err = err
		return
	}
	if err := testcluster.Prerequisites(); err != nil {
		env.skip = err.Error()
		return
	}
	if env.coredns, err = testenv.Binary("./cmd/coredns-custom"); err != nil {
		env.err = err
		return
	}
	if env.dnslint, err = testenv.Binary("./cmd/dnslint"); err != nil {
		env.err = err
		return
	}
	if env.work, err = os.MkdirTemp("", "k8slint-cl-"); err != nil {
		env.err = err
		return
	}
	env.repo = filepath.Join(env.work, "repo")
	if err := docstest.CopyRepo(env.root, env.repo); err != nil {
		env.err = err
		return
	}
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	logf := func(f string, a ...any) { fmt.Fprintf(os.Stderr, "cluster: "+f+"\n", a...) }
	state := filepath.Join(env.repo, "bin", "cluster")
	env.c, err = testcluster.Start(ctx, testcluster.Options{Root: env.root, StateDir: state, CoreDNS: env.coredns, Logf: logf})
	if err != nil {
		env.err = fmt.Errorf("cluster: %w", err)
		return
	}
	if err := setup(ctx, state); err != nil {
		env.c.DumpLogs(os.Stderr, 30)
		env.err = fmt.Errorf("cluster setup: %w", err)
		return
	}
	env.started = time.Since(t0)
	logf("cluster and images ready in %s", env.started.Round(time.Second))
}

// setup imports the images, deploys the stock CoreDNS as make cluster-up
// does and fills the copy's bin/.
func setup(ctx context.Context, state string) error {
	c := env.c
	stock, err := testcluster.StockCoreDNSImage(env.root, filepath.Join(env.work, "images"))
	if err != nil {
		return err
	}
	// bin/coredns-custom.oci.tar as make image writes it, but for
	// linux/amd64 only and of the binary under test (make image's
	// cross-compiled -trimpath builds take about 10 minutes cold).
	custom, err := testcluster.CoreDNSImage(CustomImage, env.coredns)
	if err != nil {
		return err
	}
	idx, err := image.Build(*custom.Spec)
	if err != nil {
		return err
	}
	tar := filepath.Join(env.repo, "bin", "coredns-custom.oci.tar")
	if err := image.Write(tar, CustomImage, idx, custom.Spec.Created); err != nil {
		return err
	}
	if err := c.ImportImages(ctx, stock, testcluster.Image{Ref: CustomImage, Tar: tar}); err != nil {
		return err
	}
	if err := stockCoreDNS(ctx); err != nil {
		return err
	}
	bin := filepath.Join(env.repo, "bin")
	for name, target := range map[string]string{
		"dnslint": env.dnslint, "kubectl-dnslint": env.dnslint, "coredns-custom": env.coredns,
		"kubectl": filepath.Join(c.Bin, "kubectl"),
	} {
		if err := os.Symlink(target, filepath.Join(bin, name)); err != nil {
			return err
		}
	}
	b, err := os.ReadFile(c.Kubeconfig("admin"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(state, "kubeconfig"), b, 0o600); err != nil {
		return err
	}
	env.client, err = c.PodNetns("pc", "10.88.0.31", clusterFirst)
	return err
}

// stockCoreDNS puts kube-system/coredns back as make cluster-up leaves
// it: the stock CoreDNS v1.15.0, kubeadm's Corefile, two replicas, no
// coredns-k8slint Service.
func stockCoreDNS(ctx context.Context) error {
	corefile, err := testcluster.KubeadmCorefile(env.root, false)
	if err != nil {
		return err
	}
	if err := env.c.DeployCoreDNS(ctx, testcluster.CoreDNS{Image: testcluster.StockCoreDNSRef, Corefile: corefile, Replicas: 2}); err != nil {
		return err
	}
	out, err := env.c.Kubectl("-n", "kube-system", "delete", "service", "coredns-k8slint", "--ignore-not-found").CombinedOutput()
	if err != nil {
		return fmt.Errorf("kubectl delete service: %v: %s", err, out)
	}
	return nil
}

// kubectl runs the cluster's kubectl as admin with stdin and returns its
// standard output.
func kubectl(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	cmd := env.c.Kubectl(args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}
