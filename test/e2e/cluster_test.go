package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/k8slint/k8slint/internal/lint/rules"
	"github.com/k8slint/k8slint/internal/testenv"
)

const lintNS = "e2e-lint"

// lintObjects are workloads of every kind dnslint cluster lists, each
// with a finding, none of which runs a pod (replicas 0, suspended, a node
// selector no node has), so that they do not change while the test reads
// them twice.
var lintObjects = `apiVersion: v1
kind: Namespace
metadata:
  name: e2e-lint
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: e2e-lint
spec:
  replicas: 0
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      dnsConfig:
        options:
        - {name: ndots, value: "5"}
        - {name: ndots, value: "5"}
      containers:
      - name: web
        image: localhost/k8slint/toolbox-glibc:e2e
        imagePullPolicy: Never
        env:
        - {name: API_HOST, value: api.example.com}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: e2e-lint
spec:
  replicas: 0
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - name: db
        image: localhost/k8slint/toolbox-musl:e2e
        imagePullPolicy: Never
        args: [--replicate-from, db.example.org]
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  namespace: e2e-lint
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      hostNetwork: true
      nodeSelector: {e2e-lint/no-such-node: "true"}
      containers:
      - {name: agent, image: localhost/k8slint/toolbox-glibc:e2e, imagePullPolicy: Never}
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: report
  namespace: e2e-lint
spec:
  schedule: "0 0 1 1 *"
  suspend: true
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          dnsConfig:
            options:
            - {name: ndots, value: "16"}
          containers:
          - {name: report, image: localhost/k8slint/toolbox-musl:e2e, imagePullPolicy: Never}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  namespace: e2e-lint
spec:
  suspend: true
  template:
    spec:
      restartPolicy: Never
      dnsConfig:
        options:
        - {name: ndots, value: "2"}
        - {name: ndots, value: "3"}
      containers:
      - {name: migrate, image: localhost/k8slint/toolbox-glibc:e2e, imagePullPolicy: Never}
---
apiVersion: v1
kind: Pod
metadata:
  name: debug
  namespace: e2e-lint
spec:
  nodeSelector: {e2e-lint/no-such-node: "true"}
  dnsConfig:
    searches: [corp.example, corp.example]
  containers:
  - {name: debug, image: localhost/k8slint/toolbox-glibc:e2e, imagePullPolicy: Never}
`

// lintObjectNames are the objects of lintObjects by kubectl's resource
// name, and the CoreDNS ConfigMap: what dnslint cluster -n e2e-lint reads.
var lintObjectNames = [][3]string{
	{"kube-system", "configmap", "coredns"},
	{lintNS, "deployment", "web"},
	{lintNS, "statefulset", "db"},
	{lintNS, "daemonset", "agent"},
	{lintNS, "cronjob", "report"},
	{lintNS, "job", "migrate"},
	{lintNS, "pod", "debug"},
}

// dnslint runs the dnslint binary and returns its output and exit code.
func dnslint(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	bin, err := testenv.Binary("./cmd/dnslint")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatal(err)
		}
	}
	return o.String(), e.String(), cmd.ProcessState.ExitCode()
}

// finding is a dnslint JSON finding.
type finding = map[string]any

// findingsByFile reads dnslint --format json output, grouped by file.
func findingsByFile(t *testing.T, out string) map[string][]finding {
	t.Helper()
	var doc struct{ Findings []finding }
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("dnslint --format json: %v\n%s", err, out)
	}
	by := map[string][]finding{}
	for _, f := range doc.Findings {
		file := f["file"].(string)
		delete(f, "file")
		by[file] = append(by[file], f)
	}
	return by
}

// applyYAML runs kubectl apply on a manifest.
func applyYAML(t *testing.T, manifest string) {
	t.Helper()
	cmd := cluster.Kubectl("apply", "-f", "-")
	cmd.Stdin = strings.NewReader(manifest)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, out)
	}
}

// deployReporting rolls out kubeadm's CoreDNS with k8slint serving its
// report on :9154, with attribution, in the given number of replicas,
// allowed the overlay's rule on Jobs (attribution names a CronJob's pods
// as the CronJob). The tests of dnslint cluster share it: a second call
// with as many replicas changes nothing.
func deployReporting(t *testing.T, ctx context.Context, replicas int32) {
	t.Helper()
	cf := strings.Replace(corefile(t, nil, ""), "    k8slint\n", "    k8slint {\n       attribution\n       report :9154\n    }\n", 1)
	if !strings.Contains(cf, "report :9154") {
		t.Fatal("kubeadm's Corefile has no k8slint line to extend")
	}
	grantJobs(t, ctx, true)
	deploy(t, ctx, customImage, cf, replicas)
}

