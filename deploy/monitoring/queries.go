package monitoring

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

// Query is one PromQL expression the mixin ships, and where it is.
type Query struct {
	Where string // "prometheus_alerts.yaml: K8sLintUpstreamDegraded (critical)", "dashboard k8slint-coredns.json: Storms B", ...
	Expr  string // as written; dashboard expressions still hold $variables
	// Dashboard is true for a dashboard target or variable: its Expr
	// needs SubstituteVariables before it parses.
	Dashboard bool
}

// RuleQueries returns the expressions of a rule file (alerts or recording
// rules), checked by rulefmt as Prometheus loads them.
func RuleQueries(file string, content []byte) ([]Query, *rulefmt.RuleGroups, error) {
	groups, errs := rulefmt.Parse(content, false, model.UTF8Validation, promQL, nil)
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("%s: %v", file, errs)
	}
	var qs []Query
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			where := r.Record
			if r.Alert != "" {
				where = fmt.Sprintf("%s (%s)", r.Alert, r.Labels["severity"])
			}
			qs = append(qs, Query{Where: file + ": " + where, Expr: r.Expr})
		}
	}
	return qs, groups, nil
}

// Dashboard is the part of a Grafana dashboard the checks read.
type Dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []Panel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Type       string `json:"type"`
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

// Panel is a dashboard panel (or row).
type Panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	GridPos struct{ X, Y, W, H int } `json:"gridPos"`
	Targets []struct {
		Expr         string `json:"expr"`
		RefID        string `json:"refId"`
		LegendFormat string `json:"legendFormat"`
		Datasource   *struct {
			Type string `json:"type"`
			UID  string `json:"uid"`
		} `json:"datasource"`
	} `json:"targets"`
}

// ParseDashboard reads a dashboard's JSON.
func ParseDashboard(content []byte) (*Dashboard, error) {
	var d Dashboard
	if err := json.Unmarshal(content, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// promQL is Prometheus's parser with its default options, as a
// Prometheus server with no feature flags parses rules and queries.
var promQL = parser.NewParser(parser.Options{})

// ParseExpr parses a PromQL expression as Prometheus does.
func ParseExpr(expr string) (parser.Expr, error) { return promQL.ParseExpr(expr) }

var labelValues = regexp.MustCompile(`^label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$`)

// DashboardQueries returns the expressions of a dashboard's targets and
// the selectors of its label_values variables.
func DashboardQueries(file string, d *Dashboard) ([]Query, error) {
	var qs []Query
	for _, p := range d.Panels {
		for _, t := range p.Targets {
			qs = append(qs, Query{Where: fmt.Sprintf("%s: %s %s", file, p.Title, t.RefID), Expr: t.Expr, Dashboard: true})
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		m := labelValues.FindStringSubmatch(v.Definition)
		if m == nil {
			return nil, fmt.Errorf("%s: variable %s: want label_values(SELECTOR, LABEL), got %q", file, v.Name, v.Definition)
		}
		qs = append(qs, Query{Where: fmt.Sprintf("%s: variable %s", file, v.Name), Expr: m[1], Dashboard: true})
	}
	return qs, nil
}

var variable = regexp.MustCompile(`\$(\{[A-Za-z0-9_]+\}|[A-Za-z0-9_]+)`)

// SubstituteVariables replaces Grafana's $name and ${name} in expr with
// vals[name]. It fails on a variable vals does not hold.
func SubstituteVariables(expr string, vals map[string]string) (string, error) {
	var missing []string
	out := variable.ReplaceAllStringFunc(expr, func(v string) string {
		name := strings.Trim(v[1:], "{}")
		val, ok := vals[name]
		if !ok {
			missing = append(missing, v)
			return v
		}
		return val
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("unknown variables %v in %q", missing, expr)
	}
	return out, nil
}

// MetricNames returns the metric names the expression selects, sorted.
// A selector without a name (only {__name__=~...}) is an error: the
// names it would select cannot be checked.
func MetricNames(expr string) ([]string, error) {
	e, err := promQL.ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var bad error
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		if vs.Name == "" {
			bad = fmt.Errorf("selector %s has no metric name", vs)
			return nil
		}
		seen[vs.Name] = true
		return nil
	})
	if bad != nil {
		return nil, bad
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}
