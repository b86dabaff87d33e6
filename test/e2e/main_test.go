// Package e2e runs the project's end-to-end scenarios on a real
// single-node Kubernetes (internal/testcluster), shared by every test of
// the package: CoreDNS replaced in place, real pods with glibc and musl
// resolvers, A/AAAA pairs through kube-proxy's DNAT, an API server outage
// and failing upstreams, and k8slint's report naming the workloads whose
// pods wasted DNS (attribution). It needs root and Debian's etcd-server,
// containerd, runc, containernetworking-plugins, conntrack and musl-tools
// (.ci/run installs them); without them every test skips and says what is
// missing.
package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/k8slint/k8slint/internal/testcluster"
	"github.com/k8slint/k8slint/internal/testenv"
)

// The images of the scenarios: the stock CoreDNS v1.15.0 stand-in and the
// project's coredns-custom (image.CoreDNSSpec of the binary under test).
const customImage = "docker.io/k8slint/coredns-custom:e2e"

var (
	cluster    *testcluster.Cluster
	skipReason string
	root       string
	// client is a hand-made pod namespace (10.88.0.21) whose resolv.conf is
	// what kubelet writes for ClusterFirst in namespace default.
	client *testenv.Netns
)

const clusterFirst = "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"

func TestMain(m *testing.M) {
	code := run(m)
	// CI installs everything the scenarios need: there, a skip is a failure.
	if skipReason != "" && os.Getenv("CI") == "true" {
		fmt.Fprintf(os.Stderr, "e2e: CI=true but the scenarios cannot run: %s\n", skipReason)
		code = 1
	}
	os.Exit(code)
}

func run(m *testing.M) int {
	var err error
	if root, err = testenv.ModuleRoot(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := testcluster.Prerequisites(); err != nil {
		skipReason = err.Error()
		return m.Run()
	}
	for _, tool := range []struct{ bin, pkg string }{{"musl-gcc", "musl-tools"}, {"getent", "libc-bin"}} {
		if _, err := exec.LookPath(tool.bin); err != nil {
			skipReason = fmt.Sprintf("the end-to-end tests need %s (Debian %s)", tool.bin, tool.pkg)
			return m.Run()
		}
	}
	bin, err := testenv.Binary("./cmd/coredns-custom")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "k8slint-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	logf := func(f string, a ...any) { fmt.Fprintf(os.Stderr, "e2e: "+f+"\n", a...) }
	cluster, err = testcluster.Start(ctx, testcluster.Options{Root: root, StateDir: dir, CoreDNS: bin, Logf: logf})
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: cluster: %v\n", err)
		return 1
	}
	code := 1
	defer func() {
		if err := cluster.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: tear-down: %v\n", err)
			code = 1
		}
		if code == 0 {
			os.RemoveAll(dir)
		} else {
			fmt.Fprintf(os.Stderr, "e2e: the cluster's logs are in %s\n", filepath.Join(dir, "log"))
		}
	}()
	if err := setup(ctx, bin, dir); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: setup: %v\n", err)
		cluster.DumpLogs(os.Stderr, 30)
		return 1
	}
	logf("cluster and images ready in %s", time.Since(start).Round(time.Second))
	code = m.Run()
	logf("all done in %s", time.Since(start).Round(time.Second))
	return code
}

func setup(ctx context.Context, bin, dir string) error {
	stock, err := testcluster.StockCoreDNSImage(root, filepath.Join(dir, "images"))
	if err != nil {
		return err
	}
	custom, err := testcluster.CoreDNSImage(customImage, bin)
	if err != nil {
		return err
	}
	if err := cluster.ImportImages(ctx, stock, custom); err != nil {
		return err
	}
	if err := cluster.ToolboxImages(ctx, filepath.Join(root, "test", "testdata", "resolvers", "gai.c")); err != nil {
		return err
	}
	client, err = cluster.PodNetns("pa", "10.88.0.21", clusterFirst)
	return err
}

// need returns the shared cluster, or skips the test saying why there is
// none.
func need(t *testing.T) *testcluster.Cluster {
	t.Helper()
	if cluster == nil {
		t.Skip(skipReason)
	}
	t.Cleanup(func() {
		if t.Failed() {
			cluster.DumpLogs(os.Stderr, 15)
		}
	})
	return cluster
}

