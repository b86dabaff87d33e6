//lint:file-ignore SA1019 the classic dashboard JSON (schema v1) is what Grafana imports and mixins ship; dashboardv2 is another format.

package monitoring

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// Each dashboard decodes strictly (no field Grafana's schema lacks) into
// the dashboard types of Grafana's foundation SDK, panels and Prometheus
// queries included, and passes their validation.
func TestDashboardsLoadIntoGrafanasSchema(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	for _, f := range dashboardFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboard.Dashboard
		if err := strictDashboard(&d, b); err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if err := d.Validate(); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		if len(d.Panels) == 0 {
			t.Errorf("%s: no panels decoded", f)
		}
	}
	// And a known-bad one: a field the schema lacks.
	var d dashboard.Dashboard
	if err := strictDashboard(&d, []byte(`{"title": "x", "schemaVersion": 39, "panels": [], "templating": {"list": []}, "annotations": {"list": []}, "refreshh": "30s"}`)); err == nil {
		t.Error("a dashboard with an unknown field decodes strictly")
	}
}

// strictDashboard decodes b into d strictly. The SDK returns its error
// list as an error even when it is empty.
func strictDashboard(d *dashboard.Dashboard, b []byte) error {
	err := d.UnmarshalJSONStrict(b)
	var list cog.BuildErrors
	if errors.As(err, &list) && len(list) == 0 {
		return nil
	}
	return err
}

// Every target and variable query parses with Prometheus's parser once
// Grafana's variables are substituted; a variable the dashboard does not
// define is an error.
func TestEveryDashboardQueryParses(t *testing.T) {
	for _, f := range dashboardFiles(t) {
		d := loadDashboard(t, f)
		qs, err := DashboardQueries(f, d)
		if err != nil {
			t.Fatal(err)
		}
		vars := map[string]string{"__rate_interval": "1m", "__interval": "30s", "__range": "1h"}
		for _, v := range d.Templating.List {
			vars[v.Name] = dashboardVars[v.Name]
		}
		for _, q := range qs {
			expr, err := SubstituteVariables(q.Expr, vars)
			if err != nil {
				t.Errorf("%s: %v", q.Where, err)
				continue
			}
			if _, err := ParseExpr(expr); err != nil {
				t.Errorf("%s: %s: %v", q.Where, expr, err)
			}
		}
	}
	if _, err := SubstituteVariables(`up{job=~"$jbo"}`, map[string]string{"job": "x"}); err == nil {
		t.Error("an undefined variable is substituted without error")
	}
}

// The kube-prometheus conventions: variables datasource, cluster, job and
// instance; every panel and query on ${datasource}; the job variable built
// from the one selector; panels with unique ids inside Grafana's 24
// columns, not overlapping.
func TestDashboardFollowsTheMixinConventions(t *testing.T) {
	for _, f := range dashboardFiles(t) {
		d := loadDashboard(t, f)
		var names []string
		for _, v := range d.Templating.List {
			names = append(names, v.Name)
			if v.Name == "job" && !strings.Contains(v.Definition, `job="kube-dns"`) {
				t.Errorf("%s: the job variable does not use the selector: %s", f, v.Definition)
			}
		}
		if got := strings.Join(names, ","); got != "datasource,cluster,job,instance" {
			t.Errorf("%s: variables %s, want datasource,cluster,job,instance", f, got)
		}
		ids := map[int]bool{}
		type cell struct{ x, y int }
		used := map[cell]string{}
		for _, p := range d.Panels {
			if ids[p.ID] {
				t.Errorf("%s: panel id %d twice", f, p.ID)
			}
			ids[p.ID] = true
			g := p.GridPos
			if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
				t.Errorf("%s: %q at %+v is outside the 24 columns", f, p.Title, g)
			}
			for x := g.X; x < g.X+g.W; x++ {
				for y := g.Y; y < g.Y+g.H; y++ {
					if other, ok := used[cell{x, y}]; ok {
						t.Errorf("%s: %q overlaps %q at column %d row %d", f, p.Title, other, x, y)
					}
					used[cell{x, y}] = p.Title
				}
			}
			if p.Type == "row" {
				continue
			}
			if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
				t.Errorf("%s: panel %q is not on ${datasource}", f, p.Title)
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s: panel %q has no query", f, p.Title)
			}
			for _, tg := range p.Targets {
				if tg.Datasource == nil || tg.Datasource.UID != "${datasource}" {
					t.Errorf("%s: a query of %q is not on ${datasource}", f, p.Title)
				}
				if !strings.Contains(tg.Expr, `$cluster"`) {
					t.Errorf("%s: a query of %q does not select $cluster: %s", f, p.Title, tg.Expr)
				}
				if strings.Contains(tg.Expr, "coredns_") && !strings.Contains(tg.Expr, `job=~"$job"`) {
					t.Errorf("%s: a query of %q reads CoreDNS without $job: %s", f, p.Title, tg.Expr)
				}
			}
		}
	}
}

// EvaluateDashboard, the hook a cluster test calls with scrapes of the
// cluster's CoreDNS, answers every query of the dashboard from two scrapes
// of the built coredns-custom after traffic: each has data, except the
// node_exporter panel, which has none here (no node_exporter was scraped).
func TestEveryDashboardQueryHasDataFromALiveCoreDNS(t *testing.T) {
	scrapes := liveScrapes(t)
	for _, f := range dashboardFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		results, err := EvaluateDashboard(b, scrapes, map[string]string{"cluster": ".*", "job": "kube-dns", "instance": ".+"})
		if err != nil {
			t.Fatal(err)
		}
		problems, withData := CheckData(results)
		for _, p := range problems {
			t.Error(p)
		}
		t.Logf("%s: %d of %d queries answered with data from two scrapes", f, withData, len(results))
	}
	// The hook reports a query without data: a series no scrape holds.
	d := []byte(`{"uid": "x", "panels": [{"title": "p", "targets": [{"refId": "A", "expr": "sum(rate(coredns_forward_responses_total{job=~\"$job\"}[$__rate_interval]))"}]}], "templating": {"list": []}}`)
	results, err := EvaluateDashboard(d, scrapes, map[string]string{"job": "kube-dns"})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 || results[0].Err != nil || results[0].Series != 0 {
		t.Errorf("a query of a series that is not exported: %+v", results)
	}
}
