// Package lintbench generates the inputs of dnslint's benchmarks, shared by
// the library benchmarks (package rules) and the command's (cmd/dnslint) so
// that both lint the same objects.
package lintbench

import (
	"fmt"
	"strings"
)

// Objects is how many workload objects the workload benchmarks lint per
// iteration, split into files of PerFile objects: 100 files of 100, the
// shape of issue 13's target for the whole process (cmd/dnslint-bench).
const (
	Objects = 10000
	PerFile = 100
)

// WorkloadFiles generates n workload objects of the kinds and shapes
// dnslint meets: Deployments with external and in-cluster hostnames in
// env values, URLs and args, host-network DaemonSets, pods with dnsConfig,
// CronJobs, and a ConfigMap consumed through envFrom every tenth object.
func WorkloadFiles(n, perFile int) [][]byte {
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
