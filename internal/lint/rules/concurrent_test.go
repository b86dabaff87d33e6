package rules

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/lintbench"
)

// TestLintingDocumentsConcurrentlyGivesTheSequentialFindings lints multi-document inputs with their documents
// parsed and their workloads checked concurrently (lint.LoadN,
// Options.Workers) and sequentially and wants exactly the same objects and
// findings, positions, messages and fixes. Run it with
// -race: CGO_ENABLED=1 go test -race -run DocumentsConcurrently ./internal/lint/rules/
func TestLintingDocumentsConcurrentlyGivesTheSequentialFindings(t *testing.T) {
	inputs := map[string][]byte{}
	for i, src := range lintbench.WorkloadFiles(2000, 250) {
		inputs[fmt.Sprintf("generated-%d.yaml", i)] = src
	}
	// Broken, empty and List documents between good ones, CRLF lines and
	// a document that does not parse: errors and objects keep their order
	// and file positions.
	var mixed strings.Builder
	for i := range 40 {
		switch i % 8 {
		case 1:
			mixed.WriteString("---\napiVersion: v1\nkind: Pod\nmetadata: {name: bad-" + fmt.Sprint(i) + "\nspec: [\n")
		case 3:
			mixed.WriteString("---\n# only a comment\n")
		case 5:
			mixed.WriteString("--- # a comment on the separator\r\napiVersion: v1\r\nkind: List\r\nitems:\r\n- apiVersion: v1\r\n  kind: Pod\r\n  metadata: {name: listed}\r\n  spec:\r\n    hostNetwork: true\r\n    containers: [{name: c, image: alpine, env: [{name: DB_HOST, value: db.data}]}]\r\n")
		default:
			fmt.Fprintf(&mixed, "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p-%d\nspec:\n  dnsConfig:\n    options: [{name: ndots, value: \"%d\"}]\n  containers:\n  - name: c\n    image: nginx\n    env: [{name: API, value: https://api.example.com/x}, {name: CACHE_HOST, value: cache-%d}]\n", i, i%7, i)
		}
	}
	mixed.WriteString("...\n")
	inputs["mixed.yaml"] = []byte(mixed.String())
	// Every testdata file of the rules.
	paths, _ := filepath.Glob("testdata/*/*")
	for _, p := range paths {
		if lint.KindOf(p) != lint.KindManifest {
			continue
		}
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		inputs[p] = src
	}
	if len(inputs) < 20 {
		t.Fatalf("only %d inputs", len(inputs))
	}
	opts := options(PodNdotsHigh)
	opts.Rules = All()
	for name, src := range inputs {
		seq, err := lint.Load(name, src)
		if err != nil {
			t.Fatal(err)
		}
		want := lint.Run(seq, opts)
		for _, workers := range []int{2, 4, 16} {
			par, err := lint.LoadN(name, src, workers)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := summary(par), summary(seq); !reflect.DeepEqual(got, want) {
				t.Errorf("%s, %d workers: loaded\n%s\nsequentially\n%s", name, workers, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			popts := opts
			popts.Workers = workers
			if got := lint.Run(par, popts); !reflect.DeepEqual(got, want) {
				t.Errorf("%s, %d workers: %d findings differ from the %d of a sequential load", name, workers, len(got), len(want))
			}
		}
	}
	if len(lint.Run(mustLoad(t, "mixed.yaml", inputs["mixed.yaml"]), opts)) == 0 {
		t.Error("mixed.yaml gives no finding: the comparison proves nothing")
	}
}

func mustLoad(t *testing.T, name string, src []byte) *lint.Input {
	t.Helper()
	in, err := lint.Load(name, src)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// summary lists what a load found, in order: errors, objects with their
// positions and the nodes' lines, pod specs with their hosts.
func summary(in *lint.Input) []string {
	var out []string
	for _, e := range in.Manifest.Errors {
		out = append(out, fmt.Sprintf("error %d %d %s", e.Offset, e.Line, e.Msg))
	}
	for _, o := range in.Manifest.Objects {
		out = append(out, fmt.Sprintf("object %s %s/%s at %d line %d:%d", o.Kind, o.Namespace, o.Name, o.Offset, o.Node.Line, o.Node.Column))
	}
	for _, w := range in.Workloads {
		s := fmt.Sprintf("pod %s at %d: hosts %v", w.Describe(), w.SpecOffset, w.Hosts)
		for _, c := range w.Containers {
			s += fmt.Sprintf("; container %s image %q at %d", c.Name, c.Image.Value, c.Image.Offset)
		}
		out = append(out, s)
	}
	return out
}
