// Package manifest loads Kubernetes YAML or JSON manifests (several
// documents, kind: List) with positions, and finds the Corefiles that
// CoreDNS ConfigMaps carry: the Corefile key of kube-system/coredns, the
// *.server and *.override keys of the coredns-custom ConfigMap that k3s and
// AKS import, and NodeLocal DNSCache's Corefile.
//
// Every offset inside an embedded Corefile maps back to a byte offset of the
// manifest file, so findings point into the YAML file and fixes edit it in
// place: only the bytes of the block scalar that must change are touched.
// That exact mapping exists for literal block scalars (key: |) and for
// folded ones (key: >) whose folding changes nothing (every line break is
// kept, as when the lines are indented more than the first); a fix to a
// folded scalar is kept only if the edited scalar still decodes to exactly
// the fixed Corefile. For other scalar styles (quoted, plain, folded lines
// that fold) every position maps to the start of the value and fixes are
// refused with a reason (NoFix).
package manifest

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/k8slint/k8slint/internal/lint/textedit"
	"github.com/k8slint/k8slint/internal/parallel"
	"gopkg.in/yaml.v3"
)

// Error is a document that could not be read, at a file offset.
type Error struct {
	Offset int
	Line   int
	Msg    string
}

func (e Error) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Object is one Kubernetes object of the file.
type Object struct {
	Kind, Name, Namespace string
	Node                  *yaml.Node // the object's mapping node; lines are file lines
	Offset                int        // file offset of the object's first key
	Annotations           map[string]Scalar
	Corefiles             []Embedded // for ConfigMaps
	// Data is a ConfigMap's data: every key with a string value, the
	// files a mount of it puts in a pod.
	Data map[string]string
}

// Scalar is a string value with its file offset.
type Scalar struct {
	Value  string
	Offset int
}

// Embedded is a Corefile held in a ConfigMap key.
type Embedded struct {
	Key       string
	KeyOffset int    // file offset of the data key
	Text      string // the Corefile
	// Snippet is set for *.override keys: directives spliced into the
	// main server block, not a Corefile of their own.
	Snippet bool
	// Exact reports whether offsets map one to one (a literal block
	// scalar); otherwise ToFile maps everything to the value's start.
	Exact bool
	// NoFix says why fixes cannot be applied in place, "" when they can.
	NoFix  string
	folded bool
	header string // the folded scalar's header line, for re-decoding
	end    int    // file offset just past the scalar's last content line
	src    []byte
	indent int
	first  int // file offset of the start of the first content line
	lines  textedit.Lines
	valOff int
	text   textedit.Lines // of Text
}

// File is a loaded manifest file.
type File struct {
	Src     []byte
	Objects []*Object
	Errors  []Error
	// Duplicates are mapping keys given twice in one mapping.
	Duplicates []Duplicate
	// Templates are the file offsets of the template actions masked to
	// read a Helm or Go template as YAML (the text at each is in the
	// original input, not in Src).
	Templates []int
	lines     textedit.Lines
}

var docSep = regexp.MustCompile(`(?m)^---[ \t]*(#.*)?\r?$|^\.\.\.[ \t]*\r?$`)

// Load reads all documents of src. A document that does not parse becomes
// an Error and the others are still read.
func Load(src []byte) *File { return LoadN(src, 1) }

// LoadN is Load with the documents of src parsed by up to workers
// goroutines. The result is the same as Load's, and the same as parsing
// every document on its own (its positions shifted by its own offset in
// the file) and collecting objects and errors in document order.
func LoadN(src []byte, workers int) *File { return load(src, workers, true) }

// load is LoadN, with runs of documents read by one parser or, for tests,
// every document on its own.
func load(src []byte, workers int, inRuns bool) *File {
	f := loadOnce(src, workers, inRuns)
	if len(f.Errors) > 0 && bytes.Contains(src, []byte("{{")) {
		// A Helm or Go template: read it with its actions masked, if
		// that makes it YAML.
		masked, at := maskTemplates(src)
		if g := loadOnce(masked, workers, inRuns); len(g.Errors) < len(f.Errors) {
			g.Templates = at
			return g
		}
	}
	return f
}

