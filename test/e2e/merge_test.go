package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/k8slint/k8slint/plugin/k8slint/report"
)

const mergeNS = "e2e-merge"

// mergeApps are two Deployments whose pods (glibc, musl) resolve an
// external name with kubelet's ndots:5.
var mergeApps = `apiVersion: v1
kind: Namespace
metadata:
  name: e2e-merge
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: glibc-app
  namespace: e2e-merge
spec:
  replicas: 1
  selector: {matchLabels: {app: glibc-app}}
  template:
    metadata: {labels: {app: glibc-app}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - {name: main, image: localhost/k8slint/toolbox-glibc:e2e, imagePullPolicy: Never}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: musl-app
  namespace: e2e-merge
spec:
  replicas: 1
  selector: {matchLabels: {app: musl-app}}
  template:
    metadata: {labels: {app: musl-app}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - {name: main, image: localhost/k8slint/toolbox-musl:e2e, imagePullPolicy: Never}
`

// mergeLookups is how many lookups of api.example.com each app makes:
// enough that kube-proxy, picking a replica at random for each new flow,
// sends some to each of the two.
const mergeLookups = 8

// CoreDNS in 2 replicas behind the kube-dns Service: each replica's report
// holds part of the lookups, and dnslint cluster, fetching both through
// the API server's pod proxy, merges them: each workload's queries are
// exactly what its pods sent (8 a lookup: A and AAAA of 3 candidates and
// of the name), the sum of the two replicas' counts. Wasted NXDOMAIN
// answers merge the same way (a sum), but each replica counts only the
// walks whose first candidate it saw: kube-proxy sends each UDP socket's
// flow to one replica, and both libcs here open a socket per candidate,
// so a walk split between replicas is under-counted (the plugin README's
// limits of search-path expansion). The test checks the merge is the
// replicas' sum and at most what the pods caused, and logs the shortfall.
func TestTwoReplicasReportsMergeToWhatThePodsSent(t *testing.T) {
	need(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	deployReporting(t, ctx, 2)
	applyYAML(t, mergeApps)
	t.Cleanup(func() { deleteNamespace(t, mergeNS) })
	apps := []string{"glibc-app", "musl-app"}
	for _, app := range apps {
		var pod string
		if err := waitFor(ctx, 2*time.Minute, func() error {
			l, err := cluster.Client.CoreV1().Pods(mergeNS).List(ctx, metav1.ListOptions{LabelSelector: "app=" + app})
			if err != nil {
				return err
			}
			if len(l.Items) != 1 || l.Items[0].Status.Phase != corev1.PodRunning {
				return fmt.Errorf("%s: %d pods, not running yet", app, len(l.Items))
			}
			pod = l.Items[0].Name
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for range mergeLookups {
			args := []string{"-n", mergeNS, "exec", pod, "--", "getent", "ahosts", "api.example.com"}
			if app == "musl-app" {
				args = []string{"-n", mergeNS, "exec", pod, "--", "/gai", "api.example.com"}
			}
			if out := kubectl(t, args...); !strings.Contains(out, "192.0.2.53") {
				t.Fatalf("%s: api.example.com resolved to %q", app, out)
			}
		}
	}
	time.Sleep(1500 * time.Millisecond) // the report drains the client table every second

	// Each replica's own report, per app.
	dns := corednsPods(t, ctx)
	if len(dns) != 2 {
		t.Fatalf("%d CoreDNS pods, want 2", len(dns))
	}
	type counts struct{ queries, wasted uint64 }
	sum := map[string]counts{}
	for _, p := range dns {
		seen := uint64(0)
		for _, w := range fetchReport(t, p.Status.PodIP).Workloads {
			if w.Level != report.LevelWorkload || w.Namespace != mergeNS {
				continue
			}
			c := sum[w.Name]
			c.queries += w.Queries
			c.wasted += w.WastedNXDOMAIN
			sum[w.Name] = c
			seen += w.Queries
			t.Logf("CoreDNS pod %s: %s: %d queries, %d wasted NXDOMAIN", p.Name, w.String(), w.Queries, w.WastedNXDOMAIN)
		}
		if seen == 0 {
			t.Errorf("CoreDNS pod %s saw none of the lookups: kube-proxy did not spread them", p.Name)
		}
	}

	// dnslint cluster merges both.
	ranked, text := clusterRanking(t, mergeNS, 2)
	t.Logf("dnslint cluster -n %s:\n%s", mergeNS, text)
	for _, app := range apps {
		r, ok := ranked["Deployment/"+app]
		if !ok {
			t.Errorf("%s is not ranked", app)
			continue
		}
		e := r.Entry
		if e.Queries != 8*mergeLookups || e.Queries != sum[app].queries {
			t.Errorf("%s: %d queries merged, the replicas' reports %d; its pod sent %d (8 a lookup)", app, e.Queries, sum[app].queries, 8*mergeLookups)
		}
		if e.WastedNXDOMAIN != sum[app].wasted || e.WastedNXDOMAIN == 0 || e.WastedNXDOMAIN > 6*mergeLookups {
			t.Errorf("%s: %d wasted NXDOMAIN merged, the replicas' reports %d; at most %d (6 a lookup)", app, e.WastedNXDOMAIN, sum[app].wasted, 6*mergeLookups)
		}
		t.Logf("%s: %d of the %d NXDOMAIN answers its lookups cost counted as wasted by 2 replicas", app, e.WastedNXDOMAIN, 6*mergeLookups)
	}
}
