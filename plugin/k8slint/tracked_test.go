package k8slint

import (
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// Two server blocks on one address (two zones) share the server label but
// each has its own instance: tracked_clients is their sum, and an instance
// that stops takes its share away.
func TestTrackedClientsSumsTheInstancesOfOneServer(t *testing.T) {
	srv := "dns://" + strings.ReplaceAll(t.Name(), "/", "_")
	k1, k2 := New(DefaultConfig()), New(DefaultConfig())
	k1.Next, k2.Next = zone{}, zone{}
	for i, n := range []int{3, 5} {
		k := []*K8slint{k1, k2}[i]
		for c := 0; c < n; c++ {
			w := &peer{ip: "10.244.9." + string(rune('1'+c)), port: 50000 + c}
			ask(t, k, srv, w, "example.org.", dns.TypeA, uint16(c))
		}
	}
	var a, b time.Time
	k1.tick(time.Now(), &a, &b)
	k2.tick(time.Now(), &a, &b)
	k1.tick(time.Now(), &a, &b)
	if got := testutil.ToFloat64(trackedClients.WithLabelValues(srv)); got != 8 {
		t.Fatalf("tracked_clients = %v, want 3+5", got)
	}
	k2.Start()
	k2.Stop()
	if got := testutil.ToFloat64(trackedClients.WithLabelValues(srv)); got != 3 {
		t.Fatalf("tracked_clients after one instance stopped = %v, want 3", got)
	}
	k1.Start()
	k1.Stop()
}