// templateAction is a Go template action on one line.
var (
	templateAction = regexp.MustCompile(`\{\{.*?\}\}`)
	controlAction  = regexp.MustCompile(`^\{\{-?\s*(?:if|else|end|range|with|define|block)\b`)
)

// maskTemplates returns src with its template actions masked, byte for
// byte: a control action (if, range, end...) becomes blanks, a line of
// actions only a comment (commentOut), any other action a word (maskWord), which YAML reads as a plain word and the Corefile
// loader as a placeholder. It also returns the actions' offsets.
func maskTemplates(src []byte) ([]byte, []int) {
	out := append([]byte(nil), src...)
	var at []int
	var onlyLines [][2]int // the start and end of each action-only line
	off := 0
	for _, line := range bytes.SplitAfter(src, []byte("\n")) {
		code := line
		if i := commentAt(line); i >= 0 {
			code = line[:i] // a comment's actions are neither YAML nor Corefile
		}
		ms := templateAction.FindAllIndex(code, -1)
		only := len(ms) > 0 && len(bytes.TrimSpace(templateAction.ReplaceAll(code, nil))) == 0
		lead := 0 // the actions before the line's first other text
		for lead < len(ms) && len(bytes.TrimSpace(templateAction.ReplaceAll(code[:ms[lead][0]], nil))) == 0 {
			lead++
		}
		for k, m := range ms {
			at = append(at, off+m[0])
			// A control action that leads other text is masked as a word
			// too: blanks would indent that text as the template does not.
			control := controlAction.Match(line[m[0]:m[1]]) && k >= lead
			if !only && !control {
				copy(out[off+m[0]:off+m[1]], maskWord(line[m[0]:m[1]]))
				continue
			}
			for i := m[0]; i < m[1]; i++ {
				out[off+i] = ' '
			}
		}
		if only {
			onlyLines = append(onlyLines, [2]int{off, off + len(bytes.TrimRight(line, "\r\n"))})
		}
		off += len(line)
	}
	commentOut(out, onlyLines)
	return out, at
}

// maskWord is the word an action is masked as, as long as the action:
// `__`, the action's letters and digits upper-cased, `X`s, `__`. The
// Corefile loader reads it as a placeholder and gives it the neutral
// value the action's own text would get (corefile.neutral: an action
// naming a domain stands for the cluster domain, one naming an IP for an
// address), as when the template is a raw Corefile.
func maskWord(action []byte) []byte {
	w := make([]byte, len(action))
	for i := range w {
		w[i] = 'X'
	}
	copy(w, "__")
	copy(w[len(w)-2:], "__")
	j := 2
	for _, c := range bytes.ToUpper(action) {
		if j >= len(w)-2 {
			break
		}
		if c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			w[j] = c
			j++
		}
	}
	return w
}

// commentOut turns each action-only line into a comment indented as the
// next line with text: blanks as wide as the actions would be more
// indented than a block scalar's first line (YAML refuses that) or
// would set its indentation. `#` is a comment for YAML, and for the
// Corefile when the line falls inside its block scalar.
func commentOut(out []byte, lines [][2]int) {
	for i := len(lines) - 1; i >= 0; i-- {
		start, end := lines[i][0], lines[i][1]
		next := end
		for next < len(out) && (out[next] == '\n' || out[next] == '\r' || out[next] == ' ') {
			next++
		}
		indent := 0
		if next < len(out) {
			ls := bytes.LastIndexByte(out[:next], '\n') + 1
			indent = next - ls
		}
		for j := start; j < end; j++ {
			out[j] = ' '
			if j-start >= indent {
				out[j] = '#'
			}
		}
	}
}

// Duplicate is a mapping key repeated in its mapping: YAML forbids it,
// and kubectl (like most readers) silently keeps the last value.
type Duplicate struct {
	Key       string
	Offset    int // the later key
	FirstLine int // the line of the earlier one
}

