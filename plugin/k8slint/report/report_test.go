package report

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/report.golden.json")

var t0 = time.Date(2026, 12, 1, 19, 0, 0, 0, time.UTC)

func share(level, ns, kind, name, addr string, queries, wasted uint64, names ...Name) Workload {
	return Workload{
		Level: level, Namespace: ns, Kind: kind, Name: name, Address: addr,
		Counts:    Counts{Queries: queries, SearchExpansions: wasted + wasted/2, WastedNXDOMAIN: wasted},
		TopNames:  names,
		FirstSeen: t0.Add(time.Second), LastSeen: t0.Add(time.Minute),
	}
}

// example is a report with every field set.
func example() Report {
	s := NewSummary(3)
	api := share(LevelWorkload, "shop", "Deployment", "api", "", 100, 40, Name{Name: "api.stripe.com", WastedNXDOMAIN: 30}, Name{Name: "hooks.slack.com", WastedNXDOMAIN: 10})
	api.Pairs = Pairs{Parallel: 12, SameSocket: 1}
	api.RaceSuspected = 2
	api.UpstreamFailures = Upstream{Servfail: 3, Timeout: 1}
	api.Resolver = Resolver{SearchedDots: Int(2), AsIsDots: Int(5), SearchListLength: Int(3)}
	s.Add(api)
	s.Add(share(LevelNode, "", "", "node-1", "", 20, 8, Name{Name: "example.org", WastedNXDOMAIN: 8}))
	s.Add(share(LevelAddress, "batch", "", "", "10.244.0.9", 9, 0))
	// A fourth entry that wasted: it takes the place of the one that may
	// have wasted least (10.244.0.9, 0), whose counts stay in the totals.
	s.Add(share(LevelWorkload, "batch", "CronJob", "nightly", "", 30, 6, Name{Name: "db.example.net", WastedNXDOMAIN: 6}))
	r := s.Report()
	r.Generator = "k8slint test"
	r.Window = Window{Start: t0, End: t0.Add(10 * time.Minute), Complete: true}
	r.Replicas = []Replica{{Name: "coredns-0", Servers: []string{"dns://:53"}, Started: t0.Add(-time.Hour), Window: r.Window,
		Attribution: Attribution{State: AttributionSynced, Pods: 42, CronJobs: CronJobsUnavailable,
			CronJobsError: `jobs.batch is forbidden: User "system:serviceaccount:kube-system:coredns" cannot list resource "jobs" in API group "batch" at the cluster scope`}}}
	return r
}

func TestTheReportMatchesItsGoldenJSON(t *testing.T) {
	r := example()
	var buf bytes.Buffer
	if err := Encode(&buf, &r); err != nil {
		t.Fatal(err)
	}
	const golden = "testdata/report.golden.json"
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("the report's JSON changed (run go test -update if the schema change is meant, and bump Version if a reader would break):\n%s", buf.String())
	}
	back, err := Decode(bytes.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := Encode(&again, &back); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), want) {
		t.Errorf("decoding and encoding the golden report changed it:\n%s", again.String())
	}
}

func TestASpaceSavingSummaryKeepsCapacityEntriesAndBoundsTheRest(t *testing.T) {
	r := example()
	if len(r.Workloads) != 3 || r.Capacity != 3 {
		t.Fatalf("%d entries, capacity %d", len(r.Workloads), r.Capacity)
	}
	if r.Totals.Queries != 159 || r.Totals.WastedNXDOMAIN != 54 {
		t.Errorf("totals %+v: every share counts, kept or not", r.Totals)
	}
	var got []string
	for _, w := range r.Workloads {
		got = append(got, w.String())
	}
	if want := "Deployment shop/api|node node-1|CronJob batch/nightly"; strings.Join(got, "|") != want {
		t.Errorf("entries %s, want %s", strings.Join(got, "|"), want)
	}
	// The newcomer replaced an entry that wasted nothing: no error.
	if w := r.Workloads[2]; w.WastedError != 0 || r.Floor != 0 {
		t.Errorf("nightly: error %d, floor %d", w.WastedError, r.Floor)
	}
	// An entry that did not waste is left out of a full summary.
	s := NewSummary(1)
	s.Add(share(LevelAddress, "", "", "", "10.0.0.1", 5, 5))
	s.Add(share(LevelAddress, "", "", "", "10.0.0.2", 5, 0))
	s.Add(share(LevelAddress, "", "", "", "10.0.0.3", 5, 2))
	r = s.Report()
	if len(r.Workloads) != 1 || r.Workloads[0].Address != "10.0.0.3" || r.Workloads[0].WastedError != 5 || r.Floor != 5 {
		t.Errorf("space-saving replacement: %+v floor %d", r.Workloads, r.Floor)
	}
}

