package monitoring

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// external are the series the mixin reads that CoreDNS does not export:
// Prometheus's own up, and node_exporter's conntrack counters (its
// conntrack collector, from /proc/net/stat/nf_conntrack, summed over CPUs).
var external = map[string]string{
	"up":                                   "Prometheus, per target",
	"node_nf_conntrack_stat_drop":          "node_exporter conntrack collector",
	"node_nf_conntrack_stat_insert_failed": "node_exporter conntrack collector",
}

// exportedNames returns the series names a scrape holds, as Prometheus
// stores them: a histogram's _bucket, _sum and _count, a summary's _sum
// and _count besides its own name.
func exportedNames(text []byte) (map[string]bool, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for name, f := range fams {
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM:
			names[name+"_bucket"], names[name+"_sum"], names[name+"_count"] = true, true, true
		case dto.MetricType_SUMMARY:
			names[name], names[name+"_sum"], names[name+"_count"] = true, true, true
		default:
			names[name] = true
		}
	}
	return names, nil
}

// unknownMetrics returns, for each query, the metric names it reads that
// are neither exported, recorded by a rule nor external.
func unknownMetrics(queries []Query, exported, recorded map[string]bool) ([]string, error) {
	var bad []string
	for _, q := range queries {
		expr := q.Expr
		if q.Dashboard {
			var err error
			if expr, err = SubstituteVariables(expr, dashboardVars); err != nil {
				return nil, fmt.Errorf("%s: %v", q.Where, err)
			}
		}
		names, err := MetricNames(expr)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", q.Where, err)
		}
		for _, n := range names {
			if !exported[n] && !recorded[n] && external[n] == "" {
				bad = append(bad, fmt.Sprintf("%s: %s", q.Where, n))
			}
		}
	}
	sort.Strings(bad)
	return bad, nil
}

// Every metric an alert, a recording rule or a dashboard query reads is in
// the registry of the built coredns-custom (scraped after traffic that
// makes every labelled series appear), is recorded by the mixin's rules,
// or is one of the external series listed above.
func TestEveryMetricTheMixinReadsIsExportedByTheBuiltBinary(t *testing.T) {
	scrapes := liveScrapes(t)
	exported, err := exportedNames(scrapes[len(scrapes)-1].Text)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(scrapes[len(scrapes)-1].Text), "\n") {
		if (strings.HasPrefix(line, "coredns_k8slint_") || strings.HasPrefix(line, "coredns_forward_") || strings.HasPrefix(line, "coredns_proxy_healthcheck")) && !strings.Contains(line, "_bucket") {
			t.Log(line)
		}
	}
	queries, recorded := shippedQueries(t)
	bad, err := unknownMetrics(queries, exported, recorded)
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Errorf("metrics read by the mixin that coredns-custom does not export:\n%s", strings.Join(bad, "\n"))
	}
	if len(queries) < 40 {
		t.Errorf("only %d queries found: the collection missed some", len(queries))
	}
}

// The forward series the widely used CoreDNS mixin alerts on are not in
// the 1.15.0 registry (so its forward alerts cannot fire), and the check
// above would reject them.
func TestTheCommonMixinsForwardSeriesAreNotExported(t *testing.T) {
	scrapes := liveScrapes(t)
	exported, err := exportedNames(scrapes[len(scrapes)-1].Text)
	if err != nil {
		t.Fatal(err)
	}
	gone := []string{
		"coredns_forward_requests_total",
		"coredns_forward_responses_total",
		"coredns_forward_request_duration_seconds_bucket",
		"coredns_forward_healthcheck_failures_total",
	}
	for _, n := range gone {
		if exported[n] {
			t.Errorf("%s is exported: the claim that the common mixin's forward alerts cannot fire is wrong", n)
		}
	}
	// What replaced them is there.
	for _, n := range []string{
		"coredns_proxy_request_duration_seconds_bucket",
		"coredns_proxy_healthcheck_failures_total",
		"coredns_forward_healthcheck_broken_total",
		"coredns_forward_max_concurrent_rejects_total",
	} {
		if !exported[n] {
			t.Errorf("%s is not exported after traffic", n)
		}
	}
	old := []Query{{Where: "common mixin: CoreDNSForwardErrorsHigh", Expr: `sum(rate(coredns_forward_responses_total{job="kube-dns",rcode="SERVFAIL"}[5m])) / sum(rate(coredns_forward_responses_total{job="kube-dns"}[5m])) > 0.03`}}
	bad, err := unknownMetrics(old, exported, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) != 1 || !strings.Contains(bad[0], "coredns_forward_responses_total") {
		t.Errorf("the check does not reject the common mixin's query: %v", bad)
	}
}

// dashboardVars are values for every variable the dashboard may use, for
// parsing and for the checks above (Grafana's "All" of a hidden cluster
// variable is .*).
var dashboardVars = map[string]string{
	"datasource":      "prometheus",
	"cluster":         ".*",
	"job":             "kube-dns",
	"instance":        ".+",
	"__rate_interval": "1m",
	"__interval":      "30s",
	"__range":         "1h",
}

// shippedQueries returns every query of the committed rule files and
// dashboards, and the names the recording rules record.
func shippedQueries(t *testing.T) ([]Query, map[string]bool) {
	t.Helper()
	var all []Query
	recorded := map[string]bool{}
	for _, f := range []string{"prometheus_alerts.yaml", "prometheus_rules.yaml"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		qs, groups, err := RuleQueries(f, b)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range groups.Groups {
			for _, r := range g.Rules {
				if r.Record != "" {
					recorded[r.Record] = true
				}
			}
		}
		all = append(all, qs...)
	}
	for _, f := range dashboardFiles(t) {
		d := loadDashboard(t, f)
		qs, err := DashboardQueries(f, d)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, qs...)
	}
	return all, recorded
}

// loadDashboard reads and parses a dashboard file.
func loadDashboard(t *testing.T, f string) *Dashboard {
	t.Helper()
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	d, err := ParseDashboard(b)
	if err != nil {
		t.Fatalf("%s: %v", f, err)
	}
	return d
}

func dashboardFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("dashboards_out/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards in dashboards_out/ (%v)", err)
	}
	return files
}