// smallMapping is the number of keys up to which duplicates compares keys
// pairwise (pairwiseDuplicates) instead of through a map.
const smallMapping = 16

// duplicates records the repeated keys of every mapping under n (aliases
// are not followed: their mappings are checked where they are defined).
func (f *File) duplicates(n *yaml.Node) {
	if n == nil {
		return
	}
	switch {
	case n.Kind != yaml.MappingNode:
	case len(n.Content) <= 2*smallMapping:
		f.Duplicates = f.pairwiseDuplicates(f.Duplicates, n)
	default:
		f.Duplicates = f.mappedDuplicates(f.Duplicates, n)
	}
	for _, c := range n.Content {
		if c.Kind != yaml.AliasNode {
			f.duplicates(c)
		}
	}
}

// pairwiseDuplicates appends the repeated keys of mapping m to out,
// comparing each key with those before it: in the small mappings
// manifests are made of that costs less than a map.
func (f *File) pairwiseDuplicates(out []Duplicate, m *yaml.Node) []Duplicate {
	for i := 2; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		if k.Kind != yaml.ScalarNode || k.Value == "<<" {
			continue
		}
		for j := 0; j < i; j += 2 {
			if e := m.Content[j]; e.Kind == yaml.ScalarNode && e.Value == k.Value {
				out = append(out, Duplicate{Key: k.Value, Offset: f.lines.Offset(k.Line, k.Column), FirstLine: e.Line})
				break
			}
		}
	}
	return out
}

// mappedDuplicates is pairwiseDuplicates through a map of the keys seen.
func (f *File) mappedDuplicates(out []Duplicate, m *yaml.Node) []Duplicate {
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		if k.Kind != yaml.ScalarNode || k.Value == "<<" {
			continue
		}
		if first, ok := seen[k.Value]; ok {
			out = append(out, Duplicate{Key: k.Value, Offset: f.lines.Offset(k.Line, k.Column), FirstLine: first})
		} else {
			seen[k.Value] = k.Line
		}
	}
	return out
}

// commentAt is where a '#' at the start of line or after a blank starts a
// comment (YAML's, or the Corefile's in a block scalar), or -1.
func commentAt(line []byte) int {
	for i, c := range line {
		if c == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') {
			return i
		}
	}
	return -1
}

func loadOnce(src []byte, workers int, inRuns bool) *File {
	f := &File{Src: src, lines: textedit.NewLines(src)}
	spans := docSpans(src)
	docs := make([]parsed, len(spans))
	// Runs of documents are read by one parser each, one run per worker:
	// a parser per document cost a third more time and memory. Where a
	// run's reading could differ from reading its documents one by one
	// (an error, a separator dnslint does not split at, an alias to
	// another document, a directive), its documents are read one by one.
	// Within a run, the documents of the plain shape fastParser reads are
	// read by it and the others by yaml.v3, in runs of their own. Loading
	// each document on its own (inRuns false, for tests) uses yaml.v3 only.
	runs := splitRuns(spans, workers)
	str := ""
	if inRuns {
		str = string(src) // node values are substrings of it
	}
	parallel.For(len(runs), workers, func(r int) {
		lo, hi := runs[r][0], runs[r][1]
		if !inRuns {
			f.parseEach(spans[lo:hi], docs[lo:hi])
			return
		}
		fp := newFastParser(str)
		fast := func(i int) bool {
			root, ok := fp.doc(spans[i][0], spans[i][1], f.lines.Line(spans[i][0]))
			if ok {
				docs[i] = parsed{root: root}
			}
			return ok
		}
		for i := lo; i < hi; {
			if fast(i) {
				i++
				continue
			}
			j := i + 1
			for j < hi && !fast(j) {
				j++
			}
			if !f.parseRun(spans[i:j], docs[i:j]) {
				f.parseEach(spans[i:j], docs[i:j])
			}
			i = j + 1
		}
	})
	for _, d := range docs {
		switch {
		case d.err != nil:
			f.Errors = append(f.Errors, *d.err)
		case d.root != nil:
			f.duplicates(d.root)
			f.object(d.root)
		}
	}
	return f
}