// corefile returns kubeadm's Corefile with k8slint (the project's), with
// the lines extra inserted after `errors` and the server blocks blocks
// appended.
func corefile(t *testing.T, extra []string, blocks string) string {
	t.Helper()
	cf, err := testcluster.KubeadmCorefile(root, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(extra) > 0 {
		cf = strings.Replace(cf, "    errors\n", "    errors\n    "+strings.Join(extra, "\n    ")+"\n", 1)
	}
	return cf + blocks
}

// deploy rolls kube-system/coredns out with image and corefile: the pod
// template carries the Corefile's hash, so a changed Corefile means new
// pods (reading it at start) rather than waiting for kubelet and reload.
// It returns once every pod runs corefile (waitCorefile: a new pod may
// still have read the previous one) and answers.
func deploy(t *testing.T, ctx context.Context, image, corefile string, replicas int32) {
	t.Helper()
	if err := cluster.DeployCoreDNS(ctx, testcluster.CoreDNS{
		Image: image, Corefile: corefile, Replicas: replicas,
		RollOnCorefile: true,
	}); err != nil {
		t.Fatal(err)
	}
	waitCorefile(t, ctx, corefile)
	waitAnswers(t, ctx)
}

// waitAnswers waits until kubernetes.default resolves through the kube-dns
// Service from the client namespace (/ready answers before :53 does).
func waitAnswers(t *testing.T, ctx context.Context) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		r, err := query(client, testcluster.DNSServiceIP+":53", "kubernetes.default.svc.cluster.local.", dns.TypeA)
		if err == nil && r.Rcode == dns.RcodeSuccess && len(r.Answer) == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("kubernetes.default.svc.cluster.local does not resolve through %s: %v %v", testcluster.DNSServiceIP, r, err)
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// query sends one UDP question from inside ns.
func query(ns *testenv.Netns, addr, name string, qtype uint16) (*dns.Msg, error) {
	var r *dns.Msg
	err := ns.Do(func() error {
		var err error
		r, err = testenv.Query(addr, name, qtype)
		return err
	})
	return r, err
}

// corednsPods returns the running CoreDNS pods.
func corednsPods(t *testing.T, ctx context.Context) []corev1.Pod {
	t.Helper()
	pods, err := cluster.Client.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{LabelSelector: "k8s-app=kube-dns"})
	if err != nil {
		t.Fatal(err)
	}
	return pods.Items
}

// scrapePod scrapes one CoreDNS pod's metrics port from the node. A
// refused connection is tried again for up to 10 s: a Ready pod's
// metrics listener was once refused right after a rollout (2026-12-01,
// swap test; the listener is restarted on every reload), and the tests
// ask what the pod exports, not whether it is listening at that instant.
func scrapePod(t *testing.T, p corev1.Pod) testenv.Metrics {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, err := cluster.Node.Scrape(p.Status.PodIP + ":9153")
		if err == nil {
			return m
		}
		if !errors.Is(err, syscall.ECONNREFUSED) || time.Now().After(deadline) {
			t.Fatalf("scrape %s: %v", p.Name, err)
		}
		t.Logf("scrape %s: %v; trying again", p.Name, err)
		time.Sleep(500 * time.Millisecond)
	}
}

// kubectl runs kubectl as admin and returns its standard output.
func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	cmd := cluster.Kubectl(args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// deleteNamespace deletes a test's namespace and waits until it is gone,
// so that its pods' lookups cannot reach the next test's CoreDNS (a
// race test counting suspected drops saw one from a namespace still
// terminating).
func deleteNamespace(t *testing.T, name string) {
	cs := cluster.Client
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := cs.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0))}); err != nil {
		if !apierrors.IsNotFound(err) {
			t.Errorf("deleting namespace %s: %v", name, err)
		}
		return
	}
	if err := waitFor(ctx, 3*time.Minute, func() error {
		if _, err := cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("namespace %s still there (%v)", name, err)
		}
		return nil
	}); err != nil {
		t.Errorf("cleanup: %v", err)
	}
}
