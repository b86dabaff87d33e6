package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/k8slint/k8slint/plugin/k8slint/report"
)

const mergeNS = "e2e-merge"

// CoreDNS in 2 replicas behind the kube-dns Service, the closed loop's
// glibc and musl Deployments looking their names up (loopNames,
// loopLookups times each): each replica's report holds part of the
// lookups, and dnslint cluster, fetching both through
// the API server's pod proxy, merges them: each workload's queries are
// exactly what its pods sent (8 a lookup: A and AAAA of 3 candidates and
// of the name), the sum of the two replicas' counts. kube-proxy sends each
// UDP socket's flow to one replica, and both libcs here open a socket per
// candidate, so a walk is split between the replicas: each counts as wasted
// the candidates it saw when it saw two or more queries of the walk, and
// as unconfirmed a candidate it saw alone (the plugin README's
// "Search-path expansion"). Merged, wasted plus unconfirmed is the 6
// NXDOMAIN answers a lookup costs, and the test logs how they split.
func TestTwoReplicasReportsMergeToWhatThePodsSent(t *testing.T) {
	need(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	deployReporting(t, ctx, 2)
	// The closed loop's workloads, in a namespace of their own.
	applyYAML(t, strings.ReplaceAll(loopApps, loopNS, mergeNS))
	t.Cleanup(func() { deleteNamespace(t, mergeNS) })
	apps := []string{"glibc-app", "musl-app"}
	lookUp(t, ctx, mergeNS, map[string]string{}, apps...)
	// A candidate a replica saw alone is settled as unconfirmed once
	// retry_window (10s) passed; fetching the report drains it.
	time.Sleep(11 * time.Second)

	// Each replica's own report, per app.
	dns := corednsPods(t, ctx)
	if len(dns) != 2 {
		t.Fatalf("%d CoreDNS pods, want 2", len(dns))
	}
	type counts struct{ queries, wasted, unconfirmed uint64 }
	sum := map[string]counts{}
	for _, p := range dns {
		seen := uint64(0)
		for _, w := range fetchReport(t, p.Status.PodIP).Workloads {
			if w.Level != report.LevelWorkload || w.Namespace != mergeNS {
				continue
			}
			c := sum[w.Name]
			c.queries += w.Queries
			c.wasted += w.WastedNXDOMAIN
			c.unconfirmed += w.UnconfirmedNXDOMAIN
			sum[w.Name] = c
			seen += w.Queries
			t.Logf("CoreDNS pod %s: %s: %d queries, %d wasted NXDOMAIN, %d unconfirmed", p.Name, w.String(), w.Queries, w.WastedNXDOMAIN, w.UnconfirmedNXDOMAIN)
		}
		if seen == 0 {
			t.Errorf("CoreDNS pod %s saw none of the lookups: kube-proxy did not spread them", p.Name)
		}
	}

	// dnslint cluster merges both.
	ranked, text := clusterRanking(t, mergeNS, 2)
	t.Logf("dnslint cluster -n %s:\n%s", mergeNS, text)
	for _, app := range apps {
		r, ok := ranked["Deployment/"+app]
		if !ok {
			t.Errorf("%s is not ranked", app)
			continue
		}
		e, lookups := r.Entry, uint64(loopLookups*len(loopNames(app)))
		if e.Queries != 8*lookups || e.Queries != sum[app].queries {
			t.Errorf("%s: %d queries merged, the replicas' reports %d; its pod sent %d (8 a lookup)", app, e.Queries, sum[app].queries, 8*lookups)
		}
		if e.WastedNXDOMAIN != sum[app].wasted || e.UnconfirmedNXDOMAIN != sum[app].unconfirmed {
			t.Errorf("%s: %d wasted and %d unconfirmed NXDOMAIN merged, the replicas' reports %d and %d", app, e.WastedNXDOMAIN, e.UnconfirmedNXDOMAIN, sum[app].wasted, sum[app].unconfirmed)
		}
		if e.WastedNXDOMAIN == 0 || e.WastedNXDOMAIN+e.UnconfirmedNXDOMAIN != 6*lookups {
			t.Errorf("%s: %d wasted + %d unconfirmed NXDOMAIN merged, want the %d its lookups cost (6 a lookup)", app, e.WastedNXDOMAIN, e.UnconfirmedNXDOMAIN, 6*lookups)
		}
		if u := e.UnconfirmedNXDOMAIN; u > 0 && !strings.Contains(text, fmt.Sprintf("Deployment %s/%s: %d wasted NXDOMAIN (and %d unconfirmed", mergeNS, app, e.WastedNXDOMAIN, u)) {
			t.Errorf("%s: dnslint cluster's text does not show its %d unconfirmed NXDOMAIN beside the %d wasted", app, u, e.WastedNXDOMAIN)
		}
		t.Logf("%s: of the %d NXDOMAIN answers its lookups cost, 2 replicas counted %d as wasted and %d as unconfirmed", app, 6*lookups, e.WastedNXDOMAIN, e.UnconfirmedNXDOMAIN)
	}
}
