package manifest

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/k8slint/k8slint/internal/lint/lintbench"
	"github.com/k8slint/k8slint/internal/lint/textedit"
	"gopkg.in/yaml.v3"
)

// fastCases are documents at the edges of what fastParser reads: each is
// read by it or left to yaml.v3, and either way must give yaml.v3's tree.
var fastCases = []string{
	// One document per line below: each is read or not on its own.
	perLine("a: 1\nb: true\nc: null\nd: ~\ne: 1.5\nf: 0x1F\ng: 2001-12-14\nh: .inf\ni: -1\nj: +1\nk: yes\nl: Off\nm: 012\nn: 1_000\no: .5\np: 1e3\nq: -.inf\nr: 0o17\ns: 0b101\nt: 1.0e+3\nu: 2001-12-14t21:59:43.10-05:00\nv: -0\nw: 9223372036854775808\nx: .NaN\ny: False\nz: NULL\nA: o\nB: n\nC: tRUE\nD: 1:20\nE: 0.\nF: 685_230.15\nG: +.inf\nH: 1e\n"),
	"a: b c  \nd: 'it''s'\ne: \"x: y\"\nf: ''\ng: \"\"\nh: 'a''''b'\n",
	"a:\n- 1\n- b: 2\n  c: 3\n- {d: 4}\ne: f\n",
	"a:\n  - x\n  -  y: 1\n     z: 2\n  - [1, 2, {a: b}]\n",
	"- a\n- b: c\n",
	"a: {}\nb: []\nc: { x: 1 ,  y: [ ] }\nd: [a b, c]\n",
	"a: {x: 1,}\n",
	"a: [x, ]\n",
	"a: {x:1}\n",
	"a: [x: 1]\n",
	"a: {\"x\": 1, 'y': 2}\n",
	"\"a\": 1\n'b': 2\n'c''d': 3\n",
	"a: b: c\n",
	"a: b:\n",
	"a: http://x:80/y\nb: x:y\n",
	"a:\nb: 1\n",
	"a:\n",
	"a: 1\n  b: 2\n",
	"a: b\n  c\n",
	"a: 1\n - b\n",
	"a:\n  b: 1\n c: 2\n",
	"- a\n - b\n",
	"- - a\n",
	"-\n  a: 1\n",
	perLine("a: -\nb: -x\nc: --x\nd: - x\ne: -1\nf: -.5\n"),
	"a: [-x, -1]\nb: [-]\n",
	"<<: {a: 1}\n",
	"a: <<\n",
	"? a\n: b\n",
	"a: &x 1\nb: *x\n",
	"a: !!str 1\n",
	"a: |\n  x\n",
	"a: >\n  x\n",
	"a: 'x\n  y'\n",
	"a: \"x\\ny\"\n",
	"a: @x\nb: `x`\n",
	"a: %x\n",
	"a: x # c\n",
	"a: x\t\n",
	"a:\tx\n",
	"a: x\r\n",
	"a: é\n",
	"  a: 1\n  b: 2\n",
	"a: 1\n\n   \nb: 2",
	"a b: 1\n",
	"a : 1\n",
	"a.b/c-d_e: 1\n$x: 2\n0: 3\ntrue: 4\n",
	"a: [a, b]]\n",
	"a: [a, b] x\n",
	"a: {a: b}}\n",
	perLine("a: x, y\nb: [x\nc: ]x\nd: ,x\ne: {x\nf: x]\ng: x}\nh: [x]y]\n"),
	"a: \"x\" y\n",
	"a: 'x' y\n",
	perLine("a: (x)\nb: =x\nc: /x\nd: .x\ne: _x\nf: $x\ng: ~x\nh: +x\ni: x?y\nj: [x?y]\nk: [x y, 'a''b', \"c\"]\nl: [{a: [b, {c: d}]}]\nm: a-b\nn: [a-b, -a, --a]\n"),
	"a: ---\nb: ...\n",
	"---a: 1\n",
	"a:\n- b\n  - c\n",
	"a:\n  - b\nc: 1\n",
	"a:\n  - b\n  c: 1\n",
	"a:\n- b:\n  - c\n",
	"a:\n- b:\n- c\n",
	"a: " + strings.Repeat("x", 1200) + "\n",
	strings.Repeat("x", 1100) + ": 1\n",
}

// perLine makes each line of s a document of its own.
func perLine(s string) string {
	return strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n---\n") + "\n"
}

// fastInputs are the manifests the differential tests read.
func fastInputs(t testing.TB) []string {
	inputs := append(append([]string{}, fastCases...), runInputs...)
	for _, src := range lintbench.WorkloadFiles(300, 100) {
		inputs = append(inputs, string(src))
	}
	for _, dir := range []string{"testdata/*", "../rules/testdata/*/*.yaml", "../testdata/*/*.yaml", "../../../cmd/dnslint/testdata/*/*.yaml", "../../../../shared/corpus/*.yaml", "../../../deploy/*/*.yaml"} {
		paths, _ := filepath.Glob(dir)
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			inputs = append(inputs, string(b))
		}
	}
	return inputs
}

