package cluster

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/k8slint/k8slint/internal/testcluster"
)

// nodeCacheCorefile is a node cache as NodeLocal DNSCache's ConfigMap
// makes one (corefiles/nodelocaldns.Corefile without k8slint): the cluster
// domain cached (NXDOMAIN for 5 s) and forwarded over TCP to kube-dns, other
// names to the node's resolver, on the link-local address. Its metrics say
// what it answered the pods.
const nodeCacheCorefile = `cluster.local:53 {
    errors
    cache {
        success 9984 30
        denial 9984 5
    }
    bind ` + nodeCacheIP + `
    forward . ` + testcluster.DNSServiceIP + ` {
        force_tcp
    }
    prometheus ` + testcluster.NodeIP + `:9253
}
.:53 {
    errors
    cache 30
    bind ` + nodeCacheIP + `
    forward . ` + testcluster.NodeIP + `
    prometheus ` + testcluster.NodeIP + `:9253
}
`

const nodeCacheIP = "169.254.20.10"

// Behind NodeLocal DNSCache (docs/operator.md): kube-system/coredns runs
// coredns-custom with k8slint, as the overlay leaves it (one replica, and
// `report 5s`, so that the numbers are exact and the report comes soon);
// in the node's network namespace runs a node cache, the stock CoreDNS
// v1.15.0 standing in for node-cache's (whose image cannot be pulled
// here), on 169.254.20.10, a local address of the node as node-cache
// makes it. A pod whose resolv.conf names the cache looks api.stripe.com
// up twice with glibc (getent), within the cache's 5 s for NXDOMAIN. The
// cache answers the pod 12 NXDOMAIN; k8slint in the cluster's CoreDNS
// counts the 6 of the first walk only, all from the node's address, with
// no A/AAAA pair over UDP.
func TestBehindANodeCacheK8slintSeesTheNodeAndTheCacheMisses(t *testing.T) {
	c := need(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	corefile, err := testcluster.KubeadmCorefile(env.root, true)
	if err != nil {
		t.Fatal(err)
	}
	corefile = strings.Replace(corefile, "    k8slint\n", "    k8slint {\n        report 5s\n    }\n", 1)
	if err := c.DeployCoreDNS(ctx, testcluster.CoreDNS{
		Image: CustomImage, Corefile: corefile, Replicas: 1,
		RollOnCorefile: true,
	}); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := stockCoreDNS(ctx); err != nil {
			t.Error(err)
		}
	}()

	// node-cache puts the address on a dummy interface; this kernel has
	// no dummy driver, and the node's loopback makes it a local address
	// of the node just the same.
	if out, err := ip("-n", testcluster.NodeNetns, "addr", "add", nodeCacheIP+"/32", "dev", "lo"); err != nil {
		t.Fatalf("ip addr add %s: %v: %s", nodeCacheIP, err, out)
	}
	defer ip("-n", testcluster.NodeNetns, "addr", "del", nodeCacheIP+"/32", "dev", "lo")
	dir := t.TempDir()
	cache, err := c.Node.StartCoreDNS(filepath.Join(env.work, "images", "coredns-stock"), dir, nodeCacheCorefile, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer cache.Stop()

	pod, err := c.PodNetns("pn", "10.88.0.33", "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver "+nodeCacheIP+"\noptions ndots:5\n")
	if err != nil {
		t.Fatal(err)
	}
	defer c.DeletePodNetns("pn")
	for i := 0; i < 2; i++ {
		out, err := pod.Command("getent", "ahosts", "api.stripe.com").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "192.0.2.53") {
			t.Fatalf("getent ahosts api.stripe.com through the node cache: %v\n%s\n%s", err, out, cache.Output())
		}
	}

	answered, err := c.Node.Scrape(testcluster.NodeIP + ":9253")
	if err != nil {
		t.Fatal(err)
	}
	nxdomain := answered.Sum("coredns_dns_responses_total", map[string]string{"zone": "cluster.local.", "rcode": "NXDOMAIN"})
	pods := corednsPods(t, ctx)
	if len(pods) != 1 {
		t.Fatalf("%d CoreDNS pods, want 1", len(pods))
	}
	m := scrapeUntil(t, pods[0], true)
	wasted := m.Sum("coredns_k8slint_wasted_nxdomain_total", map[string]string{"namespace": "default"})
	expansions := m.Sum("coredns_k8slint_search_expansions_total", map[string]string{"namespace": "default"})
	parallel := m.Sum("coredns_k8slint_parallel_a_aaaa_total", nil)
	tcp := m.Sum("coredns_k8slint_sequential_a_aaaa_total", map[string]string{"mode": "tcp"})
	t.Logf("2 glibc lookups of api.stripe.com behind the node cache: it answered the pod %v NXDOMAIN; k8slint in CoreDNS: %v search expansions, %v wasted NXDOMAIN, %v parallel pairs, %v pairs over TCP",
		nxdomain, expansions, wasted, parallel, tcp)
	if nxdomain != 12 {
		t.Errorf("the node cache answered %v NXDOMAIN for the cluster domain, want 12 (6 per glibc walk)", nxdomain)
	}
	if wasted != 6 || expansions != 6 {
		t.Errorf("k8slint counted %v expansions, %v wasted, want 6 and 6: the first walk, the second answered by the cache", expansions, wasted)
	}
	if parallel != 0 {
		t.Errorf("k8slint counted %v parallel A/AAAA pairs: the node cache asks over TCP", parallel)
	}
	// The worst offender is the node, not the pod.
	deadline := time.Now().Add(20 * time.Second)
	for {
		logs := kubectl(t, "", "-n", "kube-system", "logs", pods[0].Name)
		if strings.Contains(logs, "client "+testcluster.NodeIP+" (namespace default)") && !strings.Contains(logs, "client 10.88.0.33") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no report naming the node %s as the client:\n%s", testcluster.NodeIP, logs)
		}
		time.Sleep(time.Second)
	}
}
