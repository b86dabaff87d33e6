package workload_test

import (
	"strings"
	"testing"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/rules"
	"github.com/k8slint/k8slint/internal/lint/workload"
)

var workloadSeeds = []string{
	"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  hostNetwork: true\n  containers:\n  - name: c\n    image: alpine\n    env:\n    - name: DB_HOST\n      value: db.data\n    - name: API\n      value: https://api.stripe.com\n",
	"apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      dnsPolicy: clusterfirst\n      dnsConfig:\n        nameservers: [1.1.1.1, 2.2.2.2, 3.3.3.3, 4.4.4.4]\n        options:\n        - name: ndots\n          value: 20\n        - name: ndots\n      containers: [{name: c, image: python, args: [\"--host\", \"x:80\"]}]\n",
	"{\"kind\":\"List\",\"items\":[{\"kind\":\"CronJob\",\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":{\"spec\":{\"dnsPolicy\":\"None\",\"containers\":[{\"name\":\"c\",\"env\":[{\"name\":\"U\",\"value\":\"redis://r:6379\"}]}]}}}}}}]}",
	"kind: ConfigMap\nmetadata: {name: m}\ndata:\n  a.conf: |\n    url = jdbc:postgresql://pg.example.com:5432/x\n---\nkind: Pod\nspec:\n  volumes: [{name: v, configMap: {name: m}}]\n  containers:\n  - name: c\n    envFrom: [{configMapRef: {name: m}}]\n    volumeMounts: [{name: v, mountPath: /x}]\n",
	"kind: Pod\nspec:\n  dnsConfig:\n    searches: [a, a, svc.cluster.local]\n    options: &o [{name: x}]\n  containers: *o\n",
	"kind: Pod\nspec: {dnsPolicy: [x], hostNetwork: {a: b}, dnsConfig: 3, containers: [{env: [{value: [1]}]}]}\n",
}

// FuzzWorkloads lints hostile workload manifests with every rule: no
// panic, every finding inside the file, every fix applicable, and the
// fixed file lints again without a panic.
func FuzzWorkloads(f *testing.F) {
	for _, s := range workloadSeeds {
		f.Add([]byte(s))
	}
	opts := lint.Options{Config: lint.Config{CoreDNSVersion: lint.DefaultCoreDNSVersion}, Known: func(id string) bool { _, ok := rules.ByID(id); return ok }}
	for _, r := range rules.All() {
		if r.ID != "corefile-invalid" { // CoreDNS's own parser is not ours to fuzz
			opts.Rules = append(opts.Rules, r)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		in, err := lint.Load("fuzz.yaml", src)
		if err != nil {
			return
		}
		fs := lint.Run(in, opts)
		for _, x := range fs {
			if x.Offset < 0 || x.Offset > len(src) {
				t.Fatalf("finding outside the file: %+v", x)
			}
		}
		fixed, changed, err := lint.Fixed(src, fs)
		if err != nil {
			t.Fatalf("fixes do not apply: %v", err)
		}
		if changed {
			in, err := lint.Load("fuzz.yaml", fixed)
			if err == nil {
				lint.Run(in, opts)
			}
		}
	})
}

// FuzzExtract checks the hostname extractor: whatever it returns is taken
// from the text and is a hostname by its own definition.
func FuzzExtract(f *testing.F) {
	for _, s := range []string{"https://api.stripe.com/v1", "postgres://u:p@pg:5432/db", "mongodb://a:1,b:2/x", "redis.host=redis\nurl: http://x.example.com",
		"jdbc:oracle:thin:@o.example.com:1521:X", "1.2.3", "app.py", "[::1]:53", "a b c d e f", "://", "x://@:,;"} {
		f.Add(s, "DB_HOST")
	}
	f.Fuzz(func(t *testing.T, value, key string) {
		for _, hosts := range [][]string{workload.Extract(value, key), workload.ExtractArg(value, key)} {
			for _, h := range hosts {
				if !strings.Contains(strings.ToLower(value), strings.ToLower(h)) {
					t.Fatalf("%q is not in %q", h, value)
				}
				if !workload.IsHostname(h, true) {
					t.Fatalf("%q returned but not a hostname", h)
				}
			}
		}
	})
}
