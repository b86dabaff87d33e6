// k8slint-cluster starts and stops the test cluster for a person (make
// cluster-up, make cluster-down): a single-node Kubernetes as kubeadm
// would leave it, whose kube-system/coredns runs the stock CoreDNS v1.15.0
// with kubeadm's Corefile, ready for the steps of README's "Use it in a
// cluster".
//
//	k8slint-cluster up -state bin/cluster -coredns bin/coredns-custom
//	k8slint-cluster down -state bin/cluster
//	k8slint-cluster proxy -listen 127.0.0.1:PORT   (run by up)
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/k8slint/k8slint/internal/testcluster"
	"github.com/k8slint/k8slint/internal/testenv"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: k8slint-cluster up|down|proxy [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "up":
		err = up(os.Args[2:])
	case "down":
		err = down(os.Args[2:])
	case "proxy":
		err = proxy(os.Args[2:])
	default:
		fmt.Fprintf(os.Stderr, "k8slint-cluster: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "k8slint-cluster %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func up(args []string) error {
	fs := flag.NewFlagSet("up", flag.ExitOnError)
	stateDir := fs.String("state", "bin/cluster", "state directory")
	coredns := fs.String("coredns", "bin/coredns-custom", "coredns-custom binary (runs the node's stub resolver)")
	_ = fs.Parse(args)
	root, err := testenv.ModuleRoot()
	if err != nil {
		return err
	}
	dir, err := filepath.Abs(*stateDir)
	if err != nil {
		return err
	}
	bin, err := filepath.Abs(*coredns)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	start := time.Now()
	ctx := context.Background()
	c, err := testcluster.Start(ctx, testcluster.Options{
		Root: root, StateDir: dir, CoreDNS: bin, Detached: true, Owner: "make cluster-up",
		Logf: func(f string, a ...any) { fmt.Printf(f+"\n", a...) },
	})
	if err != nil {
		return err
	}
	fail := func(err error) error {
		c.DumpLogs(os.Stderr, 20)
		_ = testcluster.TearDown(dir)
		return err
	}
	stock, err := testcluster.StockCoreDNSImage(root, filepath.Join(dir, "images"))
	if err != nil {
		return fail(err)
	}
	if err := c.ImportImages(ctx, stock); err != nil {
		return fail(err)
	}
	if err := c.ToolboxImages(ctx, filepath.Join(root, "test", "testdata", "resolvers", "gai.c")); err != nil {
		return fail(err)
	}
	corefile, err := testcluster.KubeadmCorefile(root, false)
	if err != nil {
		return fail(err)
	}
	if err := c.DeployCoreDNS(ctx, testcluster.CoreDNS{Image: testcluster.StockCoreDNSRef, Corefile: corefile, Replicas: 2}); err != nil {
		return fail(err)
	}
	kc := filepath.Join(dir, "kubeconfig")
	b, err := os.ReadFile(c.Kubeconfig("admin"))
	if err != nil {
		return fail(err)
	}
	if err := os.WriteFile(kc, b, 0o600); err != nil {
		return fail(err)
	}
	// bin/kubectl: the cluster's own kubectl, next to the state directory.
	kubectl := filepath.Join(filepath.Dir(dir), "kubectl")
	_ = os.Remove(kubectl)
	if err := os.Symlink(filepath.Join(c.Bin, "kubectl"), kubectl); err != nil {
		return fail(err)
	}
	rel := func(p string) string {
		if r, err := filepath.Rel(root, p); err == nil {
			return r
		}
		return p
	}
	fmt.Printf(`
Kubernetes %s is up in %s (node network namespace %s, node IP %s),
kube-system/coredns running %s with kubeadm's Corefile.
  export KUBECONFIG=%s            # admin; the API server is proxied to https://%s
  %s get pods -A
  ctr -a %s -n k8s.io images ls   # the node's images (import yours with: images import FILE.oci.tar)
  ip netns exec %s dig @%s kubernetes.default.svc.cluster.local   # DNS through the kube-dns Service
Logs in %s; make cluster-down removes everything.
`, testcluster.Version, time.Since(start).Round(time.Second), testcluster.NodeNetns, testcluster.NodeIP, testcluster.StockCoreDNSRef,
		rel(kc), c.APIAddr, rel(kubectl), rel(filepath.Join(dir, "containerd", "containerd.sock")),
		testcluster.NodeNetns, testcluster.DNSServiceIP, rel(filepath.Join(dir, "log")))
	return nil
}

func down(args []string) error {
	fs := flag.NewFlagSet("down", flag.ExitOnError)
	stateDir := fs.String("state", "bin/cluster", "state directory")
	_ = fs.Parse(args)
	dir, err := filepath.Abs(*stateDir)
	if err != nil {
		return err
	}
	if err := testcluster.TearDown(dir); err != nil {
		return err
	}
	fmt.Printf("cluster in %s torn down (logs kept in %s)\n", dir, filepath.Join(dir, "log"))
	return nil
}

func proxy(args []string) error {
	fs := flag.NewFlagSet("proxy", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:6443", "host loopback address to listen on")
	_ = fs.Parse(args)
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	return testcluster.ServeAPIProxy(l)
}
