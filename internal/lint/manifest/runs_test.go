package manifest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/k8slint/k8slint/internal/lint/lintbench"
	"github.com/k8slint/k8slint/internal/lint/textedit"
	"gopkg.in/yaml.v3"
)

// dump writes what a load found that dnslint reads: errors, and every
// object with its node tree (kinds, tags, styles, values, positions).
func dump(f *File) string {
	var b strings.Builder
	for _, e := range f.Errors {
		fmt.Fprintf(&b, "error %d line %d: %s\n", e.Offset, e.Line, e.Msg)
	}
	var node func(n *yaml.Node, depth int)
	node = func(n *yaml.Node, depth int) {
		fmt.Fprintf(&b, "%s%d %q %q %d %d:%d", strings.Repeat(" ", depth), n.Kind, n.Tag, n.Value, n.Style, n.Line, n.Column)
		if n.Alias != nil {
			fmt.Fprintf(&b, " -> %d:%d", n.Alias.Line, n.Alias.Column)
		}
		b.WriteByte('\n')
		for _, c := range n.Content {
			node(c, depth+1)
		}
	}
	for _, o := range f.Objects {
		fmt.Fprintf(&b, "object %s %s/%s at %d, %d Corefiles\n", o.Kind, o.Namespace, o.Name, o.Offset, len(o.Corefiles))
		node(o.Node, 1)
	}
	return b.String()
}

// runInputs are manifests where reading several documents with one parser
// could go wrong: errors, aliases across documents, directives, inline
// content after a separator, empty and comment-only documents, Lists.
var runInputs = []string{
	"a: 1\n---\nb: &x {c: 1}\n---\nd: *x\n",
	"a: &x 1\nb: *x\n---\nc: 2\n",
	"%YAML 1.2\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\n",
	"kind: Pod\nmetadata: {name: a}\n%TAG !e! tag:example.com,2000:\n---\nkind: !e!Pod\nmetadata: {name: b}\n",
	"kind: Pod\nmetadata: {name: a}\n--- {kind: Pod, metadata: {name: b}}\n---\nkind: Pod\n",
	"---\n---\n# only a comment\n---\n\n---\nkind: Pod\nmetadata: {name: a}\n...\n---\n",
	"kind: Pod\nmetadata: {name: bad\nspec: [\n---\nkind: Pod\nmetadata: {name: good}\n",
	"kind: Pod\r\nmetadata: {name: a}\r\n---\r\nkind: List\r\nitems:\r\n- kind: Pod\r\n  metadata: {name: b}\r\n",
	"- 1\n- 2\n---\nplain\n---\nnull\n---\n~\n---\n!!null\n---\nkind: Pod\n",
	"kind: ConfigMap\nmetadata: {name: coredns}\ndata:\n  Corefile: |\n    .:53 {\n        forward . 1.1.1.1\n    }\n---\nkind: Pod\nmetadata: {name: x}\n",
	"",
	"\n\n",
	"...\n",
	"--- |\n  text\n---\nkind: Pod\n",
}

func TestReadingRunsOfDocumentsGivesWhatReadingEachAloneGives(t *testing.T) {
	inputs := append([]string{}, runInputs...)
	for _, src := range lintbench.WorkloadFiles(300, 100) {
		inputs = append(inputs, string(src))
	}
	for _, dir := range []string{"../rules/testdata/*/*.yaml", "../../../../shared/corpus/*.yaml"} {
		paths, _ := filepath.Glob(dir)
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			inputs = append(inputs, string(b))
		}
	}
	for _, src := range inputs {
		want := dump(load([]byte(src), 1, false))
		for _, workers := range []int{1, 2, 3, 8} {
			if got := dump(load([]byte(src), workers, true)); got != want {
				t.Errorf("%d workers, %.60q:\n%s\none by one:\n%s", workers, src, got, want)
			}
		}
	}
}

func TestOneParserReadsTheDocumentsOfAPlainFileAndNotThoseOfATrickyOne(t *testing.T) {
	for _, c := range []struct {
		src  string
		runs bool
	}{
		{string(lintbench.WorkloadFiles(100, 100)[0]), true},
		{runInputs[0], false}, // an alias to another document
		{runInputs[3], false}, // a directive
		{runInputs[4], false}, // a separator with content
		{runInputs[5], true},  // empty and comment-only documents
		{runInputs[6], false}, // an error
	} {
		src := []byte(c.src)
		f := &File{Src: src, lines: textedit.NewLines(src)}
		spans := docSpans(src)
		if got := f.parseRun(spans, make([]parsed, len(spans))); got != c.runs {
			t.Errorf("%.50q: read as a run: %v, want %v", c.src, got, c.runs)
		}
	}
}

func FuzzReadingRuns(f *testing.F) {
	for _, s := range runInputs {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		want := dump(load(src, 1, false))
		for _, workers := range []int{1, 3} {
			if got := dump(load(src, workers, true)); got != want {
				t.Fatalf("%d workers, %q:\n%s\none by one:\n%s", workers, src, got, want)
			}
		}
	})
}
