package k8slint

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/k8slint/k8slint/plugin/k8slint/report"
	"github.com/miekg/dns"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
)

// pod is a pod as the API server sends it: the fields attribution reads
// among others it drops.
func pod(ns, name string, ips ...string) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: "0f7e9c1a-uid", ResourceVersion: "42",
			Labels:      map[string]string{"app": name},
			Annotations: map[string]string{"kubectl.kubernetes.io/last-applied-configuration": strings.Repeat("x", 2000)}},
		Spec: corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1",
			Env: []corev1.EnvVar{{Name: "A", Value: "b"}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
	for _, ip := range ips {
		p.Status.PodIPs = append(p.Status.PodIPs, corev1.PodIP{IP: ip})
	}
	if len(ips) > 0 {
		p.Status.PodIP = ips[0]
	}
	return p
}

func ownedBy(p *corev1.Pod, kind, name string, labels ...string) *corev1.Pod {
	yes := true
	p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: kind, Name: name, UID: "owner-uid", Controller: &yes}}
	for i := 0; i+1 < len(labels); i += 2 {
		p.Labels[labels[i]] = labels[i+1]
	}
	return p
}

func who(a *attribution, ip string) string {
	o := a.lookup(netip.MustParseAddr(ip))
	if o == nil {
		return "-"
	}
	w := report.Workload{Level: o.level, Namespace: o.ns, Kind: o.kind, Name: o.name}
	return w.String()
}