func TestSharesOfOneEntryAddUp(t *testing.T) {
	s := NewSummary(4)
	a := share(LevelWorkload, "shop", "Deployment", "api", "", 10, 4, Name{Name: "a.example", WastedNXDOMAIN: 4})
	a.Resolver = Resolver{SearchedDots: Int(1)}
	b := share(LevelWorkload, "shop", "Deployment", "api", "", 5, 3, Name{Name: "b.example", WastedNXDOMAIN: 3})
	b.Resolver = Resolver{SearchedDots: Int(2), AsIsDots: Int(5)}
	s.Add(a)
	s.Add(b)
	r := s.Report()
	if len(r.Workloads) != 1 {
		t.Fatalf("%d entries", len(r.Workloads))
	}
	w := r.Workloads[0]
	if w.Queries != 15 || w.WastedNXDOMAIN != 7 || len(w.TopNames) != 2 || w.TopNames[0].Name != "a.example" {
		t.Errorf("%+v", w)
	}
	if *w.Resolver.SearchedDots != 2 || *w.Resolver.NdotsAtLeast != 3 || *w.Resolver.NdotsAtMost != 5 {
		t.Errorf("resolver %+v", w.Resolver)
	}
}

func TestMergeAddsReplicasAndBoundsWhatAReplicaDidNotList(t *testing.T) {
	s1 := NewSummary(1)
	s1.Add(share(LevelWorkload, "shop", "Deployment", "api", "", 10, 10))
	s1.Add(share(LevelWorkload, "shop", "Deployment", "web", "", 10, 4)) // replaces api: floor 10
	r1 := s1.Report()
	s2 := NewSummary(2)
	s2.Add(share(LevelWorkload, "shop", "Deployment", "api", "", 10, 6))
	r2 := s2.Report()
	m := Merge(r1, r2)
	if m.Totals.Queries != 30 || m.Floor != 10 || len(m.Workloads) != 2 {
		t.Fatalf("merged: %+v", m)
	}
	byName := map[string]Workload{}
	for _, w := range m.Workloads {
		byName[w.Name] = w
	}
	// api: 6 seen in r2, up to r1's floor (10) more in r1, which lost it.
	if w := byName["api"]; w.WastedNXDOMAIN != 6 || w.WastedError != 10 {
		t.Errorf("api %d+%d", w.WastedNXDOMAIN, w.WastedError)
	}
	// web: listed in r1 with r1's error 10; r2 (floor 0) lists everything.
	if w := byName["web"]; w.WastedNXDOMAIN != 4 || w.WastedError != 10 {
		t.Errorf("web %d+%d", w.WastedNXDOMAIN, w.WastedError)
	}
}

func TestDecodeRejectsAnotherVersionAndUnknownFields(t *testing.T) {
	for in, want := range map[string]string{
		`{"version": 2}`:                "version 2, this reader knows version 3",
		`{"workloads": []}`:             "no version field",
		`{"version": 3, "extra": true}`: "unknown field",
		`not json`:                      "invalid character",
	} {
		if _, err := Decode(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Decode(%s) = %v, want %q", in, err, want)
		}
	}
}
