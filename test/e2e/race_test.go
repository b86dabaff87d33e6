package e2e

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/k8slint/k8slint/internal/testenv"
)

// TestOneDroppedPacketOfAPairThroughKubeProxyIsOneSuspectedRaceDrop sends
// A/AAAA pairs with glibc (getent ahosts, parallel from one socket) from a
// pod namespace through kube-proxy's DNAT to two CoreDNS replicas; an
// iptables rule in the node namespace drops the AAAA query of one lookup,
// once. glibc waits out its timeout and re-sends: k8slint counts exactly
// one suspected race drop over both replicas, and none for the lookups
// before it. conntrack -S is logged beside.
func TestOneDroppedPacketOfAPairThroughKubeProxyIsOneSuspectedRaceDrop(t *testing.T) {
	c := need(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	began := time.Now()
	deploy(t, ctx, customImage, corefile(t, nil, ""), 2)
	t.Logf("CoreDNS deployed and answering in %s", time.Since(began).Round(100*time.Millisecond))
	pods := corednsPods(t, ctx)
	if len(pods) != 2 {
		t.Fatalf("%d CoreDNS pods, want 2", len(pods))
	}
	sum := func(name string) float64 {
		total := 0.0
		for _, p := range pods {
			total += scrapePod(t, p).Sum(name, nil)
		}
		return total
	}
	// timeout:1 so that glibc re-sends after a second, not five.
	if err := client.WriteResolvConf(clusterFirst + "options timeout:1 attempts:2\n"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.WriteResolvConf(clusterFirst) })
	conntrack := func(when string) {
		out, _ := c.Node.Command("conntrack", "-S").CombinedOutput()
		t.Logf("conntrack -S in the node namespace %s:\n%s", when, strings.TrimSpace(string(out)))
	}
	conntrack("before")
	lookup := func(name string) string {
		out, err := client.Command("getent", "ahosts", name).CombinedOutput()
		if err != nil {
			t.Fatalf("getent ahosts %s: %v\n%s", name, err, out)
		}
		return string(out)
	}

	// Counts are taken as differences, so the test can run again on the
	// same replicas (go test -count).
	pairs0 := sum("coredns_k8slint_parallel_a_aaaa_total") + sum("coredns_k8slint_sequential_a_aaaa_total")
	races0 := sum("coredns_k8slint_race_suspected_total")
	delays0 := sum("coredns_k8slint_race_retry_delay_seconds")
	const clean = 10
	for i := 0; i < clean; i++ {
		lookup(fmt.Sprintf("pair%d.example.org.", i))
	}
	t.Logf("%d clean lookups done %s after the start", clean, time.Since(began).Round(100*time.Millisecond))
	pairs := sum("coredns_k8slint_parallel_a_aaaa_total") + sum("coredns_k8slint_sequential_a_aaaa_total") - pairs0
	if pairs != clean {
		t.Errorf("%d lookups counted as %v A/AAAA pairs", clean, pairs)
	}
	if n := sum("coredns_k8slint_race_suspected_total") - races0; n != 0 {
		t.Fatalf("%v suspected race drops before any packet was dropped", n)
	}

	// Drop the first AAAA query for race.example.org on its way in.
	rule := []string{"PREROUTING", "-t", "raw", "-s", "10.88.0.21", "-p", "udp", "--dport", "53",
		"-m", "string", "--algo", "bm", "--hex-string", "|04|race|07|example|03|org|00 00 1c|",
		"-m", "statistic", "--mode", "nth", "--every", "1000000", "--packet", "0", "-j", "DROP"}
	if out, err := c.Node.Command("iptables", append([]string{"-I"}, rule...)...).CombinedOutput(); err != nil {
		t.Fatalf("iptables: %v: %s", err, out)
	}
	t.Cleanup(func() { c.Node.Command("iptables", append([]string{"-D"}, rule...)...).Run() })
	start := time.Now()
	out := lookup("race.example.org.")
	stall := time.Since(start)
	if !strings.Contains(out, "192.0.2.53") {
		t.Fatalf("race.example.org resolved to %q", out)
	}
	dropped := droppedPackets(t, c.Node)
	if dropped != 1 {
		t.Fatalf("the rule dropped %d packets, want 1", dropped)
	}
	// The retransmission comes after glibc's 1 s timeout; give the
	// replicas a moment to see it.
	time.Sleep(500 * time.Millisecond)
	conntrack("after")
	races := sum("coredns_k8slint_race_suspected_total") - races0
	delays := sum("coredns_k8slint_race_retry_delay_seconds") - delays0
	t.Logf("lookup with the dropped AAAA took %s; k8slint: %v suspected race drops, %v retry delays recorded", stall.Round(time.Millisecond), races, delays)
	if races != 1 {
		t.Errorf("k8slint counted %v suspected race drops over both replicas, want exactly 1", races)
	}
	if delays != 1 {
		t.Errorf("k8slint recorded %v retry delays, want 1", delays)
	}
	if stall < 900*time.Millisecond {
		t.Errorf("the lookup took %s: the drop did not stall glibc (timeout:1)", stall)
	}
}

var rulePackets = regexp.MustCompile(`(?m)^\s*(\d+)\s+\d+\s+DROP\s+.*STRING match`)

// droppedPackets reads the DROP rule's packet counter in raw PREROUTING.
func droppedPackets(t *testing.T, node *testenv.Netns) int {
	t.Helper()
	out, err := node.Command("iptables", "-t", "raw", "-L", "PREROUTING", "-v", "-x", "-n").CombinedOutput()
	if err != nil {
		t.Fatalf("iptables -L: %v: %s", err, out)
	}
	m := rulePackets.FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("no DROP rule in raw PREROUTING:\n%s", out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
