package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/k8slint/k8slint/internal/testcluster"
	"github.com/k8slint/k8slint/plugin/k8slint/report"
)

const loopNS = "e2e-loop"

// loopApps are the workloads of the closed loop: two Deployments that
// resolve an external name with kubelet's ndots:5 (a glibc and a musl
// image; the glibc one also names the Service db.e2e-loop, which needs
// ndots:2 to resolve through the search list, so its fix keeps ndots:2
// and a name of one dot still wastes after it), a host-network DaemonSet that does too (its queries come from
// the node's address), and a healthy Deployment (ndots:1).
var loopApps = `apiVersion: v1
kind: Namespace
metadata:
  name: e2e-loop
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: glibc-app
  namespace: e2e-loop
spec:
  replicas: 1
  selector: {matchLabels: {app: glibc-app}}
  template:
    metadata: {labels: {app: glibc-app}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: main
        image: localhost/k8slint/toolbox-glibc:e2e
        imagePullPolicy: Never
        env:
        - {name: API_HOST, value: api.example.com}
        - {name: DB_HOST, value: db.e2e-loop}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: musl-app
  namespace: e2e-loop
spec:
  replicas: 1
  selector: {matchLabels: {app: musl-app}}
  template:
    metadata: {labels: {app: musl-app}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: main
        image: localhost/k8slint/toolbox-musl:e2e
        imagePullPolicy: Never
        env:
        - {name: API_HOST, value: api.example.com}
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  namespace: e2e-loop
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      terminationGracePeriodSeconds: 0
      hostNetwork: true
      dnsPolicy: ClusterFirstWithHostNet
      containers:
      - name: main
        image: localhost/k8slint/toolbox-glibc:e2e
        imagePullPolicy: Never
        env:
        - {name: API_HOST, value: api.example.com}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: healthy
  namespace: e2e-loop
spec:
  replicas: 1
  selector: {matchLabels: {app: healthy}}
  template:
    metadata: {labels: {app: healthy}}
    spec:
      terminationGracePeriodSeconds: 0
      dnsConfig:
        options:
        - {name: ndots, value: "1"}
      containers:
      - name: main
        image: localhost/k8slint/toolbox-glibc:e2e
        imagePullPolicy: Never
        env:
        - {name: API_HOST, value: api.example.com}
`

// loopCronJob is the closed loop's CronJob: its Job's pod resolves as
// the glibc Deployment's does, with kubelet's ndots:5.
const loopCronJob = "nightly-report"

// loopLookups is how many lookups of api.example.com each app makes per
// round.
const loopLookups = 4

// runningPod returns the name of the one running, not deleted pod of
// workload app, once it is not old.
func runningPod(t *testing.T, ctx context.Context, ns, app, old string) string {
	t.Helper()
	var name string
	err := waitFor(ctx, 2*time.Minute, func() error {
		pods, err := cluster.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + app})
		if err != nil {
			return err
		}
		var live []string
		for _, p := range pods.Items {
			if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning {
				live = append(live, p.Name)
			}
		}
		if len(live) != 1 || len(pods.Items) != 1 || live[0] == old {
			return fmt.Errorf("%s: %d pods, %d running and not deleted (%v; not %s)", app, len(pods.Items), len(live), live, old)
		}
		name = live[0]
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return name
}

// loopNames are the names each app looks up, loopLookups times each, one
// name after the other: the report credits a second's waste of a client
// to the name of its latest walk.
func loopNames(app string) []string {
	if app == "glibc-app" {
		return []string{"api.example.com", "example.com"}
	}
	return []string{"api.example.com"}
}

// lookUp resolves each app's loopNames in its pod, pods[app] (or its one
// pod when pods has none).
func lookUp(t *testing.T, ctx context.Context, ns string, pods map[string]string, apps ...string) {
	t.Helper()
	for _, app := range apps {
		pod := pods[app]
		if pod == "" {
			pod = runningPod(t, ctx, ns, app, "")
			pods[app] = pod
		}
		for _, name := range loopNames(app) {
			for range loopLookups {
				args := []string{"-n", ns, "exec", pod, "--", "getent", "ahosts", name}
				if strings.HasPrefix(app, "musl") {
					args = []string{"-n", ns, "exec", pod, "--", "/gai", name}
				}
				if out := kubectl(t, args...); !strings.Contains(out, "192.0.2.53") {
					t.Fatalf("%s: %s resolved to %q", app, name, out)
				}
			}
			time.Sleep(1500 * time.Millisecond) // the report drains the client table every second
		}
	}
}