// parseEach reads the documents of spans one by one into out.
func (f *File) parseEach(spans [][2]int, out []parsed) {
	for i, sp := range spans {
		out[i] = f.parse(sp[0], sp[1])
	}
}

// docSpans returns where the documents of src are, separators left out.
func docSpans(src []byte) [][2]int {
	var spans [][2]int
	start := 0
	for _, m := range docSeparators(src) {
		spans = append(spans, [2]int{start, m[0]})
		start = m[1]
		if start < len(src) && src[start] == '\n' {
			start++
		}
	}
	return append(spans, [2]int{start, len(src)})
}

// splitRuns cuts spans into up to n runs of consecutive spans of about
// the same size, as index ranges.
func splitRuns(spans [][2]int, n int) [][2]int {
	n = max(1, min(n, len(spans)))
	size := spans[len(spans)-1][1] - spans[0][0]
	var out [][2]int
	lo := 0
	for i := range spans {
		if len(out) < n-1 && spans[i][1]-spans[0][0] >= (len(out)+1)*size/n {
			out = append(out, [2]int{lo, i + 1})
			lo = i + 1
		}
	}
	if lo < len(spans) {
		out = append(out, [2]int{lo, len(spans)})
	}
	return out
}

// parseRun reads the documents of spans, consecutive in the file, with one
// parser into out, and reports whether that gave what parse gives for
// each: every span with content one root node in it, nothing else, and no
// error.
func (f *File) parseRun(spans [][2]int, out []parsed) (ok bool) {
	start, end := spans[0][0], spans[len(spans)-1][1]
	text := f.Src[start:end]
	if bytes.HasPrefix(text, []byte("%")) || bytes.Contains(text, []byte("\n%")) {
		return false // a directive, which a separator may cut from its document
	}
	for i := 1; i < len(spans); i++ {
		// "---#" starts a separator here and a plain scalar for YAML.
		if sep := f.Src[spans[i-1][1]:spans[i][0]]; len(sep) > 3 && sep[3] == '#' {
			return false
		}
	}
	defer func() {
		// yaml.v3 has panicked on hostile input before.
		if recover() != nil {
			ok = false
		}
	}()
	base := f.lines.Line(start) - 1
	aliases := bytes.IndexByte(text, '*') >= 0
	d := yaml.NewDecoder(bytes.NewReader(text))
	next := 0 // the span the next root must be in
	for {
		var n yaml.Node
		if err := d.Decode(&n); err == io.EOF {
			break
		} else if err != nil || n.Kind != yaml.DocumentNode {
			return false
		}
		if len(n.Content) == 0 {
			continue
		}
		root := n.Content[0]
		if root.Kind == yaml.ScalarNode && root.Tag == "!!null" && root.Value == "" {
			continue // an empty document: parse gives nothing either
		}
		for next < len(spans) && !hasContent(f.Src[spans[next][0]:spans[next][1]]) {
			next++
		}
		if next == len(spans) {
			return false
		}
		first, last := f.lines.Line(spans[next][0]), f.lines.Line(max(spans[next][1]-1, spans[next][0]))
		if base > 0 {
			shift(root, base)
		}
		if root.Line < first || root.Line > last || aliases && !ownAliases(root, first) {
			return false
		}
		out[next] = parsed{root: root}
		next++
	}
	for ; next < len(spans); next++ {
		if hasContent(f.Src[spans[next][0]:spans[next][1]]) {
			return false
		}
	}
	return true
}

// hasContent reports whether a document has a line that is neither blank
// nor a comment.
func hasContent(doc []byte) bool {
	for len(doc) > 0 {
		line := doc
		if i := bytes.IndexByte(doc, '\n'); i >= 0 {
			line, doc = doc[:i], doc[i+1:]
		} else {
			doc = nil
		}
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			return true
		}
	}
	return false
}

