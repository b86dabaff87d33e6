package workload

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/k8slint/k8slint/internal/lint/manifest"
	"github.com/k8slint/k8slint/internal/resolver"
)

func names(fs []string) []string { return fs }

func TestExtractFindsHostsInURLsAndContextsButNotVersionsFilesOrIPs(t *testing.T) {
	cases := []struct {
		value, key string
		want       []string
	}{
		{"https://api.stripe.com/v1", "", []string{"api.stripe.com"}},
		{"postgres://user:p%40ss@pg.db:5432/shop?sslmode=disable", "", []string{"pg.db"}},
		{"jdbc:postgresql://pg.example.com:5432/app", "", []string{"pg.example.com"}},
		{"jdbc:oracle:thin:@ora.corp.example.com:1521:ORCL", "", []string{"ora.corp.example.com"}},
		{"mongodb://m1.example.net:27017,m2.example.net:27017/app", "", []string{"m1.example.net", "m2.example.net"}},
		{"redis://redis:6379/0", "", []string{"redis"}},
		{"amqp://guest:guest@rabbitmq.mq.svc:5672/", "", []string{"rabbitmq.mq.svc"}},
		{"cartservice:7070", "", []string{"cartservice"}},
		{"kafka-0.kafka:9092,kafka-1.kafka:9092", "", []string{"kafka-0.kafka", "kafka-1.kafka"}},
		{"postgres", "DB_HOST", []string{"postgres"}},
		{"redis.cache", "CACHE_HOST", []string{"redis.cache"}},
		{"redis.cache", "CACHE_NAME", nil},
		{"logs.papertrailapp.com", "", []string{"logs.papertrailapp.com"}},
		{"api.github.com.", "", []string{"api.github.com."}},
		{"orders.shop.svc.cluster.local", "", []string{"orders.shop.svc.cluster.local"}},
		// Not hostnames.
		{"1.2.3", "VERSION", nil},
		{"v2.10.1", "", nil},
		{"app.py", "", nil},
		{"config.yaml", "CONFIG", nil},
		{"/etc/app/config.yaml", "", nil},
		{"10.0.0.1", "DB_HOST", nil},
		{"http://10.0.0.1:8080/", "", nil},
		{"http://[fd00::1]:80/", "", nil},
		{"localhost:5432", "", nil},
		{"node:20", "", nil},
		{"true", "USE_HOST", nil},
		{"{{ .Values.host }}", "DB_HOST", nil},
		{"$(POD_IP):8080", "", nil},
		{"io.k8s.cassandra.KubernetesSeedProvider", "", nil},
		{"512M", "MAX_HEAP", nil},
		{"user@example.com", "", nil},
		{"info", "LOG_LEVEL", nil},
	}
	for _, c := range cases {
		if got := names(Extract(c.value, c.key)); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Extract(%q, %q) = %q, want %q", c.value, c.key, got, c.want)
		}
	}
}

