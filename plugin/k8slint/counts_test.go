package k8slint

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

// gatheredFamily is the metric family name as the default registry
// gathers it for a scrape (nil when it has none).
func gatheredFamily(t *testing.T, name string) *dto.MetricFamily {
	t.Helper()
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf
		}
	}
	return nil
}

// gathered is the value of the counter name{server, namespace} as a
// scrape reads it (0 when it has none).
func gathered(t *testing.T, name, server, ns string) float64 {
	t.Helper()
	for _, m := range gatheredFamily(t, name).GetMetric() {
		l := map[string]string{}
		for _, p := range m.GetLabel() {
			l[p.GetName()] = p.GetValue()
		}
		if l["server"] == server && l["namespace"] == ns {
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// A query whose counts belong to another namespace than those its
// client's entry keeps publishes the kept ones first. A walk's namespace
// is learned at its second candidate's A (its third answer): its AAAA is
// the first pair counted under it and publishes the walk's first three
// answers (3 wasted, under the walk's namespace, and 1 pair, under none);
// the rest waits in the entry for a scrape.
func TestCountsKeptForOneNamespaceArePublishedWhenAnotherComes(t *testing.T) {
	k, srv := newTestPlugin(t, zone{})
	w := &peer{ip: "10.244.9.3", port: 45000}
	glibcWalk(t, k, srv, w, "api.stripe.com", "shop", zone{})
	observed(k)
	raw := func(c prometheus.Counter) float64 { return testutil.ToFloat64(c) }
	if got := raw(wastedNXDomain.WithLabelValues(srv, "shop")); got != 3 {
		t.Errorf("wasted{shop} = %v before a scrape, want 3", got)
	}
	if got := raw(sequentialPairs.WithLabelValues(srv, "_unknown", "same_socket")); got != 1 {
		t.Errorf("same_socket pairs{_unknown} = %v before a scrape, want 1", got)
	}
	if got := raw(sequentialPairs.WithLabelValues(srv, "shop", "same_socket")); got != 0 {
		t.Errorf("same_socket pairs{shop} = %v before a scrape, want 0", got)
	}
	if got := wasted(k, srv, "shop"); got != 6 {
		t.Errorf("wasted{shop} = %v after publishing, want 6", got)
	}
	if got := counted(k, sequentialPairs.WithLabelValues(srv, "shop", "same_socket")); got != 3 {
		t.Errorf("same_socket pairs{shop} = %v after publishing, want 3", got)
	}
}

// The same client through two servers: each server's counters get their
// own queries'.
func TestCountsKeptForOneServerArePublishedWhenAnotherComes(t *testing.T) {
	k, srv := newTestPlugin(t, zone{})
	srv2 := srv + "_2"
	w := &peer{ip: "10.244.9.1", port: 45100}
	glibcWalk(t, k, srv, w, "api.stripe.com", "shop", zone{})
	glibcWalk(t, k, srv2, w, "api.stripe.com", "shop", zone{})
	observed(k)
	if got := testutil.ToFloat64(wastedNXDomain.WithLabelValues(srv, "shop")); got != 6 {
		t.Errorf("wasted{%s} = %v once the other server's walk came, want 6", srv, got)
	}
	if got := wasted(k, srv2, "shop"); got != 6 {
		t.Errorf("wasted{%s} = %v, want 6", srv2, got)
	}
}

// A running instance's counts are published by a scrape, and by Stop.
func TestAScrapeAndStopPublishTheCountsKept(t *testing.T) {
	k, srv := newTestPlugin(t, zone{})
	k.Start()
	defer k.Stop() // a second Stop does nothing
	w := &peer{ip: "10.244.9.2", port: 45200}
	glibcWalk(t, k, srv, w, "api.stripe.com", "shop", zone{})
	if got := gathered(t, "coredns_k8slint_wasted_nxdomain_total", srv, "shop"); got != 6 {
		t.Errorf("scraped wasted{shop} = %v, want 6", got)
	}
	glibcWalk(t, k, srv, w, "api.stripe.com", "shop", zone{})
	k.Stop()
	if got := testutil.ToFloat64(wastedNXDomain.WithLabelValues(srv, "shop")); got != 12 {
		t.Errorf("wasted{shop} = %v after Stop, want 12", got)
	}
}
