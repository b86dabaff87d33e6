package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/k8slint/k8slint/internal/testcluster"
	"github.com/k8slint/k8slint/plugin/k8slint/report"
)

const attrNS = "e2e-attr"

// TestTheReportNamesTheWorkloadsWhosePodsWastedDNS runs k8slint with
// `attribution` and `report :9154` under the ServiceAccount bound to
// system:coredns only, and pods that search an external name with ndots:5:
// a Deployment of two glibc pods, a bare musl pod, a host-network glibc
// pod and the pod of a Job created from a CronJob. The report, fetched
// from the CoreDNS pod, names the Deployment (its two pods' queries
// together), the bare pod, the node and the Job (system:coredns allows no
// watch of Jobs: CoreDNS's log says so once and the report says CronJob
// owners are unavailable, while dnslint cluster still ranks the Job as its
// CronJob), each with exactly the queries and NXDOMAIN answers CoreDNS's
// log shows their addresses received. Then the API server stops: the report still serves
// and says attribution is unreachable; once the API server is back it
// says synced again and names a pod created after the outage.
func TestTheReportNamesTheWorkloadsWhosePodsWastedDNS(t *testing.T) {
	c := need(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cf := strings.Replace(corefile(t, []string{"log"}, ""), "    k8slint\n", "    k8slint {\n       attribution\n       report :9154\n    }\n", 1)
	if !strings.Contains(cf, "attribution") {
		t.Fatal("kubeadm.Corefile has no bare k8slint line to configure")
	}
	// system:coredns alone: without the overlay's rule on Jobs, which
	// another test may have applied.
	grantJobs(t, ctx, false)
	deploy(t, ctx, customImage, cf, 1)

	cs := c.Client
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: attrNS}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		deleteNamespace(t, attrNS)
	})
	if err := waitFor(ctx, time.Minute, func() error {
		_, err := cs.CoreV1().ServiceAccounts(attrNS).Get(ctx, "default", metav1.GetOptions{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	spec := func(img string, hostNet bool) corev1.PodSpec {
		s := corev1.PodSpec{
			TerminationGracePeriodSeconds: ptr(int64(0)),
			Containers:                    []corev1.Container{{Name: "main", Image: img, ImagePullPolicy: corev1.PullNever}},
		}
		if hostNet {
			s.HostNetwork, s.DNSPolicy = true, corev1.DNSClusterFirstWithHostNet
		}
		return s
	}
	labels := map[string]string{"app": "waster"}
	if _, err := cs.AppsV1().Deployments(attrNS).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "waster"},
		Spec: appsv1.DeploymentSpec{Replicas: ptr(int32(2)), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec(testcluster.GlibcToolboxImage, false)}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]corev1.PodSpec{"bare-musl": spec(testcluster.MuslToolboxImage, false), "hostnet": spec(testcluster.GlibcToolboxImage, true)} {
		if _, err := cs.CoreV1().Pods(attrNS).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: s}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// A CronJob that never runs on its own, and a Job made from it by
	// kubectl create job --from, which sets the controller owner reference
	// the CronJob controller sets (kind CronJob, its name and UID). Its pod
	// runs the toolbox's /pause, as the others.
	applyYAML(t, cronJobYAML(attrNS, "nightly", testcluster.GlibcToolboxImage))
	kubectl(t, "-n", attrNS, "create", "job", "nightly-manual", "--from=cronjob/nightly")
	if err := c.WaitRollout(ctx, attrNS, "waster", 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	var pods []corev1.Pod
	if err := waitFor(ctx, 2*time.Minute, func() error {
		l, err := cs.CoreV1().Pods(attrNS).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		for _, p := range l.Items {
			if p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" {
				return fmt.Errorf("pod %s is %s", p.Name, p.Status.Phase)
			}
		}
		if len(l.Items) != 5 {
			return fmt.Errorf("%d pods", len(l.Items))
		}
		pods = l.Items
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Who each address is, as the report should say.
	whoIs := map[string]string{}
	for _, p := range pods {
		switch {
		case p.Spec.HostNetwork:
			whoIs[p.Status.PodIP] = "node " + p.Spec.NodeName
		case p.Name == "bare-musl":
			whoIs[p.Status.PodIP] = "Pod " + attrNS + "/bare-musl"
		case strings.HasPrefix(p.Name, "nightly-manual-"):
			whoIs[p.Status.PodIP] = "Job " + attrNS + "/nightly-manual"
		default:
			whoIs[p.Status.PodIP] = "Deployment " + attrNS + "/waster"
		}
	}
	for _, p := range pods {
		n := 2
		if p.Name == "bare-musl" {
			n = 3
		}
		for range n {
			args := []string{"-n", attrNS, "exec", p.Name, "--", "getent", "ahosts", "api.example.com"}
			if p.Name == "bare-musl" {
				args = []string{"-n", attrNS, "exec", p.Name, "--", "/gai", "api.example.com"}
			}
			if out := kubectl(t, args...); !strings.Contains(out, "192.0.2.53") {
				t.Errorf("%s: api.example.com resolved to %q", p.Name, out)
			}
		}
	}
	time.Sleep(time.Second) // the log plugin writes asynchronously to the container log

	dns := corednsPods(t, ctx)
	if len(dns) != 1 {
		t.Fatalf("%d CoreDNS pods, want 1", len(dns))
	}
	type tally struct{ queries, nx uint64 }
	want := map[string]*tally{}
	for _, m := range logLine.FindAllStringSubmatch(kubectl(t, "-n", "kube-system", "logs", dns[0].Name), -1) {
		who, ok := whoIs[m[1]]
		if !ok {
			continue
		}
		if want[who] == nil {
			want[who] = &tally{}
		}
		want[who].queries++
		if m[7] == "NXDOMAIN" {
			want[who].nx++
		}
	}
	r := fetchReport(t, dns[0].Status.PodIP)
	if st := r.Replicas[0].Attribution; st.State != report.AttributionSynced || st.Pods < 6 ||
		st.CronJobs != report.CronJobsUnavailable || !strings.Contains(st.CronJobsError, `cannot list resource "jobs" in API group "batch"`) {
		t.Errorf("attribution %+v", st)
	}
	if n := strings.Count(kubectl(t, "-n", "kube-system", "logs", dns[0].Name), "cannot watch Jobs"); n != 1 {
		t.Errorf("CoreDNS's log says %d times that it cannot watch Jobs, want once", n)
	}
	got := map[string]report.Workload{}
	for _, w := range r.Workloads {
		got[w.String()] = w
	}
	var rows []string
	for _, w := range r.Workloads {
		rows = append(rows, fmt.Sprintf("%s: %d queries, %d wasted NXDOMAIN of %d expansions", w.String(), w.Queries, w.WastedNXDOMAIN, w.SearchExpansions))
	}
	t.Logf("the report:\n%s", strings.Join(rows, "\n"))
	if len(want) != 4 {
		t.Fatalf("CoreDNS's log shows queries from %d of the 4 workloads: %v", len(want), want)
	}
	for who, w := range want {
		e, ok := got[who]
		if !ok {
			t.Errorf("%s is not in the report", who)
			continue
		}
		if e.Queries != w.queries || e.WastedNXDOMAIN != w.nx || w.nx == 0 {
			t.Errorf("%s: the report says %d queries, %d wasted NXDOMAIN; CoreDNS's log %d and %d", who, e.Queries, e.WastedNXDOMAIN, w.queries, w.nx)
		}
		if who != "Pod "+attrNS+"/bare-musl" && (e.Resolver.NdotsAtLeast == nil || *e.Resolver.NdotsAtLeast != 3 || e.Resolver.SearchListLength == nil || *e.Resolver.SearchListLength < 3) {
			t.Errorf("%s: resolver %+v", who, e.Resolver)
		}
	}

	// dnslint cluster, reading the Job and its owner, ranks the Job's
	// entry as its CronJob.
	ranked, text := clusterRanking(t, attrNS, 1)
	if e, ok := ranked["Job/nightly-manual"]; !ok || e.Object != "cluster://"+attrNS+"/cronjob/nightly" {
		t.Errorf("dnslint cluster ranks the Job as %+v, want it linked to its CronJob:\n%s", e, text)
	}

	// The API server stops: the report goes on, attribution unreachable.
	c.StopAPIServer()
	apiUp := false
	t.Cleanup(func() {
		if !apiUp {
			_ = c.StartAPIServer(context.Background())
		}
	})
	if err := waitFor(ctx, time.Minute, func() error {
		if st := fetchReport(t, dns[0].Status.PodIP).Replicas[0].Attribution; st.State != report.AttributionUnreachable {
			return fmt.Errorf("attribution %+v", st)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
	if err := c.StartAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	apiUp = true
	if _, err := cs.CoreV1().Pods(attrNS).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "after-outage"}, Spec: spec(testcluster.GlibcToolboxImage, false)}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var ip string
	if err := waitFor(ctx, 2*time.Minute, func() error {
		p, err := cs.CoreV1().Pods(attrNS).Get(ctx, "after-outage", metav1.GetOptions{})
		if err != nil || p.Status.Phase != corev1.PodRunning {
			return fmt.Errorf("after-outage: %v", err)
		}
		ip = p.Status.PodIP
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// The state says the API server answers (its /readyz); the pod watch
	// itself comes back after client-go's backoff, up to 30s later, and
	// until then the pod's queries are reported by its address. The pod
	// looks up again until they are reported as the pod's.
	if err := waitFor(ctx, 90*time.Second, func() error {
		kubectl(t, "-n", attrNS, "exec", "after-outage", "--", "getent", "ahosts", "api.example.com")
		time.Sleep(1500 * time.Millisecond) // the report drains the client table every second
		r := fetchReport(t, dns[0].Status.PodIP)
		if st := r.Replicas[0].Attribution; st.State != report.AttributionSynced {
			return fmt.Errorf("attribution %+v", st)
		}
		for _, w := range r.Workloads {
			if w.String() == "Pod "+attrNS+"/after-outage" {
				return nil
			}
		}
		for _, w := range r.Workloads {
			if w.Address == ip {
				return fmt.Errorf("%s is not attributed yet", ip)
			}
		}
		return fmt.Errorf("the pod created after the outage is not in the report")
	}); err != nil {
		t.Error(err)
	}
}

// fetchReport GETs the report of the CoreDNS pod at ip from the node.
func fetchReport(t *testing.T, ip string) report.Report {
	t.Helper()
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: cluster.Node.DialContext, DisableKeepAlives: true}}
	resp, err := hc.Get("http://" + ip + ":9154" + "/k8slint/report")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("report: %s", resp.Status)
	}
	r, err := report.Decode(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
