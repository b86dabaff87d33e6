package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/k8slint/k8slint/internal/testcluster"
	"github.com/k8slint/k8slint/internal/testenv"
)

const resNS = "e2e-res"

// resolverPod is a pod of the scenario: which toolbox, which DNS settings.
type resolverPod struct {
	name    string
	musl    bool
	policy  corev1.DNSPolicy
	config  *corev1.PodDNSConfig
	lookups bool // resolves the names (dnsPolicy Default pods ask the node's stub, not CoreDNS)
}

var resolverPods = []resolverPod{
	{name: "glibc-ndots5", policy: corev1.DNSClusterFirst, lookups: true},
	{name: "glibc-ndots2", policy: corev1.DNSClusterFirst, lookups: true, config: &corev1.PodDNSConfig{
		Searches: []string{"corp.example"},
		Options:  []corev1.PodDNSConfigOption{{Name: "ndots", Value: ptr("2")}, {Name: "single-request-reopen"}},
	}},
	{name: "musl-ndots5", musl: true, policy: corev1.DNSClusterFirst, lookups: true},
	{name: "musl-ndots2", musl: true, policy: corev1.DNSClusterFirst, lookups: true, config: &corev1.PodDNSConfig{
		Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: ptr("2")}, {Name: "edns0"}},
	}},
	{name: "glibc-default", policy: corev1.DNSDefault},
}

func ptr[T any](v T) *T { return &v }

// logLine matches the log plugin's default format: client port, ID, type,
// name, protocol, rcode.
var logLine = regexp.MustCompile(`\[INFO\] (\S+):(\d+) - (\d+) "(\S+) IN (\S+) (udp|tcp) \S+ \S+ \S+" (\S+) `)

type logged struct{ ip, port, id, qtype, name, proto, rcode string }