func TestAttributionResolvesOwnersFromPodMetadataAlone(t *testing.T) {
	a := newAttribution()
	hostNet := pod("kube-system", "kube-proxy-x7k2p", "10.0.0.5")
	hostNet.Spec.HostNetwork = true
	ownedBy(hostNet, "DaemonSet", "kube-proxy")
	for _, p := range []*corev1.Pod{
		ownedBy(pod("shop", "api-5d8f7c9b4-q2w9x", "10.244.1.7", "fd00::7"), "ReplicaSet", "api-5d8f7c9b4", "pod-template-hash", "5d8f7c9b4"),
		ownedBy(pod("shop", "legacy-abcde", "10.244.1.8"), "ReplicaSet", "legacy"), // no template hash: a ReplicaSet of its own
		ownedBy(pod("shop", "db-0", "10.244.1.9"), "StatefulSet", "db"),
		ownedBy(pod("kube-system", "agent-x1", "10.244.1.10"), "DaemonSet", "agent"),
		ownedBy(pod("batch", "nightly-29400000-abcde", "10.244.1.11"), "Job", "nightly-29400000", "batch.kubernetes.io/job-name", "nightly-29400000"),
		pod("default", "debug", "10.244.1.12"),
		hostNet,
	} {
		if err := a.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	for ip, want := range map[string]string{
		"10.244.1.7":  "Deployment shop/api",
		"fd00::7":     "Deployment shop/api",
		"10.244.1.8":  "ReplicaSet shop/legacy",
		"10.244.1.9":  "StatefulSet shop/db",
		"10.244.1.10": "DaemonSet kube-system/agent",
		"10.244.1.11": "Job batch/nightly-29400000",
		"10.244.1.12": "Pod default/debug",
		"10.0.0.5":    "node node-1",
		"10.244.9.9":  "-",
	} {
		if got := who(a, ip); got != want {
			t.Errorf("%s: %s, want %s", ip, got, want)
		}
	}
	if st := a.status(); st.Pods != 7 {
		t.Errorf("%d pods", st.Pods)
	}
}

func TestAttributionFollowsPodsAsTheyComeAndGo(t *testing.T) {
	a := newAttribution()
	old := ownedBy(pod("shop", "api-1", "10.244.1.7"), "StatefulSet", "old")
	a.Add(old)
	// The address goes to a new pod before the old one's deletion arrives.
	a.Add(ownedBy(pod("shop", "web-1", "10.244.1.7"), "StatefulSet", "web"))
	a.Delete(old)
	if got := who(a, "10.244.1.7"); got != "StatefulSet shop/web" {
		t.Errorf("after the old pod's deletion: %s", got)
	}
	// A pod that ended holds no address.
	done := ownedBy(pod("shop", "web-1", "10.244.1.7"), "StatefulSet", "web")
	done.Status.Phase = corev1.PodSucceeded
	a.Update(done)
	if got := who(a, "10.244.1.7"); got != "-" {
		t.Errorf("an ended pod keeps its address: %s", got)
	}
	// A deletion seen only at a relist.
	a.Add(pod("shop", "bare", "10.244.1.20"))
	a.Delete(cache.DeletedFinalStateUnknown{Key: "shop/bare", Obj: pod("shop", "bare", "10.244.1.20")})
	if got := who(a, "10.244.1.20"); got != "-" {
		t.Errorf("after DeletedFinalStateUnknown: %s", got)
	}
	// A relist replaces everything; owners no pod refers to are dropped.
	a.Replace([]any{pod("shop", "other", "10.244.1.21")}, "7")
	if who(a, "10.244.1.7") != "-" || who(a, "10.244.1.21") != "Pod shop/other" || len(a.owners) != 1 || len(a.pods) != 1 {
		t.Errorf("after Replace: %d owners, %d pods", len(a.owners), len(a.pods))
	}
	a.Delete(pod("shop", "other", ""))
	if len(a.owners) != 0 || len(a.pods) != 0 || len(a.byAddr) != 0 {
		t.Errorf("after the last deletion: %d owners, %d pods, %d addresses", len(a.owners), len(a.pods), len(a.byAddr))
	}
}

func TestTheTransformKeepsOnlyWhatAttributionReads(t *testing.T) {
	p := ownedBy(pod("shop", "api-5d8f7c9b4-q2w9x", "10.244.1.7", "fd00::7"), "ReplicaSet", "api-5d8f7c9b4", "pod-template-hash", "5d8f7c9b4")
	out, err := strip(p)
	if err != nil {
		t.Fatal(err)
	}
	s := out.(*corev1.Pod)
	if len(s.Annotations) != 0 || len(s.Spec.Containers) != 0 || len(s.Labels) != 1 || s.UID != "" {
		t.Errorf("kept more than needed: %+v", s)
	}
	if ownerOf(s) != ownerOf(p) || len(s.Status.PodIPs) != 2 || s.ResourceVersion != "42" {
		t.Errorf("lost what attribution reads: %+v", s)
	}
}

func TestTheReportNamesWorkloadsAndTheirNamespaceWithAttribution(t *testing.T) {
	k, srv := newTestPlugin(t, zone{})
	k.attr = newAttribution()
	k.attr.Replace([]any{ownedBy(pod("shop", "api-5d8f7c9b4-q2w9x", "10.244.1.7"), "ReplicaSet", "api-5d8f7c9b4", "pod-template-hash", "5d8f7c9b4"),
		ownedBy(pod("shop", "api-5d8f7c9b4-a1b2c", "10.244.1.8"), "ReplicaSet", "api-5d8f7c9b4", "pod-template-hash", "5d8f7c9b4"),
		ownedBy(pod("pay", "racer-0", "10.244.1.9"), "StatefulSet", "racer")}, "1")
	_, nx1 := glibcWalk(t, k, srv, &peer{ip: "10.244.1.7", port: 40000}, "api.stripe.com", "shop", zone{})
	_, nx2 := glibcWalk(t, k, srv, &peer{ip: "10.244.1.8", port: 40000}, "api.stripe.com", "shop", zone{})
	// A client whose queries name no namespace: its race drop counts
	// under the namespace attribution gives it, once the report drained it.
	racer := &peer{ip: "10.244.1.9", port: 45002}
	ask(t, k, srv, racer, "example.org.", dns.TypeA, 7)
	k.rep.mu.Lock()
	k.drain(time.Now())
	k.rep.mu.Unlock()
	before := counted(k, raceSuspected.WithLabelValues(srv, "pay"))
	k.epoch.Add(-int64(time.Second))
	ask(t, k, srv, racer, "example.org.", dns.TypeA, 7)
	if counted(k, raceSuspected.WithLabelValues(srv, "pay"))-before != 1 {
		t.Errorf("the race drop did not count under the pod's namespace")
	}
	r := k.snapshot(time.Now(), false)
	if len(r.Workloads) != 2 || r.Replicas[0].Attribution.State != report.AttributionSynced || r.Replicas[0].Attribution.Pods != 3 {
		t.Fatalf("%+v", r)
	}
	if w := r.Workloads[0]; w.String() != "Deployment shop/api" || w.WastedNXDOMAIN != uint64(nx1+nx2) {
		t.Errorf("%s wasted %d, its pods %d", w.String(), w.WastedNXDOMAIN, nx1+nx2)
	}
	if w := r.Workloads[1]; w.String() != "StatefulSet pay/racer" || w.RaceSuspected != 1 {
		t.Errorf("%s: %d races", w.String(), w.RaceSuspected)
	}
}

func TestAnUnreachableAPIIsSaidOnceAndTheReportGoesOnByAddress(t *testing.T) {
	k, srv := newTestPlugin(t, zone{})
	var out string
	out = captureLog(t, func() {
		k.attr = newAttribution()
		// A loopback port nothing listens on.
		if err := k.attr.start(&rest.Config{Host: "http://127.0.0.1:9", Timeout: time.Second}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for k.attr.status().State != report.AttributionUnreachable && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		// Retries fail too, and say nothing more.
		k.attr.result(errors.New("dial tcp 127.0.0.1:9: connect: connection refused"))
		glibcWalk(t, k, srv, &peer{ip: "10.244.1.7", port: 40000}, "api.stripe.com", "shop", zone{})
		k.stopAttribution()
	})
	if n := strings.Count(out, "unreachable"); n != 1 {
		t.Errorf("said %d times:\n%s", n, out)
	}
	r := k.snapshot(time.Now(), false)
	if st := r.Replicas[0].Attribution; st.State != report.AttributionUnreachable || st.Error == "" {
		t.Errorf("state %+v", st)
	}
	if len(r.Workloads) != 1 || r.Workloads[0].Address != "10.244.1.7" || r.Workloads[0].WastedNXDOMAIN != 6 {
		t.Errorf("entries %+v", r.Workloads)
	}
	// It comes back: said once, and the relist names the pods.
	out = captureLog(t, func() {
		k.attr.result(nil)
		k.attr.Replace([]any{pod("shop", "api", "10.244.1.7")}, "9")
	})
	if !strings.Contains(out, "reachable again") || k.attr.status().State != report.AttributionSynced {
		t.Errorf("recovery: %s", out)
	}
}

// job is a Job as the API server sends it, controlled by a CronJob when
// cronJob is not "".
func job(ns, name, cronJob string) *batchv1.Job {
	j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: "job-uid", ResourceVersion: "43",
		Labels: map[string]string{"batch.kubernetes.io/job-name": name}},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "r", Image: "registry.example/r:1"}}}}}}
	if cronJob != "" {
		yes := true
		j.OwnerReferences = []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "CronJob", Name: cronJob, UID: "cron-uid", Controller: &yes, BlockOwnerDeletion: &yes}}
	}
	return j
}

