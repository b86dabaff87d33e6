package cluster

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/k8slint/k8slint/deploy/monitoring"
	"github.com/k8slint/k8slint/internal/testcluster"
	"github.com/k8slint/k8slint/internal/testenv"
)

// scrapeCorefile is kubeadm's Corefile with k8slint given low thresholds
// and a small client table, and the two zones monitoring.Traffic fails in:
// dead.example forwarded to two ports on the pod's own loopback where
// nothing listens (each query and health check refused at once; towards
// the node the kernel would rate-limit its ICMP port-unreachable errors to
// one a second, and forward would wait for its timeout instead) and
// slow.example to a stub in the node namespace that never answers, with
// max_concurrent 1.
func scrapeCorefile(t *testing.T) string {
	t.Helper()
	cf, err := testcluster.KubeadmCorefile(env.root, true)
	if err != nil {
		t.Fatal(err)
	}
	cf = strings.Replace(cf, "    k8slint\n", `    k8slint {
        storm 2 1s
        upstream_degraded 0.5 1s
        clients_max 8
    }
`, 1)
	if !strings.Contains(cf, "clients_max 8") {
		t.Fatalf("no k8slint line in kubeadm's Corefile:\n%s", cf)
	}
	return cf + `dead.example:53 {
    errors
    k8slint {
        upstream_degraded 0.5 1s
    }
    prometheus :9153
    forward . 127.0.0.1:5391 127.0.0.1:5392 {
        health_check 100ms
    }
    cache 30
}
slow.example:53 {
    k8slint
    prometheus :9153
    forward . 10.88.0.1:5393 {
        max_concurrent 1
    }
}
`
}

// The mixin's dashboard, answered from the test cluster's CoreDNS: both
// replicas run coredns-custom behind the coredns-k8slint Service of the
// overlay; a hand-made pod sends monitoring.Traffic (glibc walks, pairs,
// a lost AAAA, failing and silent upstreams, more clients than
// clients_max) to each replica's pod IP, taken from the Service's
// endpoints; each replica is scraped twice, with the target labels the
// overlay's ServiceMonitor gives (job kube-dns, namespace kube-system, pod,
// service, honorLabels), and monitoring.EvaluateDashboard answers every
// query of the dashboard: each has data, but node_exporter's conntrack
// counters, which no scrape here holds.
func TestEveryDashboardQueryHasDataFromTheClusterCoreDNS(t *testing.T) {
	c := need(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	silent, err := c.Node.StartUpstreamAt(testenv.Silent, testcluster.NodeIP+":5393")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	corefile := scrapeCorefile(t)
	if err := c.DeployCoreDNS(ctx, testcluster.CoreDNS{
		Image: CustomImage, Corefile: corefile, Replicas: 2,
		RollOnCorefile: true,
	}); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := stockCoreDNS(ctx); err != nil {
			t.Error(err)
		}
	}()
	root, _ := testenv.ModuleRoot()
	kubectl(t, "", "apply", "--server-side", "--field-manager=k8slint", "-f", filepath.Join(root, "deploy", "kustomize", "coredns-custom", "service.yaml"))

	// The hand-made pod gets an address per client host of the traffic.
	for host := 1; host <= 39; host++ {
		if out, err := ip("-n", env.client.Name, "addr", "add", clientAddr(host).String()+"/24", "dev", "eth0"); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
	}
	defer func() {
		for host := 1; host <= 39; host++ {
			_, _ = ip("-n", env.client.Name, "addr", "del", clientAddr(host).String()+"/24", "dev", "eth0")
		}
	}()

	endpoints := strings.Fields(kubectl(t, "", "-n", "kube-system", "get", "endpointslices", "-l", "kubernetes.io/service-name=coredns-k8slint",
		"-o", `jsonpath={range .items[*].endpoints[*]}{.addresses[0]}{"/"}{.targetRef.name}{"\n"}{end}`))
	if len(endpoints) != 2 {
		t.Fatalf("coredns-k8slint's endpoints: %v, want the two pods", endpoints)
	}
	var scrapes []monitoring.Scrape
	for round := 0; round < 2; round++ {
		for _, ep := range endpoints {
			addr, _, _ := strings.Cut(ep, "/")
			if err := env.client.Do(func() error {
				return monitoring.Traffic(addr+":53", fmt.Sprintf("%d-%s", round, strings.ReplaceAll(addr, ".", "-")), clientAddr)
			}); err != nil {
				t.Fatalf("traffic to %s: %v", ep, err)
			}
		}
		// Let k8slint judge storms and the upstreams (1 s windows).
		time.Sleep(1500 * time.Millisecond)
		for _, ep := range endpoints {
			addr, pod, _ := strings.Cut(ep, "/")
			text, err := scrapeText(c, addr+":9153")
			if err != nil {
				t.Fatal(err)
			}
			scrapes = append(scrapes, monitoring.Scrape{
				At: time.Now(), Text: text, HonorLabels: true,
				// What the ServiceMonitor of deploy/kustomize/servicemonitor adds.
				Target: map[string]string{"job": "kube-dns", "instance": addr + ":9153", "namespace": "kube-system",
					"pod": pod, "service": "coredns-k8slint", "endpoint": "metrics"},
			})
		}
	}
	dashboard, err := os.ReadFile(filepath.Join(root, "deploy", "monitoring", "dashboards_out", "k8slint-coredns.json"))
	if err != nil {
		t.Fatal(err)
	}
	results, err := monitoring.EvaluateDashboard(dashboard, scrapes, map[string]string{"cluster": ".*", "job": "kube-dns", "instance": ".+"})
	if err != nil {
		t.Fatal(err)
	}
	problems, withData := monitoring.CheckData(results)
	for _, p := range problems {
		t.Error(p)
	}
	t.Logf("%d of %d dashboard queries answered with data from %d scrapes of %d replicas (node_exporter's conntrack counters excepted)", withData, len(results), len(scrapes), len(endpoints))
	// k8slint's namespace label reached the store as namespace, the
	// clients' namespaces, not the target's kube-system.
	for _, ns := range []string{"shop", "payments"} {
		if !strings.Contains(string(scrapes[len(scrapes)-1].Text), `namespace="`+ns+`"`) {
			t.Errorf("no series of namespace %s in the last scrape", ns)
		}
	}
}

// clientAddr is the address of client host n of monitoring.Traffic in the
// hand-made pod.
func clientAddr(host int) netip.Addr { return netip.AddrFrom4([4]byte{10, 88, 0, byte(40 + host)}) }

// ip runs ip(8).
func ip(args ...string) ([]byte, error) { return exec.Command("ip", args...).CombinedOutput() }

// scrapeText reads http://addr/metrics from the node namespace, as it is.
func scrapeText(c *testcluster.Cluster, addr string) ([]byte, error) {
	return monitoring.ScrapeText(&http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: c.Node.DialContext}}, addr)
}
