package poddns

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/k8slint/k8slint/internal/lint/manifest"
	"github.com/k8slint/k8slint/internal/lint/workload"
	"github.com/k8slint/k8slint/internal/resolvconf"
	"github.com/k8slint/k8slint/internal/resolver"
)

func pods(t *testing.T, yaml string) []*workload.Pod {
	t.Helper()
	f := manifest.Load([]byte(yaml))
	if len(f.Errors) > 0 {
		t.Fatal(f.Errors)
	}
	return workload.Load(f)
}

func TestANewClusterIsACurrentKubeadmClusterUnlessTheSettingsSayOtherwise(t *testing.T) {
	c := NewCluster("", Settings{})
	if c.Domain != "cluster.local" || c.Namespace != "default" || c.Resolver != nil || c.Node.Limits != resolvconf.CurrentLimits ||
		!reflect.DeepEqual(c.Node.ClusterDNS, []string{DefaultClusterDNS}) || c.Node.ResolvConf.String() != DefaultNodeResolvConf {
		t.Errorf("defaults: %+v", c)
	}
	node := resolvconf.Conf{Search: []string{"corp.example.com"}}
	musl := resolver.Musl
	c = NewCluster("k.local.", Settings{ClusterDNS: []string{"10.0.0.10"}, NodeResolvConf: &node, Limits: resolvconf.LegacyLimits, Namespace: "shop", Resolver: &musl})
	if c.Domain != "k.local" || c.Namespace != "shop" || *c.Resolver != resolver.Musl || c.Node.Limits != resolvconf.LegacyLimits ||
		c.Node.ClusterDomain != "k.local." || !reflect.DeepEqual(c.Node.ClusterDNS, []string{"10.0.0.10"}) || c.Node.ResolvConf.String() != "search corp.example.com\n" {
		t.Errorf("given: %+v", c)
	}
}