// ownAliases reports whether every alias under n points at a node from
// line first on: a parser reading several documents keeps the anchors of
// the earlier ones, where reading one alone fails.
func ownAliases(n *yaml.Node, first int) bool {
	if n.Kind == yaml.AliasNode && (n.Alias == nil || n.Alias.Line < first) {
		return false
	}
	for _, c := range n.Content {
		if !ownAliases(c, first) {
			return false
		}
	}
	return true
}

// parsed is one document: its root node with file lines, an error, or
// neither for an empty document.
type parsed struct {
	root *yaml.Node
	err  *Error
}

// docSeparators returns what docSep.FindAllIndex would, scanning line
// starts instead of running the regexp over the whole file (which was a
// tenth of the time of linting large files).
func docSeparators(src []byte) [][]int {
	var out [][]int
	for i := 0; i < len(src); {
		end := bytes.IndexByte(src[i:], '\n')
		if end < 0 {
			end = len(src)
		} else {
			end += i
		}
		if end-i >= 3 && (src[i] == '-' || src[i] == '.') {
			if m := docSep.FindIndex(src[i:end]); m != nil && m[0] == 0 {
				out = append(out, []int{i, i + m[1]})
			}
		}
		i = end + 1
	}
	return out
}

// Lines returns the lines of f.Src.
func (f *File) Lines() textedit.Lines { return f.lines }

// parse reads the document src[start:end]. It only reads f, so documents
// may be parsed concurrently.
func (f *File) parse(start, end int) parsed {
	chunk := f.Src[start:end]
	if len(bytes.TrimSpace(chunk)) == 0 {
		return parsed{}
	}
	base := f.lines.Line(start) - 1
	var n yaml.Node
	err := func() (err error) {
		// yaml.v3 reports most problems as errors but has panicked on
		// hostile input before; a panic must not take the linter down.
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("yaml: %v", r)
			}
		}()
		return yaml.Unmarshal(chunk, &n)
	}()
	if err != nil {
		line := base + 1
		msg := err.Error()
		if m := regexp.MustCompile(`line (\d+)`).FindStringSubmatch(msg); m != nil {
			var l int
			fmt.Sscan(m[1], &l)
			line = base + l
			msg = strings.Replace(msg, m[0], fmt.Sprintf("line %d", line), 1)
		}
		return parsed{err: &Error{Offset: f.lines.Offset(line, 1), Line: line, Msg: msg}}
	}
	shift(&n, base)
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return parsed{root: n.Content[0]}
	}
	return parsed{}
}

// shift moves node lines from document-relative to file lines. yaml.v3's
// parser builds a tree: every node is allocated once and is the child of
// one parent (an alias is a node of its own that points at its anchor
// through Alias, not Content), so each node is visited exactly once.
func shift(n *yaml.Node, base int) {
	n.Line += base
	for _, c := range n.Content {
		shift(c, base)
	}
}

// Get returns the value node of key in mapping m, or nil.
func Get(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func str(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

func (f *File) object(n *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		return
	}
	kind := str(Get(n, "kind"))
	if kind == "List" || strings.HasSuffix(kind, "List") && Get(n, "items") != nil {
		if items := Get(n, "items"); items != nil && items.Kind == yaml.SequenceNode {
			for _, it := range items.Content {
				f.object(it)
			}
		}
		return
	}
	o := &Object{Kind: kind, Node: n, Offset: f.lines.Offset(n.Line, n.Column), Annotations: map[string]Scalar{}}
	md := Get(n, "metadata")
	o.Name, o.Namespace = str(Get(md, "name")), str(Get(md, "namespace"))
	if an := Get(md, "annotations"); an != nil && an.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(an.Content); i += 2 {
			v := an.Content[i+1]
			o.Annotations[an.Content[i].Value] = Scalar{Value: str(v), Offset: f.lines.Offset(an.Content[i].Line, an.Content[i].Column)}
		}
	}
	switch {
	case kind == "ConfigMap":
		f.corefiles(o, Get(n, "data"))
	case kind == "" && hasCorefileKey(Get(n, "data")):
		// A kubectl edit fragment (data: only) is a ConfigMap's data.
		f.corefiles(o, Get(n, "data"))
	case kind == "" && hasCorefileKey(n):
		// The data mapping alone, as posted in issue reports.
		f.corefiles(o, n)
	}
	f.Objects = append(f.Objects, o)
}

