package e2e

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/k8slint/k8slint/internal/testcluster"
)

// corednsProcesses returns the /proc status of every process running
// "/coredns -conf /etc/coredns/Corefile" (the CoreDNS pods' containers).
func corednsProcesses(t *testing.T) []string {
	t.Helper()
	var out []string
	ds, _ := os.ReadDir("/proc")
	for _, d := range ds {
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if err != nil || string(b) != "/coredns\x00-conf\x00/etc/coredns/Corefile\x00" {
			continue
		}
		st, err := os.ReadFile(filepath.Join("/proc", d.Name(), "status"))
		if err == nil {
			out = append(out, string(st))
		}
	}
	return out
}

func statusField(status, field string) string {
	for _, l := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return strings.Join(strings.Fields(v), " ")
		}
	}
	return ""
}

// TestStockCoreDNSIsReplacedInPlaceWhileAClientResolves deploys CoreDNS as
// kubeadm does, on the stock CoreDNS v1.15.0 with kubeadm's Corefile, then
// does what README's "Use it in a cluster" tells an operator: kubectl set
// image to the project's image, kubectl apply of deploy/coredns-configmap.yaml
// (kubeadm's Corefile plus k8slint), and reload picks the new Corefile up.
// A client resolving every 20 ms throughout sees no failed lookup.
func TestStockCoreDNSIsReplacedInPlaceWhileAClientResolves(t *testing.T) {
	c := need(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	stock, err := testcluster.KubeadmCorefile(root, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DeployCoreDNS(ctx, testcluster.CoreDNS{Image: testcluster.StockCoreDNSRef, Corefile: stock, Replicas: 2}); err != nil {
		t.Fatal(err)
	}
	waitAnswers(t, ctx)
	checkNonRoot(t, 2)

	rc := testcluster.StartResolving(client, 20*time.Millisecond)
	defer func() {
		rc.Stop()
		t.Logf("client: %d lookups, %d retried, %d failed", rc.Lookups(), rc.Retried(), rc.Failed())
		if n := rc.Failed(); n > 0 {
			t.Errorf("%d lookups failed during the swap:\n%s", n, strings.Join(rc.Failures(), "\n"))
		}
		if n := rc.Lookups(); n < 500 {
			t.Errorf("only %d lookups: the client did not resolve throughout", n)
		}
	}()
	time.Sleep(2 * time.Second)

	t0 := time.Now()
	kubectl(t, "-n", "kube-system", "set", "image", "deployment/coredns", "coredns="+customImage)
	if err := c.WaitRollout(ctx, "kube-system", "coredns", 3*time.Minute); err != nil {
		t.Fatal(err)
	}
	t.Logf("image switched, rollout complete in %s", time.Since(t0).Round(100*time.Millisecond))
	pods := corednsPods(t, ctx)
	names := map[string]bool{}
	for _, p := range pods {
		if img := p.Spec.Containers[0].Image; img != customImage {
			t.Fatalf("pod %s runs %s after the rollout", p.Name, img)
		}
		names[p.Name] = true
	}
	checkNonRoot(t, 2)
	for _, p := range pods {
		if m := scrapePod(t, p); len(m.Rows("coredns_k8slint_")) > 0 {
			t.Fatalf("pod %s exports k8slint metrics before its Corefile has k8slint", p.Name)
		}
	}

	t1 := time.Now()
	kubectl(t, "apply", "-f", filepath.Join(root, "deploy", "coredns-configmap.yaml"))
	// kubelet updates the mounted file at its next pod sync (10 s here),
	// reload checks every 30 s with up to 15 s of jitter.
	reloaded := map[string]bool{}
	for len(reloaded) < len(pods) {
		if time.Since(t1) > 3*time.Minute {
			t.Fatalf("after 3 minutes only %v of %d pods serve the Corefile with k8slint", reloaded, len(pods))
		}
		for _, p := range pods {
			if m := scrapePod(t, p); len(m.Rows("coredns_k8slint_tracked_clients")) > 0 && m.Sum("coredns_k8slint_tracked_clients", nil) >= 1 {
				reloaded[p.Name] = true
			}
		}
		time.Sleep(time.Second)
	}
	t.Logf("both pods reloaded the Corefile with k8slint %s after kubectl apply", time.Since(t1).Round(time.Second))
	time.Sleep(2 * time.Second)

	// Reloaded in place: the same pods, never restarted, and each says so.
	after := corednsPods(t, ctx)
	for _, p := range after {
		if !names[p.Name] {
			t.Errorf("pod %s appeared after the ConfigMap change: reload should not need new pods", p.Name)
		}
		for _, cs := range p.Status.ContainerStatuses {
			if cs.RestartCount != 0 {
				t.Errorf("pod %s restarted %d times", p.Name, cs.RestartCount)
			}
		}
		logs := kubectl(t, "-n", "kube-system", "logs", p.Name)
		if !strings.Contains(logs, "Reloading complete") {
			t.Errorf("pod %s logged no reload:\n%s", p.Name, logs)
		}
	}
	var sorted []string
	for n := range reloaded {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	t.Logf("pods %v run %s with k8slint", sorted, customImage)
}

// checkNonRoot asserts that want CoreDNS processes run, as 65532 with only
// NET_BIND_SERVICE (bit 10) effective: the image's file capability under
// kubeadm's drop ALL, add NET_BIND_SERVICE.
func checkNonRoot(t *testing.T, want int) {
	t.Helper()
	var procs []string
	deadline := time.Now().Add(30 * time.Second)
	for {
		procs = corednsProcesses(t)
		if len(procs) == want || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if len(procs) != want {
		t.Fatalf("%d CoreDNS processes, want %d", len(procs), want)
	}
	for _, st := range procs {
		if uid := statusField(st, "Uid"); uid != "65532 65532 65532 65532" {
			t.Errorf("CoreDNS runs as uid %q, want 65532", uid)
		}
		if eff := statusField(st, "CapEff"); eff != "0000000000000400" {
			t.Errorf("CoreDNS has effective capabilities %s, want 0000000000000400 (NET_BIND_SERVICE only)", eff)
		}
	}
}
