package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/resolver"
)

func TestParseLintAndExplainLookupReadTheClusterFlags(t *testing.T) {
	c, err := parseLint([]string{"--namespace", "shop", "--cluster-dns", "10.0.0.10,10.0.0.11", "--k8s-version", "1.27", "--resolver", "musl", "--node-resolv-conf", "node.conf", "a.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	musl := resolver.Musl
	want := settings{clusterDomain: "cluster.local", namespace: "shop", clusterDNS: []string{"10.0.0.10", "10.0.0.11"}, k8sVersion: lint.Version{1, 27, 0}, resolver: &musl, nodeResolvConf: "node.conf"}
	if !reflect.DeepEqual(c.settings, want) {
		t.Errorf("got %+v", c.settings)
	}
	l, err := parseExplainLookup([]string{"api.stripe.com", "--ndots", "2", "--search", "a.example b.example", "--search", "c.example", "--option", "single-request-reopen", "-f", "m.yaml", "--container", "app", "--format", "json", "--namespace", "shop", "--k8s-version", "1.27"})
	if err != nil {
		t.Fatal(err)
	}
	if l.name != "api.stripe.com" || *l.ndots != 2 || strings.Join(l.search, " ") != "a.example b.example c.example" ||
		l.option[0] != "single-request-reopen" || l.manifest != "m.yaml" || l.container != "app" || l.format != "json" || l.namespace != "shop" || l.k8sVersion != (lint.Version{1, 27, 0}) {
		t.Errorf("got %+v", l)
	}
	for _, c := range []struct {
		lint bool
		args []string
		err  string
	}{
		{true, []string{"--resolver", "uclibc", "a"}, `--resolver: unknown resolver "uclibc"`},
		{true, []string{"--k8s-version", "new", "a"}, "--k8s-version: bad Kubernetes version"},
		{true, []string{"--ndots", "2", "a"}, "flags of explain-lookup"},
		{true, []string{"a", "-f", "m.yaml"}, "flags of explain-lookup"},
		{false, nil, "exactly one NAME"},
		{false, []string{"x", "--ndots", "16"}, "--ndots: want a number from 0 to 15"},
		{false, []string{"x", "--container", "c"}, "needs -f"},
		{false, []string{"x", "--format", "sarif"}, "(want text or json)"},
		{false, []string{"x", "--fail-on", "info"}, "not defined: -fail-on"},
	} {
		var err error
		if c.lint {
			_, err = parseLint(c.args)
		} else {
			_, err = parseExplainLookup(c.args)
		}
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%q: err %v, want %q", c.args, err, c.err)
		}
	}
}

func TestExplainLookupMarksTheWastedQueriesAndListsTheCheapestFixes(t *testing.T) {
	code, out, errs := runCLI(t, "", "explain-lookup", "api.stripe.com", "--namespace", "shop")
	want := `api.stripe.com (external), looked up by glibc (default; --resolver or -f to choose), A and AAAA parallel-same-socket
resolv.conf:
  nameserver 10.96.0.10
  search shop.svc.cluster.local svc.cluster.local cluster.local
  options ndots:5
queries:
   1  A     api.stripe.com.shop.svc.cluster.local.  NXDOMAIN  wasted
   2  AAAA  api.stripe.com.shop.svc.cluster.local.  NXDOMAIN  wasted
   3  A     api.stripe.com.svc.cluster.local.       NXDOMAIN  wasted
   4  AAAA  api.stripe.com.svc.cluster.local.       NXDOMAIN  wasted
   5  A     api.stripe.com.cluster.local.           NXDOMAIN  wasted
   6  AAAA  api.stripe.com.cluster.local.           NXDOMAIN  wasted
   7  A     api.stripe.com.                         DATA
   8  AAAA  api.stripe.com.                         DATA
8 queries, 6 NXDOMAIN, 6 wasted; the lookup resolves
cheapest fixes:
  write the name as api.stripe.com. (absolute)       2 queries, 0 NXDOMAIN
  options ndots:1                                    2 queries, 0 NXDOMAIN
`
	if code != exitOK || out != want {
		t.Fatalf("exit %d, stderr %s, output:\n%s\nwant:\n%s", code, errs, out, want)
	}
}

func TestExplainLookupShowsAMuslLookupThatFailsAndWhatFixesIt(t *testing.T) {
	code, out, _ := runCLI(t, "", "explain-lookup", "redis.cache", "--resolver", "musl", "--ndots", "1", "--format", "json")
	var rep lookupReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitOK {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	if rep.Resolves || rep.Total != 2 || rep.Wasted != 2 || !rep.InCluster || rep.FQDN != "redis.cache.svc.cluster.local." {
		t.Errorf("report %+v", rep)
	}
	if len(rep.Fixes) != 2 || rep.Fixes[0].Fix != "write the name as redis.cache.svc.cluster.local. (absolute)" || rep.Fixes[1].Fix != "options ndots:2" || rep.Fixes[1].Queries != 4 {
		t.Errorf("fixes %+v", rep.Fixes)
	}
}

const lookupManifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    spec:
      dnsConfig:
        searches: [corp.example.com]
        options:
        - name: ndots
          value: "3"
      containers:
      - name: app
        image: python:3.12-alpine
      - name: proxy
        image: envoyproxy/envoy-distroless:v1.30
`

func TestExplainLookupTakesThePodsResolvConfAndTheContainersResolver(t *testing.T) {
	p := filepath.Join(t.TempDir(), "web.yaml")
	os.WriteFile(p, []byte(lookupManifest), 0o644)
	code, out, errs := runCLI(t, "", "explain-lookup", "db.data", "-f", p, "--container", "app", "--format", "json")
	var rep lookupReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitOK {
		t.Fatalf("exit %d, %v: %s%s", code, err, out, errs)
	}
	if rep.Resolver != "musl" || !strings.Contains(rep.ResolvConf, "search shop.svc.cluster.local svc.cluster.local cluster.local corp.example.com\noptions ndots:3\n") {
		t.Errorf("resolver %s, resolv.conf:\n%s", rep.Resolver, rep.ResolvConf)
	}
	// db.data: shop.svc (NXDOMAIN), then svc.cluster.local answers.
	if rep.Total != 4 || rep.NXDomain != 2 || !rep.Resolves || rep.Queries[2].Name != "db.data.svc.cluster.local." {
		t.Errorf("report %+v", rep)
	}
	code, _, errs = runCLI(t, "", "explain-lookup", "db", "-f", p)
	if code != exitUsage || !strings.Contains(errs, "choose with --container") {
		t.Errorf("exit %d: %s", code, errs)
	}
	code, _, errs = runCLI(t, "", "explain-lookup", "db", "-f", p, "--container", "nope")
	if code != exitUsage || !strings.Contains(errs, `no container "nope"; there are: Deployment shop/web container app, Deployment shop/web container proxy`) {
		t.Errorf("exit %d: %s", code, errs)
	}
}

const hostNetJSON = `{"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
 "spec": {"template": {"spec": {"hostNetwork": true, "containers": [{"name": "a", "image": "debian:12",
  "env": [{"name": "COLLECTOR", "value": "http://collector:4317"}]}]}}}}
`

func TestWorkloadsOnStdinAsJSONUseTheNamespaceFlag(t *testing.T) {
	code, out, _ := runCLI(t, hostNetJSON, "--namespace", "monitoring", "--enable", "pod-hostnetwork-clusterfirst", "-")
	want := "-:2:48: error: host-network pod with dnsPolicy ClusterFirst (the default) gets the node's resolv.conf and cannot resolve in-cluster names: collector: 2 queries to the node's nameserver, 2 NXDOMAIN, fails; with ClusterFirstWithHostNet → 2, resolves [pod-hostnetwork-clusterfirst] (DaemonSet agent)\n"
	if code != exitFindings || out != want {
		t.Fatalf("exit %d\n%s\nwant\n%s", code, out, want)
	}
}

func TestTheNodeResolvConfDecidesWhatAHostNetworkPodAsks(t *testing.T) {
	dir := t.TempDir()
	node := filepath.Join(dir, "resolv.conf")
	os.WriteFile(node, []byte("nameserver 10.0.0.2\nsearch ec2.internal corp.example.com\noptions ndots:2\n"), 0o644)
	code, out, _ := runCLI(t, hostNetJSON, "--node-resolv-conf", node, "--enable", "pod-hostnetwork-clusterfirst", "-")
	if code != exitFindings || !strings.Contains(out, "collector: 6 queries to the node's nameserver, 6 NXDOMAIN, fails") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	os.WriteFile(node, []byte("nameserver 10.0.0.2\noptions ndots:x\n"), 0o644)
	code, _, errs := runCLI(t, hostNetJSON, "--node-resolv-conf", node, "-")
	if code != exitUsage || !strings.Contains(errs, node+":2: option ndots needs a number") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}

func TestFixWritesTheWorkloadFixesAndASecondRunIsClean(t *testing.T) {
	p := filepath.Join(t.TempDir(), "web.yaml")
	src := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  # keep me\n  containers:\n  - name: c\n    image: debian:12 # pinned\n    env:\n    - name: API\n      value: https://api.stripe.com\n"
	os.WriteFile(p, []byte(src), 0o644)
	if code, out, errs := runCLI(t, "", "--fix", "--fail-on", "error", p); code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	got, _ := os.ReadFile(p)
	want := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  # keep me\n  dnsConfig:\n    options:\n    - name: single-request-reopen\n    - name: ndots\n      value: \"1\"\n  containers:\n  - name: c\n    image: debian:12 # pinned\n    env:\n    - name: API\n      value: https://api.stripe.com\n"
	if string(got) != want {
		t.Fatalf("fixed:\n%s\nwant:\n%s", got, want)
	}
	if code, out, _ := runCLI(t, "", "--diff", p); code != exitOK || out != "" {
		t.Fatalf("second run: exit %d\n%s", code, out)
	}
}
