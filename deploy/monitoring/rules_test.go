package monitoring

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/prometheus/promql/parser"
	"sigs.k8s.io/yaml"
)

// The committed files are what the mixin renders: edit the .libsonnet
// files and run `make monitoring`.
func TestCommittedFilesAreWhatTheMixinRenders(t *testing.T) {
	files, err := Render("")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range Names(files) {
		got, err := os.ReadFile(name)
		if err != nil {
			t.Errorf("%s: %v (run make monitoring)", name, err)
			continue
		}
		if string(got) != files[name] {
			t.Errorf("%s differs from what mixin.libsonnet renders: run make monitoring", name)
		}
	}
	for _, want := range []string{"prometheus_alerts.yaml", "prometheus_rules.yaml", "prometheusrule.yaml", "dashboards_out/k8slint-coredns.json"} {
		if _, ok := files[want]; !ok {
			t.Errorf("the mixin renders no %s", want)
		}
	}
}

// The selector of the CoreDNS targets is set in one place: rendered with
// another, no output keeps the default, and every rule reading a CoreDNS
// series and the dashboard's job variable use the new one.
func TestTheCoreDNSSelectorIsSetInOnePlace(t *testing.T) {
	files, err := Render(`{ corednsSelector: 'job="coredns", namespace="dns"' }`)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range Names(files) {
		if strings.Contains(files[name], "kube-dns") {
			t.Errorf("%s still holds kube-dns with another selector", name)
		}
	}
	for _, name := range []string{"prometheus_alerts.yaml", "prometheus_rules.yaml"} {
		qs, _, err := RuleQueries(name, []byte(files[name]))
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range qs {
			e, err := ParseExpr(q.Expr)
			if err != nil {
				t.Fatalf("%s: %v", q.Where, err)
			}
			parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
				vs, ok := n.(*parser.VectorSelector)
				if ok && (strings.HasPrefix(vs.Name, "coredns_") || vs.Name == "up") {
					if s := vs.String(); !strings.Contains(s, `job="coredns"`) || !strings.Contains(s, `namespace="dns"`) {
						t.Errorf("%s: %s does not use the selector", q.Where, s)
					}
				}
				return nil
			})
		}
	}
	if !strings.Contains(files["dashboards_out/k8slint-coredns.json"], `label_values(up{job=\"coredns\", namespace=\"dns\"`) {
		t.Error("the dashboard's variables do not use the selector")
	}
}

// Both rule files load as Prometheus loads them (rulefmt, strict fields,
// every expression and template checked).
func TestRuleFilesLoadAsPrometheusLoadsThem(t *testing.T) {
	n := 0
	for _, f := range []string{"prometheus_alerts.yaml", "prometheus_rules.yaml"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		qs, _, err := RuleQueries(f, b)
		if err != nil {
			t.Fatal(err)
		}
		n += len(qs)
	}
	if n < 20 {
		t.Errorf("%d rules: some are missing", n)
	}
	if _, _, err := RuleQueries("bad.yaml", []byte("groups:\n- name: x\n  rules:\n  - alert: X\n    expr: sum(rate(x[5m]) > 1\n")); err == nil {
		t.Error("a rule file with an expression that does not parse loads")
	}
}

// notWithoutPodInstance returns the aggregations of expr that are not
// `without (...)` dropping at least pod and instance.
func notWithoutPodInstance(expr string) ([]string, error) {
	e, err := ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	var bad []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		a, ok := n.(*parser.AggregateExpr)
		if !ok {
			return nil
		}
		has := map[string]bool{}
		for _, l := range a.Grouping {
			has[l] = true
		}
		if !a.Without || !has["pod"] || !has["instance"] {
			bad = append(bad, a.String())
		}
		return nil
	})
	return bad, nil
}

// Rules sum over the replicas with `without (pod, instance)`, keeping every
// other label (cluster, job, server, namespace, ...).
func TestRulesAggregateWithoutPodAndInstance(t *testing.T) {
	queries, _ := shippedQueries(t)
	for _, q := range queries {
		if q.Dashboard {
			continue
		}
		bad, err := notWithoutPodInstance(q.Expr)
		if err != nil {
			t.Fatalf("%s: %v", q.Where, err)
		}
		for _, b := range bad {
			t.Errorf("%s: %s", q.Where, b)
		}
	}
	for _, expr := range []string{`sum by (job) (x)`, `sum without (pod) (x)`, `max(x)`} {
		if bad, _ := notWithoutPodInstance(expr); len(bad) != 1 {
			t.Errorf("%s is not reported", expr)
		}
	}
}

// githubAnchors returns the anchors GitHub gives the headings of a
// Markdown page: lower case, spaces to hyphens, punctuation dropped,
// repeats numbered.
func githubAnchors(md []byte) map[string]bool {
	anchors := map[string]bool{}
	count := map[string]int{}
	drop := regexp.MustCompile(`[^\p{L}\p{N}\- _]`)
	inFence := false
	for _, line := range strings.Split(string(md), "\n") {
		if strings.HasPrefix(line, "```") || strings.HasPrefix(line, "~~~") {
			inFence = !inFence
		}
		if inFence || !strings.HasPrefix(line, "#") {
			continue
		}
		text := strings.TrimSpace(strings.TrimLeft(line, "#"))
		a := strings.ReplaceAll(drop.ReplaceAllString(strings.ToLower(text), ""), " ", "-")
		if n := count[a]; n > 0 {
			anchors[fmt.Sprintf("%s-%d", a, n)] = true
		} else {
			anchors[a] = true
		}
		count[a]++
	}
	return anchors
}

