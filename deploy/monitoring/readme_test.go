package monitoring

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/google/go-jsonnet"
)

// vendoredImporter serves the mixin under the path jsonnet-bundler vendors
// it at, as a user's Jsonnet imports it.
type vendoredImporter struct{ embedImporter }

const vendorPath = "github.com/k8slint/k8slint/deploy/monitoring/"

func (v *vendoredImporter) Import(from, p string) (jsonnet.Contents, string, error) {
	return v.embedImporter.Import(strings.TrimPrefix(from, vendorPath), strings.TrimPrefix(p, vendorPath))
}

// The Jsonnet example of README.md renders: the alerts and rules with the
// overridden selector, and the dashboard.
func TestTheReadmeJsonnetExampleRenders(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "```jsonnet\n")
	if !ok {
		t.Fatal("README.md has no jsonnet example")
	}
	snippet, _, _ := strings.Cut(rest, "```")
	vm := jsonnet.MakeVM()
	vm.Importer(&vendoredImporter{embedImporter{cache: map[string]jsonnet.Contents{}}})
	out, err := vm.EvaluateAnonymousSnippet("example.jsonnet", snippet)
	if err != nil {
		t.Fatal(err)
	}
	var files map[string]any
	if err := json.Unmarshal([]byte(out), &files); err != nil {
		t.Fatal(err)
	}
	alerts, _ := files["k8slint-alerts.yaml"].(string)
	if !strings.Contains(alerts, `job=\"coredns\"`) || strings.Contains(alerts, "kube-dns") {
		t.Errorf("the example's alerts do not use its selector:\n%.400s", alerts)
	}
	if _, _, err := RuleQueries("k8slint-rules.yaml", []byte(files["k8slint-rules.yaml"].(string))); err != nil {
		t.Error(err)
	}
	d, _ := files["k8slint-coredns.json"].(map[string]any)
	if d["uid"] != "k8slint-coredns" {
		t.Errorf("the example's dashboard: %.200v", d)
	}
}
