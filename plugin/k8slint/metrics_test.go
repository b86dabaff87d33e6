package k8slint

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
)

// exported gathers the k8slint families after touching every vector once.
func exported(t *testing.T) []string {
	t.Helper()
	k := New(DefaultConfig())
	s := k.server("dns://metrics-test")
	h := s.handles(nsUnknown)
	h.expansions.Add(0)
	s.raceDelay.Observe(1)
	fams, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	var ours []*dto.MetricFamily
	for _, f := range fams {
		if strings.HasPrefix(f.GetName(), "coredns_k8slint_") {
			names = append(names, f.GetName())
			ours = append(ours, f)
		}
	}
	problems, err := promlint.NewWithMetricFamilies(ours).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	for _, f := range ours {
		for _, m := range f.GetMetric() {
			if !slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool { return l.GetName() == "server" }) {
				t.Errorf("%s has no server label", f.GetName())
			}
		}
	}
	slices.Sort(names)
	return names
}

func TestMetricsPassPromlintAndAllHaveAServerLabel(t *testing.T) {
	if n := len(exported(t)); n != 12 {
		t.Errorf("%d k8slint metric families, want 12", n)
	}
}

func TestTheREADMEListsExactlyTheExportedMetrics(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(b)
	section = section[strings.Index(section, "## Metrics"):]
	section = section[:strings.Index(section[3:], "\n## ")+3]
	var listed []string
	for _, m := range regexp.MustCompile("(?m)^\\* `(coredns_k8slint_[a-z_]+)\\{").FindAllStringSubmatch(section, -1) {
		listed = append(listed, m[1])
	}
	slices.Sort(listed)
	if got := exported(t); !slices.Equal(listed, got) {
		t.Fatalf("README lists\n%v\nexported\n%v", listed, got)
	}
}