// checkFast reads every document of src with fastParser and with yaml.v3
// and fails if fastParser reads one to another tree; it returns how many
// documents fastParser read.
func checkFast(t *testing.T, src string) int {
	t.Helper()
	f := &File{Src: []byte(src), lines: textedit.NewLines([]byte(src))}
	fp := newFastParser(src)
	read := 0
	for _, sp := range docSpans(f.Src) {
		root, ok := fp.doc(sp[0], sp[1], f.lines.Line(sp[0]))
		if !ok {
			continue
		}
		read++
		want := f.parse(sp[0], sp[1])
		if want.err != nil || !reflect.DeepEqual(root, want.root) {
			t.Errorf("%q: fastParser read\n%s\nyaml.v3 (error %v):\n%s", src[sp[0]:sp[1]], dumpNode(root), want.err, dumpNode(want.root))
		}
	}
	return read
}

func dumpNode(n *yaml.Node) string {
	if n == nil {
		return "nil\n"
	}
	return dump(&File{Objects: []*Object{{Node: n}}})
}

func TestFastParserBuildsYAMLv3sTree(t *testing.T) {
	read, all := 0, 0
	for _, src := range fastInputs(t) {
		read += checkFast(t, src)
		all += len(docSpans([]byte(src)))
	}
	// The benchmark's documents are all of the shape read.
	bench := 0
	for _, src := range lintbench.WorkloadFiles(300, 100) {
		bench += checkFast(t, string(src))
	}
	if bench < 300 {
		t.Errorf("fastParser read %d of the benchmark's documents, want all", bench)
	}
	t.Logf("fastParser read %d of %d documents", read, all)
}

// TestFastParserOnMutations compares the trees on random edits of the
// inputs: characters of YAML's syntax inserted, deleted or replaced.
func TestFastParserOnMutations(t *testing.T) {
	inputs := fastInputs(t)
	r := rand.New(rand.NewPCG(13, 0))
	n := 20000
	if testing.Short() {
		n = 2000
	}
	const alphabet = " \n:-'\"{}[],#?&*!|>~.0a\t"
	read := 0
	for range n {
		src := []byte(inputs[r.IntN(len(inputs))])
		if len(src) > 4000 {
			start := r.IntN(len(src) - 2000)
			src = src[start : start+2000]
		}
		for range 1 + r.IntN(3) {
			if len(src) == 0 {
				break
			}
			i := r.IntN(len(src))
			c := alphabet[r.IntN(len(alphabet))]
			switch r.IntN(3) {
			case 0:
				src = append(src[:i], append([]byte{c}, src[i:]...)...)
			case 1:
				src = append(src[:i], src[i+1:]...)
			default:
				src[i] = c
			}
		}
		read += checkFast(t, string(src))
		if t.Failed() {
			return
		}
	}
	t.Logf("fastParser read %d documents of %d mutated inputs", read, n)
}

func FuzzFastParser(f *testing.F) {
	for _, s := range fastCases {
		f.Add(s)
	}
	f.Add(string(lintbench.WorkloadFiles(10, 10)[0]))
	f.Fuzz(func(t *testing.T, src string) { checkFast(t, src) })
}

// TestPlainTagIsResolves compares plainTag with yaml.v3's resolution on
// words of the characters its shortcuts look at.
func TestPlainTagIsResolves(t *testing.T) {
	words := []string{"true", "True", "TRUE", "tRUE", "yes", "No", "on", "OFF", "null", "Null", "NULL", "nULL", "~", "~x",
		".inf", "-.inf", "+.INF", ".nan", ".5", "1e3", "0x1F", "0o17", "0b101", "-0b101", "012", "09", "1_000", "2001-12-14",
		"2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10", "0000-1-1t0:0:0,0+00:00", "2001-12-14 21:59:43,5", "2001-12-14T21:59:43Z", "9223372036854775807",
		"9223372036854775808", "18446744073709551616", "100m", "128Mi", "10.0.0.1", "1:20", "0", "-0", "1.0", "1."}
	r := rand.New(rand.NewPCG(1, 3))
	const alphabet = "0123456789.,-+_:eExXoObBtTzZ mMiInNfFaAlLuU~"
	for range 200000 {
		b := make([]byte, 1+r.IntN(12))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		if b[0] != ' ' && b[len(b)-1] != ' ' {
			words = append(words, string(b))
		}
	}
	for _, w := range words {
		n := &yaml.Node{Kind: yaml.ScalarNode, Value: w}
		if got, want := plainTag(n), n.ShortTag(); got != want {
			t.Errorf("%q: plainTag %s, yaml.v3 %s", w, got, want)
		}
	}
}

// TestDuplicatesPairwiseIsByMap compares the pairwise duplicate check of
// small mappings with the map the large ones use, on mappings of both
// sizes.
func TestDuplicatesPairwiseIsByMap(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	keys := []string{"a", "b", "c", "d", "<<", "[x]", "{y: 1}"}
	found := 0
	for range 3000 {
		var b strings.Builder
		for range 1 + r.IntN(3*smallMapping) {
			k := keys[r.IntN(len(keys))]
			if k == "<<" {
				b.WriteString("<<: {z: 1}\n")
				continue
			}
			b.WriteString(k + ": 1\n")
		}
		src := []byte(b.String())
		f := Load(src)
		if len(f.Objects) != 1 {
			t.Fatalf("%q: %d objects", src, len(f.Objects))
		}
		m := f.Objects[0].Node
		got, want := f.pairwiseDuplicates(nil, m), f.mappedDuplicates(nil, m)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: pairwise %v, map %v", src, got, want)
		}
		found += len(got)
	}
	if found == 0 {
		t.Error("no duplicate in any mapping")
	}
}