// Every alert has a severity (info, warning, critical), a summary, a
// description and a runbook_url pointing at a heading that exists in
// docs/runbooks.md; an alert in two severities differs in its threshold or
// duration.
func TestAlertsHaveSeveritySummaryDescriptionAndARunbookThatExists(t *testing.T) {
	b, err := os.ReadFile("prometheus_alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, groups, err := RuleQueries("prometheus_alerts.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	runbooks, err := os.ReadFile(repoFile(t, "docs/runbooks.md"))
	if err != nil {
		t.Fatal(err)
	}
	anchors := githubAnchors(runbooks)
	const prefix = "https://github.com/k8slint/k8slint/blob/main/docs/runbooks.md#"
	seen := map[string][]string{}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			sev := r.Labels["severity"]
			if sev != "info" && sev != "warning" && sev != "critical" {
				t.Errorf("%s: severity %q", r.Alert, sev)
			}
			for _, a := range []string{"summary", "description", "runbook_url"} {
				if strings.TrimSpace(r.Annotations[a]) == "" {
					t.Errorf("%s (%s): no %s", r.Alert, sev, a)
				}
			}
			url := r.Annotations["runbook_url"]
			anchor, ok := strings.CutPrefix(url, prefix)
			if !ok || anchor != strings.ToLower(r.Alert) || !anchors[anchor] {
				t.Errorf("%s: runbook_url %s: want %s%s, a heading of docs/runbooks.md", r.Alert, url, prefix, strings.ToLower(r.Alert))
			}
			seen[r.Alert] = append(seen[r.Alert], sev+" "+r.Expr+" for "+r.For.String())
		}
	}
	for name, variants := range seen {
		if len(variants) > 1 {
			sort.Strings(variants)
			if len(variants) != 2 || !strings.HasPrefix(variants[0], "critical ") || !strings.HasPrefix(variants[1], "warning ") ||
				strings.TrimPrefix(variants[0], "critical ") == strings.TrimPrefix(variants[1], "warning ") {
				t.Errorf("%s: want one warning and one critical rule that differ, got %q", name, variants)
			}
		}
	}
	// Every runbook section is an alert's: none left behind by a rename.
	for a := range anchors {
		if strings.HasPrefix(a, "k8slint") || strings.HasPrefix(a, "coredns") {
			found := false
			for name := range seen {
				found = found || strings.ToLower(name) == a
			}
			if !found {
				t.Errorf("docs/runbooks.md has a section %q for no alert", a)
			}
		}
	}
	if a := githubAnchors([]byte("# Title\n## K8sLintUpstreamDegraded\n## What it means: a, b!\n```\n# not a heading\n```\n## What it means: a, b!\n")); !a["k8slintupstreamdegraded"] || !a["what-it-means-a-b"] || !a["what-it-means-a-b-1"] || a["not-a-heading"] {
		t.Errorf("anchors of a known page: %v", a)
	}
}

// prometheusrule.yaml is a valid prometheus-operator PrometheusRule
// (decoded strictly into its Go type) whose groups are exactly those of
// prometheus_rules.yaml and prometheus_alerts.yaml.
func TestThePrometheusRuleManifestHoldsTheSameRules(t *testing.T) {
	raw, err := os.ReadFile("prometheusrule.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var pr monitoringv1.PrometheusRule
	if err := yaml.UnmarshalStrict(raw, &pr); err != nil {
		t.Fatalf("prometheusrule.yaml: %v", err)
	}
	if pr.Kind != "PrometheusRule" || pr.APIVersion != "monitoring.coreos.com/v1" || pr.Name == "" || pr.Namespace == "" {
		t.Errorf("prometheusrule.yaml: %s %s %s/%s", pr.APIVersion, pr.Kind, pr.Namespace, pr.Name)
	}
	var manifest struct {
		Spec struct {
			Groups []any `json:"groups"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(raw, &manifest); err != nil {
		t.Fatal(err)
	}
	var want []any
	for _, f := range []string{"prometheus_rules.yaml", "prometheus_alerts.yaml"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var file struct {
			Groups []any `json:"groups"`
		}
		if err := yaml.Unmarshal(b, &file); err != nil {
			t.Fatal(err)
		}
		want = append(want, file.Groups...)
	}
	if len(want) == 0 || !reflect.DeepEqual(manifest.Spec.Groups, want) {
		t.Errorf("prometheusrule.yaml's groups differ from the rule files'")
	}
	// The operator's type holds every rule too.
	n := 0
	for _, g := range pr.Spec.Groups {
		n += len(g.Rules)
	}
	if n == 0 || !bytes.Contains(raw, []byte("K8sLintUpstreamDegraded")) {
		t.Errorf("the PrometheusRule decodes with %d rules", n)
	}
}