func TestExtractReadsConfigFilesLineByLine(t *testing.T) {
	text := "# comment with api.ignored.com\nredis.host=redis\nversion=1.2.3\nlog.file=app.py\nupstream:\n  url: https://auth.example.org/token\nserver backend.internal:8443;\n"
	want := []string{"redis", "auth.example.org", "backend.internal"}
	if got := names(Extract(text, "app.properties")); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestExtractArgUsesThePrecedingFlag(t *testing.T) {
	if got := names(ExtractArg("auth", "--upstream-host")); !reflect.DeepEqual(got, []string{"auth"}) {
		t.Errorf("flag context: %q", got)
	}
	if got := names(ExtractArg("auth", "--name")); got != nil {
		t.Errorf("no context: %q", got)
	}
	if got := names(ExtractArg("--server=ldap", "")); !reflect.DeepEqual(got, []string{"ldap"}) {
		t.Errorf("--flag=value: %q", got)
	}
}

func TestABareNameAfterAHostCommandIsAHost(t *testing.T) {
	if got := names(ExtractArg("redis", "nc")); !reflect.DeepEqual(got, []string{"redis"}) {
		t.Errorf("argv after nc: %q", got)
	}
	if got := names(ExtractArg("nc -z -v redis 6379 && ping -c1 db", "")); !reflect.DeepEqual(got, []string{"redis", "db"}) {
		t.Errorf("shell text: %q", got)
	}
	if got := names(ExtractArg("echo redis 6379", "")); got != nil {
		t.Errorf("no host command: %q", got)
	}
	if got := names(Extract("until nc -z postgres 5432; do sleep 1; done\n", "")); !reflect.DeepEqual(got, []string{"postgres"}) {
		t.Errorf("script: %q", got)
	}
}

func TestClassifyReadsShortNamesAsServices(t *testing.T) {
	cases := []struct {
		name     string
		in       bool
		fqdn     string
		dots     int
		absolute bool
	}{
		{"db", true, "db.shop.svc.cluster.local.", 0, false},
		{"db.data", true, "db.data.svc.cluster.local.", 1, false},
		{"db.data.svc", true, "db.data.svc.cluster.local.", 2, false},
		{"db.data.svc.cluster.local", true, "db.data.svc.cluster.local.", 4, false},
		{"api.stripe.com", false, "api.stripe.com.", 2, false},
		{"api.stripe.com.", false, "api.stripe.com.", 2, true},
		{"DB.Data", true, "db.data.svc.cluster.local.", 1, false},
	}
	for _, c := range cases {
		n := Classify(c.name, "shop", "cluster.local")
		if n.InCluster != c.in || n.FQDN != c.fqdn || n.Dots != c.dots || n.Absolute != c.absolute {
			t.Errorf("Classify(%q) = %+v", c.name, n)
		}
	}
}

func TestImageFamilyGuessesOnlyWhatTheReferenceSays(t *testing.T) {
	cases := []struct {
		ref   string
		kind  resolver.Kind
		known bool
	}{
		{"alpine:3.20", resolver.Musl, true},
		{"python:3.12-alpine", resolver.Musl, true},
		{"docker.io/library/nginx:alpine@sha256:abc", resolver.Musl, true},
		{"python:3.12-slim", resolver.GLibc, true},
		{"python:3.12", resolver.GLibc, true},
		{"debian:bookworm", resolver.GLibc, true},
		{"registry.access.redhat.com/ubi9/ubi-minimal", resolver.GLibc, true},
		{"gcr.io/distroless/base-debian12", resolver.GLibc, true},
		{"gcr.io/distroless/static:nonroot", resolver.Go, true},
		{"registry.k8s.io/kube-proxy:v1.30.0", resolver.Go, true},
		{"example.com/team/app:1.0", 0, false},
		{"busybox", 0, false},
		{"{{ .Values.image }}", 0, false},
		{"", 0, false},
	}
	for _, c := range cases {
		f := ImageFamily(c.ref)
		if f.Known != c.known || f.Known && f.Kind != c.kind || f.Why == "" {
			t.Errorf("ImageFamily(%q) = %+v", c.ref, f)
		}
	}
}

const allKinds = `apiVersion: v1
kind: Pod
metadata: {name: p, namespace: ns1}
spec:
  containers: [{name: c-pod, image: a}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec: {template: {spec: {containers: [{name: c-deploy, image: a}]}}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: s}
spec: {template: {spec: {containers: [{name: c-sts, image: a}]}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ds}
spec: {template: {spec: {initContainers: [{name: c-init, image: a}], containers: [{name: c-ds, image: a}]}}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs}
spec: {template: {spec: {containers: [{name: c-rs, image: a}]}}}
---
apiVersion: v1
kind: ReplicationController
metadata: {name: rc}
spec: {template: {spec: {containers: [{name: c-rc, image: a}]}}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: j}
spec: {template: {spec: {containers: [{name: c-job, image: a}]}}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: cj}
spec: {jobTemplate: {spec: {template: {spec: {containers: [{name: c-cron, image: a}]}}}}}
---
apiVersion: v1
kind: PodTemplate
metadata: {name: pt}
template: {spec: {containers: [{name: c-pt, image: a}]}}
---
{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "jp"}, "spec": {"containers": [{"name": "c-json", "image": "a"}]}}]}
---
apiVersion: v1
kind: Service
metadata: {name: svc}
spec: {ports: [{port: 80}]}
`

func TestEveryWorkloadKindYieldsItsPodSpec(t *testing.T) {
	pods := Load(manifest.Load([]byte(allKinds)))
	var got []string
	for _, p := range pods {
		for _, c := range p.Containers {
			got = append(got, p.Kind+"/"+c.Name)
		}
	}
	want := []string{"Pod/c-pod", "Deployment/c-deploy", "StatefulSet/c-sts", "DaemonSet/c-init", "DaemonSet/c-ds", "ReplicaSet/c-rs",
		"ReplicationController/c-rc", "Job/c-job", "CronJob/c-cron", "PodTemplate/c-pt", "Pod/c-json"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if pods[0].Namespace != "ns1" || pods[1].Namespace != "" {
		t.Errorf("namespaces %q %q", pods[0].Namespace, pods[1].Namespace)
	}
}

const consumer = `apiVersion: v1
kind: ConfigMap
metadata: {name: env, namespace: shop}
data:
  DB_HOST: postgres.data
  UNUSED: https://not.used.example.com
---
apiVersion: v1
kind: ConfigMap
metadata: {name: files, namespace: shop}
data:
  app.conf: |
    upstream = https://auth.example.org
  other.conf: |
    upstream = https://other.example.org
---
apiVersion: v1
kind: ConfigMap
metadata: {name: files, namespace: elsewhere}
data:
  app.conf: |
    upstream = https://wrong.namespace.example.org
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: shop}
spec:
  dnsPolicy: Default
  hostNetwork: true
  dnsPolicy: ClusterFirst
  volumes:
  - name: f
    configMap:
      name: files
      items: [{key: app.conf, path: app.conf}]
  containers:
  - name: app
    image: alpine
    env:
    - name: DB
      valueFrom: {configMapKeyRef: {name: env, key: DB_HOST}}
    - name: API
      value: "https://api.stripe.com"
    volumeMounts: [{name: f, mountPath: /etc/app}]
    args: ["--metrics-host", "metrics.monitoring"]
`

func TestHostsComeFromEnvArgsAndTheConfigMapsThePodConsumes(t *testing.T) {
	src := []byte(consumer)
	pods := Load(manifest.Load(src))
	if len(pods) != 1 {
		t.Fatalf("%d pods", len(pods))
	}
	p := pods[0]
	var got []string
	for _, h := range p.Hosts {
		got = append(got, h.Name+" <"+h.Source+">")
		if !strings.HasPrefix(strings.ToLower(string(src[h.Offset:])), h.Name) {
			t.Errorf("%s points at %q", h.Name, src[h.Offset:min(h.Offset+20, len(src))])
		}
	}
	want := []string{"postgres.data <ConfigMap shop/env key DB_HOST>", "api.stripe.com <env API>", "metrics.monitoring <args>", "auth.example.org <ConfigMap shop/files key app.conf>"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if p.Policy() != "ClusterFirst" || len(p.DNSPolicyDups) != 1 || p.DNSPolicyDups[0].Value != "Default" || !p.HostNetworkOn() {
		t.Errorf("policy %q dups %+v host %v", p.Policy(), p.DNSPolicyDups, p.HostNetworkOn())
	}
}

func TestPositionsCountCharactersNotBytes(t *testing.T) {
	src := []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p, annotations: {n: \"ünïcödé\"}}\nspec:\n  containers: [{name: c, env: [{name: X, value: \"ünï https://api.example.com\"}]}]\n")
	p := Load(manifest.Load(src))[0]
	h := p.Hosts[0]
	if !strings.HasPrefix(string(src[h.Offset:]), "api.example.com") {
		t.Fatalf("offset %d points at %q", h.Offset, src[h.Offset:])
	}
}

func TestRealWorldManifestsGiveHostsInsideTheFile(t *testing.T) {
	paths, _ := filepath.Glob("../../../../shared/corpus/*.yaml")
	if len(paths) == 0 {
		paths, _ = filepath.Glob("/work/shared/corpus/*.yaml")
	}
	if len(paths) == 0 {
		t.Skip("no shared/corpus beside the checkout")
	}
	total := 0
	for _, path := range paths {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range Load(manifest.Load(src)) {
			total++
			for _, h := range p.Hosts {
				if h.Offset < 0 || h.Offset >= len(src) {
					t.Errorf("%s: %s at %d outside the file", path, h.Name, h.Offset)
				}
			}
		}
	}
	if total < 10 {
		t.Errorf("only %d pod specs in the corpus", total)
	}
}
