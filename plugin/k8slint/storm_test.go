package k8slint

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestAStormStartsAboveTheRateAndEndsBelowIt(t *testing.T) {
	k, srv := newTestPlugin(t, zone{})
	k.cfg.StormRate = 10 // wasted answers per second
	w := &peer{ip: "10.244.8.1", port: 46000}
	// Two lookups of an external name: 12 wasted answers in one second.
	glibcWalk(t, k, srv, w, "api.stripe.com", "shop", zone{})
	glibcWalk(t, k, srv, w, "api.stripe.com", "shop", zone{})
	out := captureLog(t, func() { k.judgeStorms(time.Second) })
	if !strings.Contains(out, `search-path storm in namespace "shop" on `+srv+`: 12.0 wasted NXDOMAIN/s over 1s (threshold 10/s); top names: api.stripe.com (12)`) {
		t.Fatalf("no storm logged:\n%s", out)
	}
	if got := testutil.ToFloat64(stormActive.WithLabelValues(srv, "shop")); got != 1 {
		t.Errorf("storm_active = %v, want 1", got)
	}
	if got := testutil.ToFloat64(stormsTotal.WithLabelValues(srv, "shop")); got != 1 {
		t.Errorf("storms_total = %v, want 1", got)
	}
	// One more lookup: 6 wasted in the next second, below the rate.
	glibcWalk(t, k, srv, w, "api.stripe.com", "shop", zone{})
	out = captureLog(t, func() { k.judgeStorms(time.Second) })
	if !strings.Contains(out, `search-path storm in namespace "shop" on `+srv+` ended: 6.0 wasted NXDOMAIN/s`) {
		t.Fatalf("the storm's end was not logged:\n%s", out)
	}
	if got := testutil.ToFloat64(stormActive.WithLabelValues(srv, "shop")); got != 0 {
		t.Errorf("storm_active = %v after the storm, want 0", got)
	}
}
