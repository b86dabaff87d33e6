package k8slint

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/k8slint/k8slint/plugin/k8slint/report"
	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
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
	before := raceCount(srv, "pay")
	k.epoch -= int64(time.Second)
	ask(t, k, srv, racer, "example.org.", dns.TypeA, 7)
	if raceCount(srv, "pay")-before != 1 {
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

func raceCount(srv, ns string) float64 {
	return testutil.ToFloat64(raceSuspected.WithLabelValues(srv, ns))
}