// TestKubeletPodsResolveAndK8slintCountsWhatTheirResolversSent runs pods
// made by kubelet from a glibc and a musl image with kubelet-written
// resolv.conf (ClusterFirst with ndots 5 and 2, dnsConfig searches and
// options, Default), resolves a Service, a headless pod, the API Service
// and an external name in each, and checks: the answers; that dnslint's
// model of each resolv.conf is what kubelet wrote into the container; and
// that k8slint's search-expansion, wasted-NXDOMAIN and A/AAAA pair counts,
// scraped through the kube-dns Service, equal what CoreDNS's log shows the
// resolvers sent.
func TestKubeletPodsResolveAndK8slintCountsWhatTheirResolversSent(t *testing.T) {
	c := need(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// One replica: every query and the Service scrape reach the same pod.
	deploy(t, ctx, customImage, corefile(t, []string{"log"}, ""), 1)

	cs := c.Client
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: resNS}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cs.CoreV1().Namespaces().Delete(context.Background(), resNS, metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0))})
	})
	if err := waitFor(ctx, time.Minute, func() error {
		_, err := cs.CoreV1().ServiceAccounts(resNS).Get(ctx, "default", metav1.GetOptions{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	web, err := cs.CoreV1().Services(resNS).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Services(resNS).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Spec:       corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: map[string]string{"app": "db"}, Ports: []corev1.ServicePort{{Port: 5432}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, rp := range resolverPods {
		img := testcluster.GlibcToolboxImage
		if rp.musl {
			img = testcluster.MuslToolboxImage
		}
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: rp.name, Labels: map[string]string{"app": rp.name}},
			Spec: corev1.PodSpec{
				DNSPolicy: rp.policy, DNSConfig: rp.config,
				TerminationGracePeriodSeconds: ptr(int64(0)),
				Containers:                    []corev1.Container{{Name: "main", Image: img, ImagePullPolicy: corev1.PullNever}},
			},
		}
		if rp.name == "glibc-ndots5" { // the headless Service's pod: db-0.db
			pod.Labels["app"] = "db"
			pod.Spec.Hostname, pod.Spec.Subdomain = "db-0", "db"
		}
		if _, err := cs.CoreV1().Pods(resNS).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	podIP := map[string]string{}
	for _, rp := range resolverPods {
		if err := waitFor(ctx, 2*time.Minute, func() error {
			p, err := cs.CoreV1().Pods(resNS).Get(ctx, rp.name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if p.Status.Phase != corev1.PodRunning {
				return fmt.Errorf("pod %s is %s", rp.name, p.Status.Phase)
			}
			podIP[rp.name] = p.Status.PodIP
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	// The headless name needs the pod in the Service's EndpointSlice.
	if err := waitFor(ctx, time.Minute, func() error {
		r, err := query(client, testcluster.DNSServiceIP+":53", "db-0.db."+resNS+".svc.cluster.local.", 1)
		if err != nil || len(r.Answer) != 1 {
			return fmt.Errorf("db-0.db: %v %v", r, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// What kubelet wrote, read through each container's root, against
	// dnslint's model of it.
	written := map[string]string{}
	nodeConf := filepath.Join(c.Dir, "kubelet", "resolv.conf")
	for _, rp := range resolverPods {
		p, err := cs.CoreV1().Pods(resNS).Get(ctx, rp.name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := containerResolvConf(string(p.UID))
		if err != nil {
			t.Fatalf("%s: %v", rp.name, err)
		}
		written[rp.name] = got
		manifest := filepath.Join(t.TempDir(), rp.name+".yaml")
		if err := os.WriteFile(manifest, []byte(kubectl(t, "-n", resNS, "get", "pod", rp.name, "-o", "yaml")), 0o644); err != nil {
			t.Fatal(err)
		}
		model := dnslintResolvConf(t, manifest, nodeConf)
		if !sameResolvConf(got, model) {
			t.Errorf("%s: kubelet wrote\n%s\ndnslint's model is\n%s", rp.name, got, model)
		}
	}

	// The lookups, one at a time, through kubectl exec.
	want := map[string]string{
		"web":                web.Spec.ClusterIP,
		"kubernetes.default": testcluster.APIServiceIP,
		"db-0.db":            podIP["glibc-ndots5"],
		"api.example.com":    "192.0.2.53",
	}
	bases := []string{"web", "kubernetes.default", "db-0.db", "api.example.com"}
	for _, rp := range resolverPods {
		if !rp.lookups {
			continue
		}
		for _, base := range bases {
			args := []string{"-n", resNS, "exec", rp.name, "--", "getent", "ahosts", base}
			if rp.musl {
				args = []string{"-n", resNS, "exec", rp.name, "--", "/gai", base}
			}
			out := kubectl(t, args...)
			if !strings.Contains(out, want[base]) {
				t.Errorf("%s: %s resolved to %q, want %s", rp.name, base, out, want[base])
			}
		}
	}
	time.Sleep(time.Second) // the log plugin writes asynchronously to the container log

	// The independent count, from CoreDNS's log.
	pods := corednsPods(t, ctx)
	if len(pods) != 1 {
		t.Fatalf("%d CoreDNS pods, want 1", len(pods))
	}
	ipOf := map[string]string{}
	for name, ip := range podIP {
		ipOf[ip] = name
	}
	var byPod = map[string][]logged{}
	for _, m := range logLine.FindAllStringSubmatch(kubectl(t, "-n", "kube-system", "logs", pods[0].Name), -1) {
		if name, ok := ipOf[m[1]]; ok {
			byPod[name] = append(byPod[name], logged{ip: m[1], port: m[2], id: m[3], qtype: m[4], name: m[5], proto: m[6], rcode: m[7]})
		}
	}
	var want2 counts
	for _, rp := range resolverPods {
		if !rp.lookups {
			if n := len(byPod[rp.name]); n != 0 {
				t.Errorf("%s (dnsPolicy Default) sent %d queries to CoreDNS", rp.name, n)
			}
			continue
		}
		search := searchOf(written[rp.name])
		cnt := countWalks(byPod[rp.name], bases, search)
		t.Logf("%s: %d queries logged; %d search expansions, %d wasted NXDOMAIN, pairs %d same-port %d new-port", rp.name, len(byPod[rp.name]), cnt.expansions, cnt.wasted, cnt.samePort, cnt.newPort)
		want2.add(cnt)
	}
	m, err := c.Node.Scrape(testcluster.DNSServiceIP + ":9153")
	if err != nil {
		t.Fatal(err)
	}
	got := counts{
		expansions: int(m.Sum("coredns_k8slint_search_expansions_total", nil)),
		wasted:     int(m.Sum("coredns_k8slint_wasted_nxdomain_total", nil)),
		samePort:   int(m.Sum("coredns_k8slint_parallel_a_aaaa_total", nil) + m.Sum("coredns_k8slint_sequential_a_aaaa_total", map[string]string{"mode": "same_socket"})),
		newPort:    int(m.Sum("coredns_k8slint_sequential_a_aaaa_total", map[string]string{"mode": "new_socket"})),
	}
	t.Logf("k8slint through the Service:\n%s", strings.Join(m.Rows("coredns_k8slint_"), "\n"))
	if got != want2 {
		t.Errorf("k8slint counted %+v, CoreDNS's log shows %+v", got, want2)
	}
	if want2.expansions == 0 || want2.samePort == 0 || want2.newPort == 0 {
		t.Errorf("the scenario produced no walks or no pairs of some kind (%+v): it checks nothing", want2)
	}
	if n := m.Sum("coredns_k8slint_sequential_a_aaaa_total", map[string]string{"mode": "tcp"}); n != 0 {
		t.Errorf("%v pairs over TCP, none was sent", n)
	}
	if n := m.Sum("coredns_k8slint_upstream_failures_total", nil); n != 0 {
		t.Errorf("%v upstream failures, the stub answered everything", n)
	}
}

// counts are what the scenario compares.
type counts struct{ expansions, wasted, samePort, newPort int }

func (c *counts) add(o counts) {
	c.expansions += o.expansions
	c.wasted += o.wasted
	c.samePort += o.samePort
	c.newPort += o.newPort
}

// countWalks counts, from one client's logged queries, the search walks
// (k8slint's definition, plugin/k8slint/README.md): a lookup of a base
// name with a dot whose first candidate BASE.<first search domain> was
// NXDOMAIN and that went on to another candidate or the bare name; all its
// candidate queries are expansions, the NXDOMAIN ones wasted. And the
// A/AAAA pairs of each name, by whether both came from one port.
func countWalks(qs []logged, bases, search []string) counts {
	var c counts
	for _, base := range bases {
		var mine []logged
		for _, q := range qs {
			if q.name == base+"." || candidateIndex(q.name, base, search) >= 0 {
				mine = append(mine, q)
			}
		}
		firstNX, other := false, false
		for _, q := range mine {
			switch i := candidateIndex(q.name, base, search); {
			case i == 0 && q.rcode == "NXDOMAIN":
				firstNX = true
			case i != 0:
				other = true
			}
		}
		if strings.Contains(base, ".") && firstNX && other {
			for _, q := range mine {
				if candidateIndex(q.name, base, search) >= 0 {
					c.expansions++
					if q.rcode == "NXDOMAIN" {
						c.wasted++
					}
				}
			}
		}
		byName := map[string][]logged{}
		for _, q := range mine {
			byName[q.name] = append(byName[q.name], q)
		}
		for _, group := range byName {
			var a, aaaa []logged
			for _, q := range group {
				switch q.qtype {
				case "A":
					a = append(a, q)
				case "AAAA":
					aaaa = append(aaaa, q)
				}
			}
			for i := 0; i < len(a) && i < len(aaaa); i++ {
				if a[i].port == aaaa[i].port {
					c.samePort++
				} else {
					c.newPort++
				}
			}
		}
	}
	return c
}

func candidateIndex(name, base string, search []string) int {
	for i, s := range search {
		if name == base+"."+s+"." {
			return i
		}
	}
	return -1
}

func searchOf(resolvConf string) []string {
	for _, l := range strings.Split(resolvConf, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == "search" {
			return f[1:]
		}
	}
	return nil
}

// containerResolvConf reads /etc/resolv.conf as the pod's containers see
// it, through the root of a process in the pod's cgroup (kubelet's
// cgroupfs layout: kubepods[/QOS]/podUID/CONTAINER, in any hierarchy).
func containerResolvConf(uid string) (string, error) {
	var procs []string
	for _, pattern := range []string{"/sys/fs/cgroup/*/kubepods/*/pod" + uid + "/*/cgroup.procs", "/sys/fs/cgroup/*/kubepods/pod" + uid + "/*/cgroup.procs",
		"/sys/fs/cgroup/kubepods/*/pod" + uid + "/*/cgroup.procs", "/sys/fs/cgroup/kubepods/pod" + uid + "/*/cgroup.procs"} {
		m, _ := filepath.Glob(pattern)
		procs = append(procs, m...)
	}
	for _, p := range procs {
		b, _ := os.ReadFile(p)
		for _, pid := range strings.Fields(string(b)) {
			if rc, err := os.ReadFile("/proc/" + pid + "/root/etc/resolv.conf"); err == nil {
				return string(rc), nil
			}
		}
	}
	return "", fmt.Errorf("no process of pod %s in the kubepods cgroups", uid)
}

// dnslintResolvConf is the resolv.conf dnslint computes for the pod in
// manifest, given the node's resolv.conf (bin/dnslint, as CI would run it).
func dnslintResolvConf(t *testing.T, manifest, nodeConf string) string {
	t.Helper()
	bin, err := testenv.Binary("./cmd/dnslint")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "explain-lookup", "x", "-f", manifest, "--node-resolv-conf", nodeConf,
		"--cluster-dns", testcluster.DNSServiceIP, "--format", "json").Output()
	if err != nil {
		t.Fatalf("dnslint explain-lookup -f %s: %v", manifest, err)
	}
	var rep struct {
		ResolvConf string `json:"resolvConf"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatal(err)
	}
	return rep.ResolvConf
}

// sameResolvConf compares two resolv.conf texts line by line, fields
// normalised, in order within each keyword; the options of a line as a set.
func sameResolvConf(a, b string) bool {
	norm := func(s string) string {
		var ls []string
		for _, l := range strings.Split(s, "\n") {
			if f := strings.Fields(l); len(f) > 0 && !strings.HasPrefix(f[0], "#") {
				if f[0] == "options" {
					// kubelet merges a pod's dnsConfig options into
					// the policy's through a Go map (mergeDNSOptions in
					// pkg/kubelet/network/dns), so their order is random;
					// the names are unique after the merge.
					sort.Strings(f[1:])
				}
				ls = append(ls, strings.Join(f, " "))
			}
		}
		sort.SliceStable(ls, func(i, j int) bool { return strings.Fields(ls[i])[0] < strings.Fields(ls[j])[0] })
		return strings.Join(ls, "\n")
	}
	return norm(a) == norm(b)
}

// waitFor polls f every 200 ms until it returns nil or timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s: %w", timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