func TestAJobsPodsAreNamedAsItsCronJobOnceItsJobIsSeen(t *testing.T) {
	a := newAttribution()
	jobs := jobStore{a}
	add := func(j *batchv1.Job) {
		t.Helper()
		s, _ := stripJob(j)
		if err := jobs.Add(s); err != nil {
			t.Fatal(err)
		}
	}
	// The pod before its Job: its Job, until the Job arrives, and then its
	// CronJob at once (lookups happen when the report drains).
	a.Add(ownedBy(pod("batch", "nightly-29400000-x7k2p", "10.244.2.7"), "Job", "nightly-29400000"))
	if got := who(a, "10.244.2.7"); got != "Job batch/nightly-29400000" {
		t.Errorf("before its Job: %s", got)
	}
	add(job("batch", "nightly-29400000", "nightly"))
	if got := who(a, "10.244.2.7"); got != "CronJob batch/nightly" {
		t.Errorf("after its Job: %s", got)
	}
	// The Job before its pod; a second Job of the CronJob shares its owner.
	add(job("batch", "nightly-29400060", "nightly"))
	a.Add(ownedBy(pod("batch", "nightly-29400060-q2w9x", "10.244.2.8"), "Job", "nightly-29400060"))
	if got := who(a, "10.244.2.8"); got != "CronJob batch/nightly" || a.lookup(netip.MustParseAddr("10.244.2.8")) != a.lookup(netip.MustParseAddr("10.244.2.7")) || len(a.cronJobs) != 1 {
		t.Errorf("second Job: %s, %d CronJobs interned", got, len(a.cronJobs))
	}
	// A Job of no CronJob, one whose name looks like a CronJob's, and one
	// controlled by a CronJob kind of another API group are not kept.
	add(job("batch", "migrate", ""))
	add(job("batch", "backup-29400000", ""))
	other := job("batch", "etl-1", "etl")
	other.OwnerReferences[0].APIVersion = "example.com/v1"
	add(other)
	if len(a.jobs) != 2 {
		t.Errorf("%d Jobs kept, want the 2 of CronJob nightly", len(a.jobs))
	}
	for name, ip := range map[string]string{"migrate": "10.244.2.9", "backup-29400000": "10.244.2.10", "etl-1": "10.244.2.11"} {
		a.Add(ownedBy(pod("batch", name+"-abcde", ip), "Job", name))
		if got := who(a, ip); got != "Job batch/"+name {
			t.Errorf("%s: %s", name, got)
		}
	}
	// A Job the CronJob lets go (orphaned) and a deleted Job: their pods
	// are their Jobs again; the CronJob is dropped with its last Job.
	orphan := job("batch", "nightly-29400060", "")
	add(orphan)
	if got := who(a, "10.244.2.8"); got != "Job batch/nightly-29400060" {
		t.Errorf("orphaned Job: %s", got)
	}
	if err := jobs.Delete(cache.DeletedFinalStateUnknown{Key: "batch/nightly-29400000", Obj: job("batch", "nightly-29400000", "nightly")}); err != nil {
		t.Fatal(err)
	}
	if got := who(a, "10.244.2.7"); got != "Job batch/nightly-29400000" || len(a.jobs) != 0 || len(a.cronJobs) != 0 {
		t.Errorf("after the deletion: %s, %d Jobs, %d CronJobs", got, len(a.jobs), len(a.cronJobs))
	}
	// A relist replaces the Jobs and says the watch is synced.
	s, _ := stripJob(job("batch", "nightly-29400000", "nightly"))
	if err := jobs.Replace([]any{s, job("batch", "migrate", "")}, "9"); err != nil {
		t.Fatal(err)
	}
	if got := who(a, "10.244.2.7"); got != "CronJob batch/nightly" || len(a.jobs) != 1 || a.status().CronJobs != report.CronJobsSynced {
		t.Errorf("after Replace: %s, %d Jobs, %+v", got, len(a.jobs), a.status())
	}
}