const shop = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    spec:
      containers:
      - name: app
        image: python:3.12-alpine
        env:
        - {name: API, value: https://api.stripe.com/v1}
        - {name: DB_HOST, value: db.data}
        - {name: AGAIN, value: "https://api.stripe.com/v2"}
      - name: sidecar
        image: debian:12
        args: ["--upstream", "cache:6379"]
---
apiVersion: v1
kind: Pod
metadata: {name: tool}
spec:
  containers:
  - {name: t, image: example.com/private/tool:1}
`

func TestAPodIsEvaluatedOnceWithItsNamespaceResolvConfResolversAndNames(t *testing.T) {
	ws := pods(t, shop)
	c := NewCluster("", Settings{Namespace: "elsewhere"})
	p := c.Pod(ws[0])
	if p.Namespace != "shop" || p.Err != nil || p.Result.Conf.String() != "nameserver 10.96.0.10\nsearch shop.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n" {
		t.Errorf("namespace %q, err %v, resolv.conf:\n%s", p.Namespace, p.Err, p.Result.Conf)
	}
	var names []string
	for _, u := range p.Names {
		names = append(names, fmt.Sprintf("%s %v %s %s", u.Name.Name, u.InCluster, u.FQDN, u.Kind()))
	}
	want := "api.stripe.com false api.stripe.com. musl|db.data true db.data.svc.cluster.local. musl|cache true cache.shop.svc.cluster.local. glibc"
	if got := strings.Join(names, "|"); got != want {
		t.Errorf("names\n got %s\nwant %s", got, want)
	}
	if k := p.Kinds(); !reflect.DeepEqual(k, []resolver.Kind{resolver.Musl, resolver.GLibc}) {
		t.Errorf("kinds %v", k)
	}
	if len(p.InCluster()) != 2 || len(p.External()) != 1 || len(p.NameList()) != 3 {
		t.Errorf("in-cluster %v, external %v", p.InCluster(), p.External())
	}
	tool := c.Pod(ws[1])
	if tool.Namespace != "elsewhere" || !reflect.DeepEqual(tool.Kinds(), resolver.Kinds) || tool.Families[0].Known {
		t.Errorf("tool: namespace %q, kinds %v, families %+v", tool.Namespace, tool.Kinds(), tool.Families)
	}
	glibc := resolver.GLibc
	forced := NewCluster("", Settings{Resolver: &glibc}).Pod(ws[0])
	if !reflect.DeepEqual(forced.Kinds(), []resolver.Kind{resolver.GLibc}) || forced.Names[0].Family.Why != "--resolver glibc" {
		t.Errorf("--resolver: kinds %v, family %+v", forced.Kinds(), forced.Names[0].Family)
	}
}

func TestTheLegacyLimitsCutTheSearchListOfAPod(t *testing.T) {
	node := resolvconf.Conf{Nameservers: []string{"10.0.0.2"}, Search: []string{"a.example", "b.example", "c.example", "d.example", "e.example"}}
	w := pods(t, shop)[0]
	for _, c := range []struct {
		limits resolvconf.Limits
		search int
		cost   int
	}{{resolvconf.CurrentLimits, 8, 18}, {resolvconf.LegacyLimits, 6, 14}} {
		p := NewCluster("", Settings{NodeResolvConf: &node, Limits: c.limits}).Pod(w)
		q, _ := p.Cluster.Cost(resolver.GLibc, p.Result.Conf, p.Names[0].Name)
		if len(p.Result.Conf.Search) != c.search || q != c.cost {
			t.Errorf("limits %+v: %d search domains, %d queries; want %d, %d", c.limits, len(p.Result.Conf.Search), q, c.search, c.cost)
		}
	}
}

func TestTheProposedNdotsIsTheLowestThatKeepsEveryInClusterNameResolvable(t *testing.T) {
	c := NewCluster("", Settings{})
	conf, _ := c.ResolvConf(resolvconf.Pod{Namespace: "shop"})
	name := func(s string) workload.Name { return c.Classify(s, "shop") }
	all := resolver.Kinds
	for _, tc := range []struct {
		kinds []resolver.Kind
		names []string
		want  int
	}{
		{all, []string{"api.stripe.com"}, 1},
		{all, []string{"redis", "api.stripe.com"}, 1},
		{[]resolver.Kind{resolver.GLibc}, []string{"db.data"}, 2},
		{[]resolver.Kind{resolver.Musl}, []string{"db.data"}, 2},
		{all, []string{"db.data.svc", "api.stripe.com"}, 3},
		{all, []string{"web.shop.svc.cluster.local"}, 1},
		{all, []string{"db.data.svc."}, 1},
	} {
		var ns []workload.Name
		for _, s := range tc.names {
			ns = append(ns, name(s))
		}
		if got, ok := c.ProposeNdots(tc.kinds, conf.Conf, ns); !ok || got != tc.want {
			t.Errorf("%v %v: %d, %v; want %d", tc.kinds, tc.names, got, ok, tc.want)
		}
	}
	// With ndots:1, "db.data" is asked upstream first by glibc (it could
	// be a public name), and musl never searches it.
	one := conf.Conf.WithNdots(1)
	for _, k := range []resolver.Kind{resolver.GLibc, resolver.Musl} {
		if c.Resolvable(k, one, name("db.data")) {
			t.Errorf("%s resolves db.data with ndots:1 without asking outside the cluster", k)
		}
	}
	if !c.Resolves(resolver.GLibc, one, name("db.data")) || c.Resolves(resolver.Musl, one, name("db.data")) {
		t.Error("with ndots:1 glibc still resolves db.data in the end, musl does not")
	}
}

func TestCostsFollowThePolicyOnlyTheMeantNameExists(t *testing.T) {
	c := NewCluster("", Settings{})
	conf, _ := c.ResolvConf(resolvconf.Pod{})
	n := c.Classify("api.stripe.com", "")
	if q, nx := c.Cost(resolver.GLibc, conf.Conf, n); q != 8 || nx != 6 {
		t.Errorf("cost %d, %d NXDOMAIN", q, nx)
	}
	if plan := c.Plan(resolver.Musl, conf.Conf, n.Name, ""); len(plan) != 8 || plan[7].Answer != resolver.NXDomain {
		t.Errorf("nothing exists: %v", plan)
	}
	if !c.Resolves(resolver.Go, conf.Conf, n) || c.Resolves(resolver.Go, conf.Conf, c.Classify("api.stripe.com.", "")) != true {
		t.Error("api.stripe.com does not resolve")
	}
}
