package rules

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/k8slint/k8slint/internal/lint"
)

// benchObjects is how many workload objects BenchmarkLintWorkloads lints
// per iteration, split into files of benchPerFile objects (dnslint reads
// files of at most 8 MB).
const (
	benchObjects = 10000
	benchPerFile = 1000
)

// workloadFiles generates n workload objects of the kinds and shapes
// dnslint meets: Deployments with external and in-cluster hostnames in
// env values, URLs and args, host-network DaemonSets, pods with dnsConfig,
// CronJobs, and a ConfigMap consumed through envFrom every tenth object.
func workloadFiles(n, perFile int) [][]byte {
	images := []string{"python:3.12-slim", "node:20-alpine", "example.com/team/app:1.4.2", "nginx:1.27", "registry.k8s.io/kube-proxy:v1.30.0"}
	var files [][]byte
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 && i%perFile == 0 {
			files = append(files, []byte(b.String()))
			b.Reset()
		}
		img := images[i%len(images)]
		ns := fmt.Sprintf("team-%d", i%17)
		switch i % 10 {
		case 0:
			fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg-%d\n  namespace: %s\ndata:\n  DATABASE_URL: postgres://app:secret@pg-%d.data:5432/app\n  PAYMENTS_URL: https://api.stripe.com/v1\n  LOG_LEVEL: info\n", i, ns, i)
			fmt.Fprintf(&b, "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-%d\n  namespace: %s\nspec:\n  replicas: 3\n  template:\n    metadata:\n      labels: {app: web-%d}\n    spec:\n      containers:\n      - name: app\n        image: %s\n        envFrom:\n        - configMapRef:\n            name: cfg-%d\n        ports: [{containerPort: 8080}]\n", i, ns, i, img, i)
		case 3:
			fmt.Fprintf(&b, "---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: agent-%d\n  namespace: kube-system\nspec:\n  template:\n    spec:\n      hostNetwork: true\n      containers:\n      - name: agent\n        image: %s\n        env:\n        - name: COLLECTOR_HOST\n          value: collector.monitoring\n        - name: NODE_NAME\n          valueFrom: {fieldRef: {fieldPath: spec.nodeName}}\n", i, img)
		case 6:
			fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: tuned-%d\n  namespace: %s\nspec:\n  dnsConfig:\n    nameservers: [10.0.0.1, 10.0.0.2, 10.0.0.3]\n    searches: [corp.example.com, svc.cluster.local]\n    options:\n    - name: ndots\n      value: 2\n    - name: ndots\n      value: \"3\"\n  containers:\n  - name: c\n    image: %s\n    args: [\"--upstream\", \"auth:8080\", \"--metrics-endpoint=https://metrics.example.io/push\"]\n", i, ns, img)
		case 8:
			fmt.Fprintf(&b, "---\napiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: report-%d\n  namespace: %s\nspec:\n  schedule: \"0 * * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: OnFailure\n          containers:\n          - name: r\n            image: %s\n            env:\n            - name: S3_ENDPOINT\n              value: https://s3.eu-west-1.amazonaws.com\n            - name: DB_HOST\n              value: warehouse.data\n", i, ns, img)
		default:
			fmt.Fprintf(&b, "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: svc-%d\n  namespace: %s\n  labels: {app: svc-%d, tier: backend}\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: svc-%d}\n  template:\n    metadata:\n      labels: {app: svc-%d}\n    spec:\n      containers:\n      - name: app\n        image: %s\n        env:\n        - name: REDIS_URL\n          value: redis://redis-%d:6379/0\n        - name: API_BASE\n          value: https://api.partner-%d.example.com/v2\n        - name: VERSION\n          value: \"1.%d.0\"\n        resources:\n          requests: {cpu: 100m, memory: 128Mi}\n", i, ns, i, i, i, img, i%5, i%7, i)
		}
	}
	files = append(files, []byte(b.String()))
	return files
}

// BenchmarkLintWorkloads loads and lints 10,000 workload objects with
// every rule and reports objects per second.
func BenchmarkLintWorkloads(b *testing.B) {
	files := workloadFiles(benchObjects, benchPerFile)
	opts := options(PodNdotsHigh)
	opts.Rules = All()
	objects, findings := 0, 0
	for _, src := range files {
		in, err := lint.Load("bench.yaml", src)
		if err != nil {
			b.Fatal(err)
		}
		objects += len(in.Workloads)
		findings += len(lint.Run(in, opts))
	}
	if objects != benchObjects || findings == 0 {
		b.Fatalf("%d workload objects, %d findings", objects, findings)
	}
	// Loading alone (YAML parsing, the workload model, no rule) is the
	// ceiling the rules are measured against.
	b.Run("load-only", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for _, src := range files {
				lint.Load("bench.yaml", src)
			}
		}
		b.ReportMetric(float64(benchObjects*b.N)/b.Elapsed().Seconds(), "objects/s")
	})
	b.Run("sequential", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for _, src := range files {
				in, _ := lint.Load("bench.yaml", src)
				lint.Run(in, opts)
			}
		}
		b.ReportMetric(float64(benchObjects*b.N)/b.Elapsed().Seconds(), "objects/s")
	})
	// Files are independent: one goroutine per CPU, as dnslint lints the
	// files it is given.
	b.Run(fmt.Sprintf("files-in-parallel-%d", runtime.GOMAXPROCS(0)), func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			next := make(chan []byte)
			var wg sync.WaitGroup
			for range runtime.GOMAXPROCS(0) {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for src := range next {
						in, _ := lint.Load("bench.yaml", src)
						lint.Run(in, opts)
					}
				}()
			}
			for _, src := range files {
				next <- src
			}
			close(next)
			wg.Wait()
		}
		b.ReportMetric(float64(benchObjects*b.N)/b.Elapsed().Seconds(), "objects/s")
	})
}
