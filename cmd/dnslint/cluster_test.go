package main

import (
	"testing"

	"github.com/k8slint/k8slint/internal/kubeapi"
	"github.com/k8slint/k8slint/internal/lint"
)

func TestParseClusterReadsKubectlsFlagsAndLintingsOwn(t *testing.T) {
	def := func(change func(*clusterCmd)) clusterCmd {
		c := clusterCmd{format: "text", failOn: lint.Warning, version: lint.DefaultCoreDNSVersion, chunkSize: 500, top: 10, settings: settings{clusterDomain: "cluster.local"}}
		change(&c)
		return c
	}
	cases := []struct {
		name    string
		args    []string
		want    clusterCmd
		wantErr string
	}{
		{name: "defaults", args: nil, want: def(func(*clusterCmd) {})},
		{name: "kubectl's flags", args: []string{"--kubeconfig", "k", "--context=c", "-n", "web", "--chunk-size", "50"},
			want: def(func(c *clusterCmd) { c.kubeconfig, c.context, c.namespace, c.chunkSize = "k", "c", "web", 50 })},
		{name: "long namespace", args: []string{"--namespace", "web"}, want: def(func(c *clusterCmd) { c.namespace = "web" })},
		{name: "all namespaces", args: []string{"-A", "--format", "sarif"}, want: def(func(c *clusterCmd) { c.allNamespaces, c.format = true, "sarif" })},
		{name: "long all namespaces", args: []string{"--all-namespaces"}, want: def(func(c *clusterCmd) { c.allNamespaces = true })},
		{name: "linting's flags", args: []string{"--disable", "pod-ndots-high", "--fail-on", "error", "--k8s-version", "1.27", "--cluster-domain", "k.local"},
			want: def(func(c *clusterCmd) {
				c.disable, c.failOn, c.k8sVersion, c.clusterDomain, c.clusterDomainStated = []string{"pod-ndots-high"}, lint.Error, lint.Version{1, 27, 0}, "k.local", true
			})},
		{name: "the report's flags", args: []string{"--report-port", "9155", "--top", "3"}, want: def(func(c *clusterCmd) { c.reportPort, c.top = 9155, 3 })},
		{name: "no report", args: []string{"--no-report"}, want: def(func(c *clusterCmd) { c.noReport = true })},
		{name: "an image with k8slint", args: []string{"--k8slint"}, want: def(func(c *clusterCmd) { c.k8slint = true })},
		{name: "bad port", args: []string{"--report-port", "70000"}, wantErr: "--report-port: not a port"},
		{name: "no top", args: []string{"--top", "0"}, wantErr: "--top: must be 1 or more"},
		{name: "both -n and -A", args: []string{"-n", "web", "-A"}, wantErr: "-n and -A (--all-namespaces) exclude each other"},
		{name: "a path", args: []string{"deploy/"}, wantErr: `takes no PATH (got "deploy/")`},
		{name: "bad format", args: []string{"--format", "xml"}, wantErr: `unknown format "xml"`},
		{name: "negative chunk size", args: []string{"--chunk-size", "-1"}, wantErr: "--chunk-size: must be 0"},
		{name: "a flag of file linting", args: []string{"--fix"}, wantErr: "-fix"},
	}
	for _, c := range cases {
		checkParse(t, c.name, c.args, c.want, c.wantErr, parseCluster)
	}
}

func TestObjectsOfAControllerAreLintedThroughIt(t *testing.T) {
	ctl := func(kind string) kubeapi.Meta {
		return kubeapi.Meta{Owners: []kubeapi.Owner{{Kind: kind, Name: "x", Controller: true}}}
	}
	cases := []struct {
		kind string
		meta kubeapi.Meta
		want bool
	}{
		{"pod", kubeapi.Meta{}, false},
		{"pod", ctl("ReplicaSet"), true},
		{"pod", ctl("Node"), true}, // a static pod's mirror
		{"pod", kubeapi.Meta{Owners: []kubeapi.Owner{{Kind: "ConfigMap", Name: "x"}}}, false},
		{"job", ctl("CronJob"), true},
		{"job", kubeapi.Meta{}, false},
		{"job", ctl("Workflow"), false},
		{"deployment", ctl("Something"), false},
	}
	for _, c := range cases {
		if got := linkedThroughOwner(c.kind, c.meta); got != c.want {
			t.Errorf("%s owned by %+v: linted through its owner = %v, want %v", c.kind, c.meta.Owners, got, c.want)
		}
	}
}

func TestObjectsReadFromAClusterAreNamedByNamespaceKindAndName(t *testing.T) {
	if got := objectName("kube-system", "configmap", "coredns"); got != "cluster://kube-system/configmap/coredns" {
		t.Errorf("objectName = %q", got)
	}
	if got := collectionPath("apps/v1", "deployments", ""); got != "/apis/apps/v1/deployments" {
		t.Errorf("all namespaces: %q", got)
	}
	if got := collectionPath("v1", "pods", "web"); got != "/api/v1/namespaces/web/pods" {
		t.Errorf("one namespace: %q", got)
	}
}
