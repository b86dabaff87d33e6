package dnsbench

import (
	"fmt"
	"os/exec"
	"strings"

	"github.com/k8slint/k8slint/internal/testenv"
)

// One dnsperf process sends from many client addresses: its sockets are
// bound to consecutive local ports from SourcePortBase (dnsperf's -x), and
// in the bench's own network namespace a routing rule per port sends that
// port's packets from its own address: socket i from SourceAddr(i mod
// sources). A route's preferred source is what the kernel gives a socket
// bound to no address, and a rule can select by source port. Many dnsperf
// processes, one per address, cost the two cores more than CoreDNS does:
// on 2026-12-02, 64 of them took 1.1-1.6 cores and answered only 13,000 to
// 16,800 of the 20,000 qps offered, where one process with 64 sockets
// took 0.73 cores and answered 99.6% of the rate or more.

// SourcePortBase is the local port of the load's first socket when it
// sends from more than one address. It is below Linux's ephemeral ports
// (32768 and up), so no socket the kernel numbers takes one of the ports
// the rules route; the bench's CoreDNS ports, which testenv.FreePort
// picks below the ephemeral range, are chosen outside SourcePortBase up
// to SourcePortBase+MaxSockets (start).
const SourcePortBase = 20000

// SourceAddr returns the loopback address source i (from 0) sends from:
// 127.0.30.1 to 127.0.30.250, then 127.0.31.1 and on. All of 127/8 is
// local on Linux.
func SourceAddr(i int) string {
	return fmt.Sprintf("127.0.%d.%d", 30+i/250, i%250+1)
}

// sourceRoutes returns the commands, for ip -batch, that route the
// packets of socket i of sockets (local port SourcePortBase+i) from
// SourceAddr(i mod sources).
//
// Each port gets a rule ahead of the local table's, pointing to a table
// of its own whose one route is loopback with that preferred source. The
// answers to those ports match a rule before them that goes straight to
// the local table, so CoreDNS's replies do not walk the per-port rules.
func sourceRoutes(sockets, sources int) string {
	var b strings.Builder
	last := SourcePortBase + sockets - 1
	fmt.Fprintf(&b, "rule add pref 100 dport %d-%d lookup local\n", SourcePortBase, last)
	for i := range sockets {
		table := 1000 + i
		fmt.Fprintf(&b, "route add local 127.0.0.0/8 dev lo src %s table %d\n", SourceAddr(i%sources), table)
		fmt.Fprintf(&b, "rule add pref 200 sport %d lookup %d\n", SourcePortBase+i, table)
	}
	// The local table's own rule (pref 0) moves behind the per-port ones.
	b.WriteString("rule add pref 300 lookup local\n")
	b.WriteString("rule del pref 0\n")
	return b.String()
}

// routeSources applies sourceRoutes in ns.
func routeSources(ns *testenv.Netns, sockets, sources int) error {
	cmd := exec.Command("ip", "-n", ns.Name, "-batch", "-")
	cmd.Stdin = strings.NewReader(sourceRoutes(sockets, sources))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("routing %d sockets from %d addresses in %s: %v: %s", sockets, sources, ns.Name, err, out)
	}
	return nil
}
