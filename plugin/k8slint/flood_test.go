package k8slint

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"

	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// heapInUse is the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// A flood of distinct client addresses, ports, names and namespaces: the
// client table stays within clients_max, the namespace label within
// namespaces_max + 2 values, and memory stops growing once the table is
// full. The memory per tracked client is reported.
func TestAFloodOfDistinctClientsStaysWithinTheConfiguredBounds(t *testing.T) {
	clients := 1_000_000
	if raceEnabled || testing.Short() {
		clients = 60_000
	}
	cfg := DefaultConfig()
	cfg.ClientsMax = 20_000
	cfg.NamespacesMax = 200
	srv := serverLabel(t)

	before := heapInUse()
	k := New(cfg)
	k.Next = zone{}
	ctx := context.WithValue(context.Background(), dnsserver.Key{}, &dnsserver.Server{Addr: srv})
	m := new(dns.Msg)
	send := func(i int) {
		ip := net.IPv4(10, byte(i>>16), byte(i>>8), byte(i))
		w := &peer{ip: ip.String(), port: 1024 + i%60000}
		w.addr = &net.UDPAddr{IP: ip, Port: w.port}
		// The first two candidates of a walk, which confirm it and teach
		// the client's namespace: one of 5,000, far above namespaces_max.
		base := fmt.Sprintf("host-%d.example.com", i)
		ns := fmt.Sprintf("ns-%d", i%5000)
		for _, n := range []string{base + "." + ns + ".svc.cluster.local.", base + ".svc.cluster.local."} {
			m.SetQuestion(n, dns.TypeA)
			m.Id = uint16(i)
			k.ServeDNS(ctx, dnstest.NewRecorder(w), m)
		}
	}
	for i := 0; i < cfg.ClientsMax; i++ {
		send(i)
	}
	full := heapInUse()
	for i := cfg.ClientsMax; i < clients; i++ {
		send(i)
	}
	after := heapInUse()

	if n := k.clients.len(); n > cfg.ClientsMax {
		t.Errorf("tracked clients = %d, want at most %d", n, cfg.ClientsMax)
	}
	if got, want := testutil.ToFloat64(evictionsTotal.WithLabelValues(srv)), float64(clients-cfg.ClientsMax); got != want {
		t.Errorf("evictions = %v, want %v", got, want)
	}
	// ns-0 ... ns-199 were seen first and got their own label; the walks
	// of every client in a later namespace count under _other.
	other := 0
	for i := 0; i < clients; i++ {
		if i%5000 >= cfg.NamespacesMax {
			other++
		}
	}
	if got, want := counted(k, wastedNXDomain.WithLabelValues(srv, "_other")), 2*float64(other); got != want {
		t.Errorf("wasted NXDOMAIN beyond namespaces_max = %v, want %v under _other", got, want)
	}
	if n := labelValues(t, "coredns_k8slint_wasted_nxdomain_total", srv); n > cfg.NamespacesMax+2 {
		t.Errorf("namespace label values = %d, want at most %d", n, cfg.NamespacesMax+2)
	}
	perClient := float64(full-before) / float64(cfg.ClientsMax)
	t.Logf("%d clients, %d queries: table of %d clients holds %.1f MiB (%.0f bytes per client); after the flood %.1f MiB",
		clients, 2*clients, cfg.ClientsMax, float64(full-before)/(1<<20), perClient, float64(after-before)/(1<<20))
	// README.md states about 680 bytes per client: fail well before the
	// statement turns false.
	if perClient > 800 {
		t.Errorf("%.0f bytes per tracked client, want at most 800 (README.md says about 680)", perClient)
	}
	// Once the table is full, more clients replace old ones: memory is
	// flat (a margin for the allocator's and the metrics' own state).
	if after > full+full/20+1<<20 {
		t.Errorf("live heap grew from %d to %d bytes while the table was full", full, after)
	}
}

// labelValues counts the series of family name with server label srv.
func labelValues(t *testing.T, name, srv string) int {
	t.Helper()
	n := 0
	for _, m := range gatheredFamily(t, name).GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "server" && strings.EqualFold(l.GetValue(), srv) {
				n++
			}
		}
	}
	return n
}