// grantJobs applies (grant) or deletes the overlay's RBAC,
// deploy/kustomize/coredns-custom/rbac.yaml (list and watch of Jobs for
// CoreDNS's ServiceAccount, beyond system:coredns), and waits until the
// API server's authorizer says so: CoreDNS pods started afterwards see it
// from their first request.
func grantJobs(t *testing.T, ctx context.Context, grant bool) {
	t.Helper()
	f := filepath.Join(root, "deploy", "kustomize", "coredns-custom", "rbac.yaml")
	want := "yes"
	if grant {
		kubectl(t, "apply", "-f", f)
	} else {
		kubectl(t, "delete", "--ignore-not-found", "-f", f)
		want = "no"
	}
	if err := waitFor(ctx, 30*time.Second, func() error {
		out, _ := cluster.Kubectl("auth", "can-i", "watch", "jobs.batch", "--all-namespaces", "--as=system:serviceaccount:kube-system:coredns").Output()
		if got := strings.TrimSpace(string(out)); got != want {
			return fmt.Errorf("kubectl auth can-i watch jobs.batch as CoreDNS: %q, want %s", got, want)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// cronJobYAML is a CronJob of namespace ns that never runs on its own
// (suspended; the tests make its Job with kubectl create job --from),
// whose pods run image (its /pause) with kubelet's ndots:5 and are
// labelled app=name.
func cronJobYAML(ns, name, image string) string {
	return fmt.Sprintf(`apiVersion: batch/v1
kind: CronJob
metadata:
  name: %[2]s
  namespace: %[1]s
spec:
  schedule: "0 0 1 1 *"
  suspend: true
  jobTemplate:
    spec:
      template:
        metadata: {labels: {app: %[2]s}}
        spec:
          restartPolicy: Never
          terminationGracePeriodSeconds: 0
          containers:
          - name: main
            image: %[3]s
            imagePullPolicy: Never
            env:
            - {name: API_HOST, value: api.example.com}
`, ns, name, image)
}

// The same objects give the same findings, at the same lines, columns and
// offsets with the same fixes, whether dnslint reads them from the cluster
// (in pages of 500 objects or of one) or from the files `kubectl get -o
// yaml` writes; the pods and Jobs that belong to a controller are not
// linted again.
func TestDnslintClusterFindsWhatItFindsInTheObjectsKubectlSaves(t *testing.T) {
	need(t)
	ctx := context.Background()
	deployReporting(t, ctx, 1)
	applyYAML(t, lintObjects) // kept for the next test

	dir := t.TempDir()
	var last string
	for try := 0; ; try++ {
		// The controllers annotate and status-update new objects a little
		// after they are created: read until two reads agree.
		clusterOut, stderr, code := dnslint(t, "cluster", "--kubeconfig", cluster.Kubeconfig("admin"), "-n", lintNS, "--format", "json", "--no-report")
		if code != 1 || stderr != "" {
			t.Fatalf("dnslint cluster: exit %d (want 1: findings)\n%s", code, stderr)
		}
		var files []string
		want := map[string][]finding{}
		for _, o := range lintObjectNames {
			f := filepath.Join(dir, o[0]+"_"+o[1]+"_"+o[2]+".yaml")
			if err := os.WriteFile(f, []byte(kubectl(t, "get", "-n", o[0], o[1], o[2], "-o", "yaml")), 0o644); err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		fileOut, stderr, _ := dnslint(t, append([]string{"--format", "json"}, files...)...)
		if stderr != "" {
			t.Fatalf("dnslint FILES: %s", stderr)
		}
		got := findingsByFile(t, clusterOut)
		for i, o := range lintObjectNames {
			if fs := findingsByFile(t, fileOut)[files[i]]; fs != nil {
				want["cluster://"+o[0]+"/"+o[1]+"/"+o[2]] = fs
			}
		}
		// One object a page: the same findings through the continue tokens.
		paged, _, _ := dnslint(t, "cluster", "--kubeconfig", cluster.Kubeconfig("admin"), "-n", lintNS, "--format", "json", "--no-report", "--chunk-size", "1")
		if reflect.DeepEqual(got, want) && paged == clusterOut {
			for _, o := range lintObjectNames[1:] {
				if len(got["cluster://"+o[0]+"/"+o[1]+"/"+o[2]]) == 0 {
					t.Errorf("%s %s: no finding; the test means each to have one", o[1], o[2])
				}
			}
			return
		}
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		last = fmt.Sprintf("from the cluster:\n%s\nfrom the files:\n%s\none object a page:\n%s", g, w, paged)
		if try == 10 {
			t.Fatalf("the findings differ:\n%s", last)
		}
		time.Sleep(time.Second)
	}
}

// rbacDocs returns deploy/rbac/dnslint-cluster.yaml's documents.
func rbacDocs(t *testing.T) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "deploy", "rbac", "dnslint-cluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var docs []map[string]any
	for _, d := range strings.Split(string(b), "\n---\n") {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(d), &m); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, m)
	}
	return docs
}

// rbacYAML writes documents back as one manifest.
func rbacYAML(t *testing.T, docs []map[string]any) string {
	t.Helper()
	var parts []string
	for _, d := range docs {
		b, err := yaml.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, string(b))
	}
	return strings.Join(parts, "---\n")
}

// serviceAccountKubeconfig returns a kubeconfig whose only credential is a
// token of ServiceAccount kube-system/dnslint.
func serviceAccountKubeconfig(t *testing.T) string {
	t.Helper()
	token := strings.TrimSpace(kubectl(t, "create", "token", "dnslint", "-n", "kube-system", "--duration", "1h"))
	f := filepath.Join(t.TempDir(), "dnslint.kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster: {certificate-authority: %q, server: %q}
users:
- name: dnslint
  user: {token: %q}
contexts:
- name: e2e
  context: {cluster: e2e, user: dnslint, namespace: %s}
current-context: e2e
`, cluster.Config.TLSClientConfig.CAFile, cluster.Config.Host, token, lintNS)
	if err := os.WriteFile(f, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// dnslint cluster runs as the ServiceAccount of
// deploy/rbac/dnslint-cluster.yaml with nothing but its token, across all
// namespaces; without any one of the file's rules it fails with exit 2
// and an error that names what it could not read and the file, while
// still printing the findings of what it could read: the file grants
// exactly what the command uses.
func TestDnslintClusterRunsWithTheRBACItShipsAndNeedsEveryRule(t *testing.T) {
	need(t)
	ctx := context.Background()
	deployReporting(t, ctx, 1)
	applyYAML(t, lintObjects)
	docs := rbacDocs(t)
	applyYAML(t, rbacYAML(t, docs))
	t.Cleanup(func() {
		deleteNamespace(t, lintNS)
		cmd := cluster.Kubectl("delete", "--ignore-not-found", "-f", "-")
		cmd.Stdin = strings.NewReader(rbacYAML(t, docs))
		cmd.Run()
	})
	kc := serviceAccountKubeconfig(t)

	// run runs dnslint cluster -A as the ServiceAccount until it exits
	// with code (RBAC changes reach the authorizer through a watch).
	run := func(code int, what string) (string, string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			// Every rule, the opt-in ones too: corefile-pods-insecure
			// gives the kubeadm ConfigMap a finding, so the output
			// shows it was read.
			out, stderr, got := dnslint(t, "cluster", "--kubeconfig", kc, "-A", "--enable", allRules())
			if got == code {
				return out, stderr
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: dnslint cluster -A exits %d, want %d\n%s%s", what, got, code, out, stderr)
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	out, stderr := run(1, "with the shipped RBAC")
	if stderr != "" {
		t.Errorf("with the shipped RBAC: stderr:\n%s", stderr)
	}
	for _, o := range lintObjectNames {
		if name := "cluster://" + o[0] + "/" + o[1] + "/" + o[2] + ":"; !strings.Contains(out, name) {
			t.Errorf("with the shipped RBAC: no finding on %s in:\n%s", name, out)
		}
	}

	type ruleRef struct{ doc, rule int }
	var refs []ruleRef
	for i, d := range docs {
		if d["kind"] == "ClusterRole" || d["kind"] == "Role" {
			for j := range d["rules"].([]any) {
				refs = append(refs, ruleRef{i, j})
			}
		}
	}
	for _, r := range refs {
		rule := docs[r.doc]["rules"].([]any)[r.rule].(map[string]any)
		resources := fmt.Sprint(rule["resources"])
		without := make([]map[string]any, len(docs))
		copy(without, docs)
		d := map[string]any{}
		for k, v := range docs[r.doc] {
			d[k] = v
		}
		rs := append([]any(nil), docs[r.doc]["rules"].([]any)...)
		d["rules"] = append(rs[:r.rule], rs[r.rule+1:]...)
		without[r.doc] = d
		applyYAML(t, rbacYAML(t, without))
		what := fmt.Sprintf("%s without its rule on %s", docs[r.doc]["kind"], resources)
		out, stderr := run(2, what)
		if !strings.Contains(stderr, "is forbidden: User \"system:serviceaccount:kube-system:dnslint\" cannot") ||
			!strings.Contains(stderr, "(deploy/rbac/dnslint-cluster.yaml grants what dnslint cluster reads)") {
			t.Errorf("%s: the error does not say what was refused and where the rules are:\n%s", what, stderr)
		}
		if !strings.Contains(out, "cluster://") {
			t.Errorf("%s: no finding of what could still be read:\n%s", what, out)
		}
		t.Logf("%s:\n%s", what, stderr)
	}
	applyYAML(t, rbacYAML(t, docs))
}

// allRules is every rule's ID, for --enable.
func allRules() string {
	var ids []string
	for _, r := range rules.All() {
		ids = append(ids, r.ID)
	}
	return strings.Join(ids, ",")
}
