package testcluster

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/k8slint/k8slint/internal/testenv"
)

// machine is what a cluster may change on the machine and must give back.
type machine struct {
	Netns   []string
	Sysctls map[string]string
	Exists  map[string]bool // host paths and kubepods cgroups
}

func snapshot() machine {
	m := machine{Sysctls: map[string]string{}, Exists: map[string]bool{}}
	for _, n := range listNetns() { // other packages' tests make their own meanwhile
		if n == NodeNetns || strings.HasPrefix(n, "cni-") {
			m.Netns = append(m.Netns, n)
		}
	}
	for _, s := range globalSysctls {
		m.Sysctls[s], _ = readSysctl(s)
	}
	for _, p := range append(append([]string(nil), hostPaths...), kubepodsCgroups()...) {
		_, err := os.Lstat(p)
		m.Exists[p] = err == nil
	}
	return m
}

// processesNaming returns the processes whose command line contains s.
func processesNaming(s string) []string {
	var out []string
	ds, _ := os.ReadDir("/proc")
	for _, d := range ds {
		if _, err := strconv.Atoi(d.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if err == nil && strings.Contains(string(b), s) {
			out = append(out, d.Name()+": "+strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return out
}

// TestMain lets a detached cluster run this test binary as its API proxy
// (the role of `k8slint-cluster proxy`).
func TestMain(m *testing.M) {
	if len(os.Args) == 4 && os.Args[1] == "proxy" && os.Args[2] == "-listen" {
		l, err := net.Listen("tcp", os.Args[3])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		_ = ServeAPIProxy(l)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// A cluster of a test and a detached one (make cluster-up's, whose
// processes outlive the process that started them) run a pod, and
// tear-down gives the machine back as it was.
func TestAClusterRunsAPodAndLeavesTheMachineAsItWas(t *testing.T) {
	for _, detached := range []bool{false, true} {
		t.Run(fmt.Sprintf("detached=%v", detached), func(t *testing.T) { testCluster(t, detached) })
	}
}

func testCluster(t *testing.T, detached bool) {
	if err := Prerequisites(); err != nil {
		t.Skip(err)
	}
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := testenv.Binary("./cmd/coredns-custom")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	// Not t.TempDir(): the subtest's name would make containerd's socket
	// path too long.
	dir, err := os.MkdirTemp("", "k8slint-tc-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// A cluster whose owner died (a run cut short) is torn down first, as
	// Start would, so that "before" is the machine without it.
	lock, err := acquireLock(ctx, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	err = tearDownLeftover(t.Logf)
	lock.Close()
	if err != nil {
		t.Fatal(err)
	}
	before := snapshot()
	c, err := Start(ctx, Options{Root: root, StateDir: dir, CoreDNS: bin, Logf: t.Logf, Detached: detached})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop() })
	if kubelet := snapshot(); reflect.DeepEqual(kubelet.Sysctls, before.Sysctls) {
		t.Logf("kubelet changed no sysctl here (they already had its values): %v", kubelet.Sysctls)
	}

	// kubectl through the API proxy on host loopback.
	out, err := c.Kubectl("get", "node", NodeName, "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}").CombinedOutput()
	if err != nil || string(out) != "True" {
		t.Fatalf("kubectl get node: %v: %s", err, out)
	}
	// A pod: kubelet, containerd, runc and the CNI bridge together.
	pods := c.Client.CoreV1().Pods("default")
	if _, err := pods.Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "idle"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "idle", Image: PauseImage, ImagePullPolicy: corev1.PullNever}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var ip string
	if err := waitFor(ctx, "pod idle Running", 2*time.Minute, func() (bool, error) {
		p, err := pods.Get(ctx, "idle", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		ip = p.Status.PodIP
		return p.Status.Phase == corev1.PodRunning, fmt.Errorf("phase %s", p.Status.Phase)
	}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ip, "10.88.0.") {
		t.Errorf("pod IP %q, want one of the CNI range 10.88.0.100-200", ip)
	}
	// The node's stub resolver, as pods with dnsPolicy Default see it.
	var a *dns.Msg
	if err := c.Node.Do(func() error {
		var err error
		a, err = testenv.Query(NodeIP+":53", "example.org", dns.TypeA)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(a.Answer) != 1 || !strings.Contains(a.Answer[0].String(), "192.0.2.53") {
		t.Fatalf("node stub answered %v", a.Answer)
	}

	// A detached cluster is torn down from its state alone, as make
	// cluster-down does.
	stop := c.Stop
	if detached {
		stop = func() error { return TearDown(dir) }
	}
	if err := stop(); err != nil {
		t.Fatalf("tear-down: %v", err)
	}
	after := snapshot()
	if !reflect.DeepEqual(after, before) {
		t.Errorf("the machine changed:\nbefore %+v\nafter  %+v", before, after)
	}
	if ps := processesNaming(dir); len(ps) > 0 {
		t.Errorf("processes left:\n%s", strings.Join(ps, "\n"))
	}
	if b, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(b), dir) {
		t.Errorf("mounts left under %s", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "log", "kubelet.log")); err != nil {
		t.Errorf("tear-down removed the logs: %v", err)
	}
}