// clusterRanking runs dnslint cluster -n ns --format json, checks that it
// merged the reports of the given number of CoreDNS pods, and returns its
// ranking by KIND/NAME (node/NAME for a node) and the text output.
type rankedEntry struct {
	Entry       report.Workload
	Object      string
	Findings    []struct{ Rule, Message string }
	Fixes       []string
	HostNetwork []string
	Predicted   bool
	Wasted      uint64 `json:"predictedWastedNXDOMAIN"`
}

func clusterRanking(t *testing.T, ns string, reports int) (map[string]rankedEntry, string) {
	t.Helper()
	out, stderr, code := dnslint(t, "cluster", "--kubeconfig", cluster.Kubeconfig("admin"), "-n", ns, "--format", "json")
	if code > 1 || stderr != "" {
		t.Fatalf("dnslint cluster: exit %d\n%s", code, stderr)
	}
	var doc struct {
		Ranking struct {
			Reports   int
			Workloads []rankedEntry
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if doc.Ranking.Reports != reports {
		t.Fatalf("the ranking merges %d reports, want the %d CoreDNS pods'", doc.Ranking.Reports, reports)
	}
	by := map[string]rankedEntry{}
	for _, r := range doc.Ranking.Workloads {
		switch r.Entry.Level {
		case report.LevelWorkload:
			by[r.Entry.Kind+"/"+r.Entry.Name] = r
		case report.LevelNode:
			by["node/"+r.Entry.Name] = r
		}
	}
	text, _, _ := dnslint(t, "cluster", "--kubeconfig", cluster.Kubeconfig("admin"), "-n", ns)
	return by, text
}

// The closed loop of issue 11: workloads resolve an external name; the
// k8slint report, read by dnslint cluster, ranks exactly the ones that
// waste (not the healthy one) with the NXDOMAIN answers their lookups
// cost, their findings and fixes, and a predicted waste after the fix;
// the pod of a CronJob's Job is ranked as the CronJob (attribution
// watches Jobs with the overlay's rule); the fixes are applied as dnslint
// --fix writes them into the objects kubectl saves, rolled out, and the
// same lookups then waste what dnslint predicted. One CoreDNS replica:
// with several, kube-proxy splits a walk between them and each
// under-counts its waste (TestTwoReplicasReportsMerge, and the plugin
// README's limits of search-path expansion).
func TestDnslintClusterRanksTheWastefulWorkloadsAndTheirFixesWasteWhatItPredicts(t *testing.T) {
	need(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	deployReporting(t, ctx, 1)
	applyYAML(t, loopApps)
	t.Cleanup(func() { deleteNamespace(t, loopNS) })
	// The CronJob's Job, made as kubectl create job --from makes it (the
	// controller owner reference the CronJob controller sets), rather than
	// waiting up to a minute for a schedule.
	applyYAML(t, cronJobYAML(loopNS, loopCronJob, testcluster.GlibcToolboxImage))
	kubectl(t, "-n", loopNS, "create", "job", loopCronJob+"-manual", "--from=cronjob/"+loopCronJob)
	apps := []string{"glibc-app", "musl-app", "agent", "healthy", loopCronJob}
	wasteful := apps[:3]
	pods := map[string]string{}
	lookUp(t, ctx, loopNS, pods, apps...)

	before, text := clusterRanking(t, loopNS, 1)
	t.Logf("dnslint cluster -n %s:\n%s", loopNS, text)
	if _, ok := before["Deployment/healthy"]; ok {
		t.Errorf("the healthy Deployment is ranked: %+v", before["Deployment/healthy"])
	}
	// entry is the ranking's entry of app: the node's for the
	// host-network DaemonSet.
	entry := func(by map[string]rankedEntry, app string) (rankedEntry, bool) {
		if app == "agent" {
			r, ok := by["node/"+testcluster.NodeName]
			return r, ok
		}
		r, ok := by["Deployment/"+app]
		return r, ok
	}
	// Three search domains before the name itself, A and AAAA each:
	// 6 NXDOMAIN per lookup.
	for _, app := range wasteful {
		kind := "deployment"
		if app == "agent" {
			kind = "daemonset"
		}
		r, ok := entry(before, app)
		switch {
		case !ok:
			t.Fatalf("%s is not ranked:\n%s", app, text)
		case r.Entry.WastedNXDOMAIN != uint64(6*loopLookups*len(loopNames(app))):
			t.Errorf("%s: %d wasted NXDOMAIN measured, want %d (6 a lookup)", app, r.Entry.WastedNXDOMAIN, 6*loopLookups*len(loopNames(app)))
		case r.Object != "cluster://"+loopNS+"/"+kind+"/"+app:
			t.Errorf("%s: linked to %q", app, r.Object)
		case len(r.Fixes) == 0 || !r.Predicted:
			t.Errorf("%s: no fix or no prediction: %+v", app, r)
		}
		// After the fix (ndots:1, or 2 for glibc-app) api.example.com is
		// asked as it is; example.com (one dot) still walks at ndots:2.
		want := uint64(0)
		if app == "glibc-app" {
			want = 6 * loopLookups
		}
		if r.Wasted != want {
			t.Errorf("%s: dnslint predicts %d wasted NXDOMAIN after the fix, want %d", app, r.Wasted, want)
		}
	}

	// The CronJob's pod: attributed to the CronJob (not its Job), which
	// dnslint cluster links to the CronJob object.
	if _, ok := before["Job/"+loopCronJob+"-manual"]; ok {
		t.Errorf("the CronJob's Job is ranked as a Job:\n%s", text)
	}
	switch r, ok := before["CronJob/"+loopCronJob]; {
	case !ok:
		t.Errorf("CronJob %s is not ranked:\n%s", loopCronJob, text)
	case r.Entry.WastedNXDOMAIN != uint64(6*loopLookups):
		t.Errorf("CronJob %s: %d wasted NXDOMAIN measured, want %d (6 a lookup)", loopCronJob, r.Entry.WastedNXDOMAIN, 6*loopLookups)
	case r.Object != "cluster://"+loopNS+"/cronjob/"+loopCronJob:
		t.Errorf("CronJob %s: linked to %q", loopCronJob, r.Object)
	case len(r.Fixes) == 0 || !r.Predicted || r.Wasted != 0:
		t.Errorf("CronJob %s: fixes %v, predicted %v (%d wasted after)", loopCronJob, r.Fixes, r.Predicted, r.Wasted)
	}

	// The fixes, as dnslint --fix writes them into kubectl's copy.
	dir := t.TempDir()
	for _, app := range wasteful {
		kind := "deployment"
		if app == "agent" {
			kind = "daemonset"
		}
		f := filepath.Join(dir, app+".yaml")
		if err := os.WriteFile(f, []byte(kubectl(t, "-n", loopNS, "get", kind, app, "-o", "yaml")), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, stderr, code := dnslint(t, "--fix", f); code == 2 {
			t.Fatalf("dnslint --fix %s: %s", f, stderr)
		}
		kubectl(t, "replace", "-f", f)
	}
	for _, app := range wasteful {
		pods[app] = runningPod(t, ctx, loopNS, app, pods[app])
	}
	lookUp(t, ctx, loopNS, pods, wasteful...)
	after, text := clusterRanking(t, loopNS, 1)
	t.Logf("after the fixes:\n%s", text)
	for _, app := range wasteful {
		measured := uint64(0)
		if r, ok := entry(after, app); ok {
			measured = r.Entry.WastedNXDOMAIN
		}
		b, _ := entry(before, app)
		measured -= b.Entry.WastedNXDOMAIN
		if measured != b.Wasted {
			t.Errorf("%s: the lookups after the fix wasted %d NXDOMAIN; dnslint predicted %d", app, measured, b.Wasted)
		}
	}
}
