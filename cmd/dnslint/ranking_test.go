package main

import (
	"strings"
	"testing"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/plugin/k8slint/report"
)

// A Deployment of kubectl's shape, glibc with kubelet's ndots:5, that
// looks up api.example.com (2 dots) and the Service db.data (1 dot).
const rankedDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  selector:
    matchLabels:
      app: api
  template:
    metadata:
      labels:
        app: api
    spec:
      containers:
      - env:
        - name: API_HOST
          value: api.example.com
        - name: DB_HOST
          value: db.data
        image: debian:12
        name: main
`

func TestThePredictionScalesEachMeasuredNameByWhatALookupWastesBeforeAndAfterTheFix(t *testing.T) {
	opts, err := lintOptions(nil, nil, &settings{clusterDomain: "cluster.local"}, lint.DefaultCoreDNSVersion)
	if err != nil {
		t.Fatal(err)
	}
	path := objectName("shop", "deployment", "api")
	in, err := lint.LoadManifest(path, []byte(rankedDeployment), 1)
	if err != nil {
		t.Fatal(err)
	}
	o := &linkedObject{path: path, src: []byte(rankedDeployment), findings: lint.Run(in, opts)}
	// 10 lookups of api.example.com (6 NXDOMAIN each) and 2 of db.data
	// searched through to its Service (2 NXDOMAIN each: A and AAAA of
	// db.data.shop.svc.cluster.local first); 5 more wasted answers
	// credited to no listed name.
	r := ranked{Entry: report.Workload{Level: report.LevelWorkload, Namespace: "shop", Kind: "Deployment", Name: "api",
		Counts:   report.Counts{WastedNXDOMAIN: 60 + 4 + 5},
		TopNames: []report.Name{{Name: "api.example.com", WastedNXDOMAIN: 60}, {Name: "db.data", WastedNXDOMAIN: 4}},
	}}
	predict(&r, o, opts)
	if len(r.Fixes) == 0 || !r.Predicted {
		t.Fatalf("no fix or no prediction: %+v", r)
	}
	got := map[string][2]int{}
	for _, n := range r.Names {
		got[n.Name] = [2]int{n.NXPerLookup, n.NXPerLookupFix}
	}
	// ndots:2 (what pod-ndots-high proposes for db.data to keep
	// resolving) asks api.example.com as it is, and db.data still
	// through the search list.
	want := map[string][2]int{"api.example.com": {6, 0}, "db.data": {2, 2}}
	if len(got) != 2 || got["api.example.com"] != want["api.example.com"] || got["db.data"] != want["db.data"] {
		t.Errorf("NXDOMAIN per lookup before and after: %v, want %v (fixes %q)", got, want, r.Fixes)
	}
	// 0 + 4 for the listed names; the 5 others scaled as they were:
	// 5*4/64, rounded with the rest.
	if r.PredictedWasted != 4 {
		t.Errorf("predicted %d wasted NXDOMAIN, want 4", r.PredictedWasted)
	}
}

func TestTheRankingShowsUnconfirmedNXDOMAINBesideTheWaste(t *testing.T) {
	e := report.Workload{Level: report.LevelWorkload, Namespace: "shop", Kind: "Deployment", Name: "api",
		Counts: report.Counts{Queries: 64, WastedNXDOMAIN: 42, UnconfirmedNXDOMAIN: 6}}
	quiet := report.Workload{Level: report.LevelWorkload, Namespace: "shop", Kind: "Deployment", Name: "web",
		Counts: report.Counts{Queries: 16, WastedNXDOMAIN: 12}}
	m := report.Report{Totals: report.Counts{Queries: 80, WastedNXDOMAIN: 54, UnconfirmedNXDOMAIN: 6}}
	var b strings.Builder
	if err := writeRanking(&b, m, 2, []ranked{{Entry: e}, {Entry: quiet}}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"1. Deployment shop/api: 42 wasted NXDOMAIN (and 6 unconfirmed: search candidates a replica saw without the rest of their walk) of 64 queries",
		"2. Deployment shop/web: 12 wasted NXDOMAIN of 16 queries",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the ranking lacks %q:\n%s", want, out)
		}
	}
}