// hasCorefileKey reports whether mapping m has a key holding Corefile text.
func hasCorefileKey(m *yaml.Node) bool {
	if m == nil || m.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if IsCorefileKey(m.Content[i].Value) && m.Content[i+1].Kind == yaml.ScalarNode {
			return true
		}
	}
	return false
}

// IsCorefileKey reports whether a ConfigMap key holds Corefile text.
func IsCorefileKey(k string) bool {
	return k == "Corefile" || strings.HasPrefix(k, "Corefile") || strings.HasSuffix(k, ".server") || strings.HasSuffix(k, ".override")
}

func (f *File) corefiles(o *Object, data *yaml.Node) {
	if data == nil || data.Kind != yaml.MappingNode {
		return
	}
	o.Data = map[string]string{}
	for i := 0; i+1 < len(data.Content); i += 2 {
		if v := data.Content[i+1]; v.Kind == yaml.ScalarNode {
			o.Data[data.Content[i].Value] = v.Value
		}
	}
	for i := 0; i+1 < len(data.Content); i += 2 {
		k, v := data.Content[i], data.Content[i+1]
		if !IsCorefileKey(k.Value) || v.Kind != yaml.ScalarNode {
			continue
		}
		e := Embedded{
			Key:       k.Value,
			KeyOffset: f.lines.Offset(k.Line, k.Column),
			Text:      v.Value,
			Snippet:   strings.HasSuffix(k.Value, ".override"),
			valOff:    f.lines.Offset(v.Line, v.Column),
			lines:     f.lines,
		}
		e.text = textedit.NewLines([]byte(e.Text))
		switch {
		case v.Style&yaml.LiteralStyle != 0:
			f.exact(&e, v)
			if !e.Exact {
				e.NoFix = "the literal block scalar does not read back line for line"
			}
		case v.Style&yaml.FoldedStyle != 0:
			f.exact(&e, v)
			e.folded = true
			if !e.Exact {
				e.NoFix = "the folded block scalar (>) joins some of its lines; write it as a literal block (|)"
			} else {
				e.header = f.rawLine(v.Line)
				e.src = f.Src
			}
		case v.Style&yaml.DoubleQuotedStyle != 0:
			e.NoFix = "the Corefile is a double-quoted (or JSON) string; write it as a literal block (|) to let dnslint fix it"
		case v.Style&yaml.SingleQuotedStyle != 0:
			e.NoFix = "the Corefile is a single-quoted string; write it as a literal block (|) to let dnslint fix it"
		default:
			e.NoFix = "the Corefile is a plain (unquoted) scalar; write it as a literal block (|) to let dnslint fix it"
		}
		o.Corefiles = append(o.Corefiles, e)
	}
}

// exact checks that the literal block scalar v, whose header is on v.Line,
// reads back line for line from the file at one indentation, and if so
// enables the one-to-one mapping.
func (f *File) exact(e *Embedded, v *yaml.Node) {
	hdr := v.Line
	lines := strings.Split(e.Text, "\n")
	if strings.HasSuffix(e.Text, "\n") {
		lines = lines[:len(lines)-1]
	}
	indent := -1
	for i := range lines {
		l := hdr + 1 + i
		if l > f.lines.Count() {
			return
		}
		raw := f.rawLine(l)
		if strings.TrimSpace(raw) == "" {
			continue
		}
		indent = len(raw) - len(strings.TrimLeft(raw, " "))
		break
	}
	if indent < 0 {
		return
	}
	for i, want := range lines {
		l := hdr + 1 + i
		if l > f.lines.Count() {
			return
		}
		raw := f.rawLine(l)
		if want == "" {
			if strings.Trim(raw, " ") != "" {
				return
			}
			continue
		}
		if len(raw) < indent || strings.Trim(raw[:indent], " ") != "" || raw[indent:] != want {
			return
		}
	}
	e.Exact = true
	e.indent = indent
	e.first = f.lines.Offset(hdr+1, 1)
	e.end = len(f.Src)
	if last := hdr + len(lines); last < f.lines.Count() {
		e.end = f.lines.Start(last + 1)
	}
}

