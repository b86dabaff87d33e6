package monitoring

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// promtool builds Prometheus's promtool at the version this module pins
// (the tool line of go.mod), without the service discovery plugins it
// does not need here (build tag remove_all_sd).
func promtool(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "promtool")
	cmd := exec.Command("go", "build", "-tags", "remove_all_sd", "-o", out, "github.com/prometheus/prometheus/cmd/promtool")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building promtool: %v\n%s", err, b)
	}
	return out
}

// The rule files pass `promtool check rules`, and the unit tests of
// tests.yaml pass `promtool test rules`: Prometheus's own rule-test engine
// evaluates every alert on synthetic series.
func TestRulesPassPromtoolCheckAndUnitTests(t *testing.T) {
	bin := promtool(t)
	for _, args := range [][]string{
		{"check", "rules", "prometheus_alerts.yaml", "prometheus_rules.yaml"},
		{"test", "rules", "tests.yaml"},
	} {
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		} else {
			t.Logf("promtool %s:\n%s", strings.Join(args, " "), out)
		}
	}
	// And promtool fails a test that expects what the rules do not do.
	bad := strings.Replace(readFile(t, "tests.yaml"), "description: Namespace shop has sent", "description: Namespace shoe has sent", 1)
	dir := t.TempDir()
	for _, f := range []string{"prometheus_alerts.yaml", "prometheus_rules.yaml"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(readFile(t, f)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "tests.yaml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "test", "rules", "tests.yaml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "shoe") {
		t.Errorf("promtool passes a wrong expectation (%v):\n%s", err, out)
	}
}

// ruleTests is the part of promtool's test file the coverage check reads.
type ruleTests struct {
	Tests []struct {
		Name          string `json:"name"`
		AlertRuleTest []struct {
			Alertname string `json:"alertname"`
			ExpAlerts []struct {
				ExpLabels map[string]string `json:"exp_labels"`
			} `json:"exp_alerts"`
		} `json:"alert_rule_test"`
	} `json:"tests"`
}

// coverage returns, for each alert and severity, whether a test expects it
// to fire, and for each alert whether a test expects it silent.
func coverage(tests ruleTests) (fires map[string]bool, silent map[string]bool) {
	fires, silent = map[string]bool{}, map[string]bool{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) == 0 {
				silent[a.Alertname] = true
			}
			for _, e := range a.ExpAlerts {
				fires[a.Alertname+" "+e.ExpLabels["severity"]] = true
			}
		}
	}
	return fires, silent
}

// Every alert, in each of its severities, fires in some unit test, and
// every alert is expected silent in another.
func TestEveryAlertHasAFiringAndASilentUnitTest(t *testing.T) {
	var tests ruleTests
	if err := yaml.Unmarshal([]byte(readFile(t, "tests.yaml")), &tests); err != nil {
		t.Fatal(err)
	}
	fires, silent := coverage(tests)
	_, groups, err := RuleQueries("prometheus_alerts.yaml", []byte(readFile(t, "prometheus_alerts.yaml")))
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			if !fires[r.Alert+" "+r.Labels["severity"]] {
				missing = append(missing, r.Alert+" ("+r.Labels["severity"]+") never fires")
			}
			if !silent[r.Alert] {
				missing = append(missing, r.Alert+" is never expected silent")
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("tests.yaml:\n%s", strings.Join(missing, "\n"))
	}
	// A file testing only the firing side is caught.
	var one ruleTests
	if err := yaml.Unmarshal([]byte("tests:\n- alert_rule_test:\n  - alertname: X\n    exp_alerts:\n    - exp_labels: {severity: warning}\n"), &one); err != nil {
		t.Fatal(err)
	}
	if f, s := coverage(one); !f["X warning"] || s["X"] {
		t.Errorf("coverage of a firing-only test: fires %v silent %v", f, s)
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