func TestTheJobTransformKeepsOnlyTheCronJob(t *testing.T) {
	j := job("batch", "nightly-29400000", "nightly")
	out, _ := stripJob(j)
	s := out.(*batchv1.Job)
	if len(s.Labels) != 0 || len(s.Spec.Template.Spec.Containers) != 0 || s.UID != "" || s.ResourceVersion != "43" {
		t.Errorf("kept more than needed: %+v", s)
	}
	if cronJobOf(s) != "nightly" {
		t.Errorf("lost the CronJob: %+v", s.OwnerReferences)
	}
	out, _ = stripJob(job("batch", "migrate", ""))
	if len(out.(*batchv1.Job).OwnerReferences) != 0 {
		t.Errorf("a Job of no CronJob keeps an owner")
	}
}

// forbidden is the API server's refusal of a list or watch of Jobs to
// CoreDNS's ServiceAccount under system:coredns alone.
func forbidden(verb string) error {
	return apierrors.NewForbidden(schema.GroupResource{Group: "batch", Resource: "jobs"}, "",
		fmt.Errorf("User \"system:serviceaccount:kube-system:coredns\" cannot %s resource \"jobs\" in API group \"batch\" at the cluster scope", verb))
}

func TestWithoutPermissionOnJobsItSaysSoOnceAndPodsStayTheirJob(t *testing.T) {
	for _, tc := range []struct {
		name    string
		allowed int // lists answered before the refusals
	}{
		{"refused from the start", 0},
		{"refused later", 2}, // the first check and the reflector's first list pass
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := fake.NewClientset(job("batch", "nightly-29400000", "nightly"))
			lists := 0
			cs.PrependReactor("list", "jobs", func(k8stesting.Action) (bool, runtime.Object, error) {
				if lists++; lists > tc.allowed {
					return true, nil, forbidden("list")
				}
				return false, nil, nil
			})
			cs.PrependWatchReactor("jobs", func(k8stesting.Action) (bool, watch.Interface, error) {
				return true, nil, forbidden("watch")
			})
			a := newAttribution()
			a.Add(ownedBy(pod("batch", "nightly-29400000-x7k2p", "10.244.2.7"), "Job", "nightly-29400000"))
			out := captureLog(t, func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				a.watchJobs(ctx, cs) // returns once refused
				if ctx.Err() != nil {
					t.Error("the Job watch went on after the refusal")
				}
			})
			if n := strings.Count(out, "cannot watch Jobs"); n != 1 || !strings.Contains(out, "reported as their Job") {
				t.Errorf("said %d times:\n%s", n, out)
			}
			st := a.status()
			if st.CronJobs != report.CronJobsUnavailable || !strings.Contains(st.CronJobsError, "forbidden") {
				t.Errorf("status %+v", st)
			}
			if got := who(a, "10.244.2.7"); got != "Job batch/nightly-29400000" || len(a.jobs) != 0 {
				t.Errorf("without permission: %s, %d Jobs kept", got, len(a.jobs))
			}
			// An event the stopped watch still delivers changes nothing.
			js := jobStore{a}
			js.Add(job("batch", "nightly-29400000", "nightly"))
			js.Replace([]any{job("batch", "nightly-29400000", "nightly")}, "99")
			if got := who(a, "10.244.2.7"); got != "Job batch/nightly-29400000" || a.status().CronJobs != report.CronJobsUnavailable {
				t.Errorf("after a late event: %s, %+v", got, a.status())
			}
		})
	}
}