func (f *File) rawLine(l int) string {
	return strings.TrimSuffix(string(f.Src[f.lines.Start(l):f.lines.End(l)]), "\r")
}

// ToFile maps an offset in e.Text to an offset in the manifest file.
func (e *Embedded) ToFile(off int) int {
	if !e.Exact {
		return e.valOff
	}
	// Line i of Text is file line firstLine+i at column indent (0-based
	// indexes here; Lines counts from 1).
	lo := e.text.Line(off) - 1
	col := off - e.text.Start(lo+1)
	firstLine := e.lines.Line(e.first) - 1
	fl := firstLine + lo
	if fl >= e.lines.Count() {
		return e.lines.Start(e.lines.Count())
	}
	start := e.lines.Start(fl + 1)
	end := -1
	if fl+1 < e.lines.Count() {
		end = e.lines.End(fl + 1)
	}
	if lo > 0 && e.text.Start(lo+1) == len(e.Text) {
		// Just past Text's final newline: the start of the next file line.
		return start
	}
	o := start + e.indent + col
	if end >= 0 && o > end {
		// A blank line shorter than the indentation.
		o = end
	}
	return o
}

// MapEdits maps edits of e.Text to edits of the file, re-indenting new lines
// for the block scalar. It returns nil when e has no exact mapping.
func (e *Embedded) MapEdits(edits []textedit.Edit) []textedit.Edit {
	if !e.Exact {
		return nil
	}
	ind := "\n" + strings.Repeat(" ", e.indent)
	out := make([]textedit.Edit, len(edits))
	for i, ed := range edits {
		out[i] = textedit.Edit{Start: e.ToFile(ed.Start), End: e.ToFile(ed.End), New: strings.ReplaceAll(ed.New, "\n", ind)}
	}
	if e.folded && !e.foldsTo(edits, out) {
		return nil
	}
	return out
}

// foldsTo reports whether the folded scalar, with the file edits fileEdits
// applied, decodes to the Corefile with edits applied: an inserted line at
// the scalar's own indentation would be joined to its neighbour, so the
// fix is refused rather than let YAML change the Corefile.
func (e *Embedded) foldsTo(edits, fileEdits []textedit.Edit) bool {
	want, err := textedit.Apply([]byte(e.Text), edits)
	if err != nil {
		return false
	}
	var local []textedit.Edit
	for _, ed := range fileEdits {
		if ed.Start < e.first || ed.End > e.end {
			return false
		}
		local = append(local, textedit.Edit{Start: ed.Start - e.first, End: ed.End - e.first, New: ed.New})
	}
	body, err := textedit.Apply(e.src[e.first:e.end], local)
	if err != nil {
		return false
	}
	doc := strings.TrimLeft(e.header, " ") + "\n"
	// The header's key was indented by hdrIndent; shift the body alike.
	hdrIndent := len(e.header) - len(strings.TrimLeft(e.header, " "))
	for _, l := range strings.SplitAfter(string(body), "\n") {
		if len(l) >= hdrIndent && strings.Trim(l[:hdrIndent], " ") == "" {
			l = l[hdrIndent:]
		}
		doc += l
	}
	var m map[string]string
	if err := yaml.Unmarshal([]byte(doc), &m); err != nil || len(m) != 1 {
		return false
	}
	for _, v := range m {
		return v == string(want)
	}
	return false
}