func TestTheJobWatchFollowsTheClustersJobs(t *testing.T) {
	cs := fake.NewClientset(job("batch", "nightly-29400000", "nightly"))
	a := newAttribution()
	a.Add(ownedBy(pod("batch", "nightly-29400000-x7k2p", "10.244.2.7"), "Job", "nightly-29400000"))
	a.Add(ownedBy(pod("batch", "nightly-29400060-q2w9x", "10.244.2.8"), "Job", "nightly-29400060"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.watchJobs(ctx, cs)
	}()
	defer func() {
		cancel()
		<-done
	}()
	wait := func(ip, want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for who(a, ip) != want {
			if time.Now().After(deadline) {
				t.Fatalf("%s is %s, want %s", ip, who(a, ip), want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	wait("10.244.2.7", "CronJob batch/nightly")
	if st := a.status(); st.CronJobs != report.CronJobsSynced {
		t.Errorf("status %+v", st)
	}
	if _, err := cs.BatchV1().Jobs("batch").Create(ctx, job("batch", "nightly-29400060", "nightly"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	wait("10.244.2.8", "CronJob batch/nightly")
	if err := cs.BatchV1().Jobs("batch").Delete(ctx, "nightly-29400000", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	wait("10.244.2.7", "Job batch/nightly-29400000")
}
