package manifest

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// fastParser builds, for the plain shape most manifests have, the node
// tree yaml.v3 builds, at a fraction of the cost: yaml.v3 was more than
// half of linting's time, most of it spent scanning tokens and allocating
// each node and value on its own. Here nodes come from slabs and values
// are substrings of the file.
//
// The shape read is YAML's block style in printable ASCII: block mappings
// whose keys are single-line scalars, block sequences (indentless ones
// too), and as values single-line plain, single- or double-quoted scalars
// (no escapes) and flow mappings and sequences on one line. Anything else
// (comments, tabs, CR, non-ASCII, anchors, aliases, tags, block scalars,
// multi-line scalars or flow collections, empty values, explicit keys, a
// document marker inside the document, a colon where YAML might read a key
// or refuse the line, a key that may be too long for a simple key) makes
// doc report false, and the document is read by yaml.v3 as before, so a
// document is read by one parser or the other and never half by each.
// TestFastParserBuildsYAMLv3sTree compares the trees on every manifest of
// the test data, the benchmark's files and mutations of them.
type fastParser struct {
	s     string // the file
	lines []fastLine
	i     int // the next line
	// Nodes and Content slices are cut from slabs.
	nodes []yaml.Node
	ptrs  []*yaml.Node
	stack []*yaml.Node // children of the collections being read
	depth int
}

// fastLine is a line with text of the document.
type fastLine struct {
	start  int // file offset of the line's first byte
	end    int // file offset of its end (the newline or the end of the document)
	indent int // leading spaces
	num    int // file line
}

const (
	fastMaxLine  = 1000 // longer lines may hold a key yaml.v3 refuses
	fastMaxDepth = 64
	// fastSlab nodes are allocated at once: few enough to stay a small
	// allocation (a large one is zeroed and swept on its own).
	fastSlab = 128
)

func newFastParser(s string) *fastParser { return &fastParser{s: s} }

// doc reads the document s[start:end] whose first line is file line
// line. ok is false when the document is not of the shape fastParser
// reads; root is nil for a document of blank lines.
func (p *fastParser) doc(start, end, line int) (root *yaml.Node, ok bool) {
	p.lines = p.lines[:0]
	p.i = 0
	ls := start
	for i := start; i <= end; i++ {
		if i < end {
			c := p.s[i]
			if c != '\n' {
				if c < ' ' || c > '~' || c == '#' {
					return nil, false
				}
				continue
			}
		}
		if i-ls > fastMaxLine {
			return nil, false
		}
		ind := 0
		for ls+ind < i && p.s[ls+ind] == ' ' {
			ind++
		}
		if ls+ind < i {
			if ind == 0 && (p.s[ls] == '%' || i-ls >= 3 && (p.s[ls:ls+3] == "---" || p.s[ls:ls+3] == "...")) {
				return nil, false // a directive or a document marker
			}
			p.lines = append(p.lines, fastLine{start: ls, end: i, indent: ind, num: line})
		}
		line++
		ls = i + 1
	}
	if len(p.lines) == 0 {
		return nil, true
	}
	if p.lines[0].indent != 0 {
		return nil, false
	}
	p.depth = 0
	p.stack = p.stack[:0]
	root, ok = p.block(0)
	if !ok || p.i != len(p.lines) {
		return nil, false
	}
	return root, true
}

// node returns a new node from the slab.
func (p *fastParser) node(kind yaml.Kind, tag string, at int, l *fastLine) *yaml.Node {
	if len(p.nodes) == 0 {
		p.nodes = make([]yaml.Node, fastSlab)
	}
	n := &p.nodes[0]
	p.nodes = p.nodes[1:]
	n.Kind, n.Tag = kind, tag
	n.Line, n.Column = l.num, at-l.start+1
	return n
}

// content sets n.Content to the children pushed since mark.
func (p *fastParser) content(n *yaml.Node, mark int) {
	k := len(p.stack) - mark
	if k == 0 {
		return
	}
	if len(p.ptrs) < k {
		p.ptrs = make([]*yaml.Node, max(1024, k))
	}
	n.Content = p.ptrs[:k:k]
	p.ptrs = p.ptrs[k:]
	copy(n.Content, p.stack[mark:])
	clear(p.stack[mark:])
	p.stack = p.stack[:mark]
}

// seqItem reports whether the text at offset at of line l is a block
// sequence entry ("-" and a blank).
func (p *fastParser) seqItem(at int, l *fastLine) bool {
	return p.s[at] == '-' && (at+1 == l.end || p.s[at+1] == ' ')
}

// block reads the block collection starting on the current line, at its
// indentation ind.
func (p *fastParser) block(ind int) (*yaml.Node, bool) {
	l := &p.lines[p.i]
	at := l.start + ind
	if p.seqItem(at, l) {
		return p.sequence(ind)
	}
	if _, ok := p.keyEnd(at, l); ok {
		return p.mapping(ind, at)
	}
	return nil, false
}

// keyEnd returns the offset of the ':' ending the key that starts at
// offset at of line l, if one does.
func (p *fastParser) keyEnd(at int, l *fastLine) (int, bool) {
	s := p.s
	switch s[at] {
	case '"', '\'':
		q := strings.IndexByte(s[at+1:l.end], s[at])
		if q < 0 {
			return 0, false
		}
		c := at + 1 + q + 1
		if s[at] == '\'' {
			// '' is a quote inside the scalar.
			for c < l.end && s[c] == '\'' {
				q = strings.IndexByte(s[c+1:l.end], '\'')
				if q < 0 {
					return 0, false
				}
				c += 1 + q + 1
			}
		}
		if c < l.end && s[c] == ':' && (c+1 == l.end || s[c+1] == ' ') {
			return c, true
		}
		return 0, false
	}
	if !plainKeyStart(s[at]) {
		return 0, false
	}
	for i := at + 1; i < l.end; i++ {
		switch c := s[i]; {
		case c == ':':
			if i+1 == l.end || s[i+1] == ' ' {
				return i, s[i-1] != ' '
			}
			return 0, false // a colon inside a key
		case keyChar(c):
		default:
			return 0, false
		}
	}
	return 0, false
}

// plainKeyStart and keyChar are the characters of the plain keys read:
// Kubernetes' names, label and annotation keys, environment names.
func plainKeyStart(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '$'
}

func keyChar(c byte) bool { return plainKeyStart(c) || c == '-' || c == '.' || c == '/' }

// mapping reads the block mapping whose first key is at offset at of the
// current line, at column ind.
func (p *fastParser) mapping(ind, at int) (*yaml.Node, bool) {
	if p.depth++; p.depth > fastMaxDepth {
		return nil, false
	}
	defer func() { p.depth-- }()
	l := &p.lines[p.i]
	n := p.node(yaml.MappingNode, "!!map", at, l)
	mark := len(p.stack)
	for {
		colon, ok := p.keyEnd(at, l)
		if !ok {
			return nil, false
		}
		k, ok := p.scalar(at, colon, l, false)
		if !ok {
			return nil, false
		}
		p.stack = append(p.stack, k)
		v := p.blanks(colon+1, l)
		var val *yaml.Node
		if v == l.end {
			// The value is on the lines below: a collection indented
			// more, or a sequence at the key's indentation.
			p.i++
			if p.i == len(p.lines) {
				return nil, false
			}
			nl := &p.lines[p.i]
			if nl.indent < ind || nl.indent == ind && !p.seqItem(nl.start+nl.indent, nl) {
				return nil, false // an empty value
			}
			if val, ok = p.block(nl.indent); !ok {
				return nil, false
			}
		} else if val, ok = p.inline(v, l, ind); !ok {
			return nil, false
		}
		next, more, ok := p.pushNext(val, ind)
		if !ok {
			return nil, false
		}
		if !more {
			break
		}
		l = next
		at = l.start + ind
		if p.seqItem(at, l) {
			return nil, false
		}
	}
	p.content(n, mark)
	return n, true
}

// sequence reads the block sequence whose first entry is on the current
// line, at column ind.
func (p *fastParser) sequence(ind int) (*yaml.Node, bool) {
	if p.depth++; p.depth > fastMaxDepth {
		return nil, false
	}
	defer func() { p.depth-- }()
	l := &p.lines[p.i]
	n := p.node(yaml.SequenceNode, "!!seq", l.start+ind, l)
	mark := len(p.stack)
	for {
		v := p.blanks(l.start+ind+1, l)
		if v == l.end || p.seqItem(v, l) {
			return nil, false
		}
		var item *yaml.Node
		var ok bool
		if _, key := p.keyEnd(v, l); key {
			if item, ok = p.mapping(v-l.start, v); !ok {
				return nil, false
			}
		} else if item, ok = p.inline(v, l, ind); !ok {
			return nil, false
		}
		next, more, ok := p.pushNext(item, ind)
		if !ok {
			return nil, false
		}
		if !more {
			break
		}
		l = next
		if !p.seqItem(l.start+ind, l) {
			break // the mapping holding an indentless sequence goes on
		}
	}
	p.content(n, mark)
	return n, true
}

// pushNext pushes n, the entry of the block collection at column ind just
// read, and returns the collection's next line: more is false when the
// collection ends there (no line is left, or the next is indented less),
// ok is false when the next line is indented more (a continuation yaml.v3
// reads in ways fastParser does not, or an error).
func (p *fastParser) pushNext(n *yaml.Node, ind int) (l *fastLine, more, ok bool) {
	p.stack = append(p.stack, n)
	if p.i == len(p.lines) || p.lines[p.i].indent < ind {
		return nil, false, true
	}
	if p.lines[p.i].indent > ind {
		return nil, false, false
	}
	return &p.lines[p.i], true, true
}

// inline reads the value at offset at of line l, which must fill the rest
// of the line, checks that no line below, indented more than ind (the
// column of the collection holding the value), continues it, and moves
// to the next line.
func (p *fastParser) inline(at int, l *fastLine, ind int) (*yaml.Node, bool) {
	var n *yaml.Node
	var end int
	var ok bool
	switch c := p.s[at]; c {
	case '{', '[':
		n, end, ok = p.flow(at, l)
	case '"', '\'':
		n, end, ok = p.quoted(at, l)
	default:
		e := l.end
		for p.s[e-1] == ' ' {
			e--
		}
		n, ok = p.scalar(at, e, l, false)
		end = l.end
	}
	if !ok {
		return nil, false
	}
	for ; end < l.end; end++ {
		if p.s[end] != ' ' {
			return nil, false
		}
	}
	if p.i+1 < len(p.lines) && p.lines[p.i+1].indent > ind {
		return nil, false // continued below, or an error there
	}
	p.i++
	return n, true
}

// scalar returns the scalar s[at:end] (a key, a plain value or a quoted
// one).
func (p *fastParser) scalar(at, end int, l *fastLine, flow bool) (*yaml.Node, bool) {
	s := p.s
	if s[at] == '"' || s[at] == '\'' {
		n, e, ok := p.quoted(at, l)
		return n, ok && e == end
	}
	next := byte(' ')
	if at+1 < l.end {
		next = s[at+1]
	}
	if !plainStart(s[at], next) {
		return nil, false
	}
	v := s[at:end]
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case ':':
			if i+1 == len(v) || v[i+1] == ' ' {
				return nil, false // a key where a value is
			}
		case ',', '[', ']', '{', '}', '?':
			if flow {
				return nil, false
			}
		}
	}
	if v == "<<" {
		return nil, false
	}
	n := p.node(yaml.ScalarNode, "", at, l)
	n.Value = v
	n.Tag = plainTag(n)
	return n, true
}

// plainStart reports whether a plain scalar read here may start with c,
// followed by next (a blank at the end of the line).
func plainStart(c, next byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	case c == '-':
		return 'a' <= next && next <= 'z' || 'A' <= next && next <= 'Z' || '0' <= next && next <= '9' || next == '-'
	}
	return strings.IndexByte("/._$~+=()", c) >= 0
}

// plainTag is the tag yaml.v3 resolves a plain scalar to (its resolve
// function, which Node.ShortTag calls), without calling resolve where the
// answer is plain: resolve boxes every value it returns.
func plainTag(n *yaml.Node) string {
	v := n.Value
	switch c := v[0]; {
	case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		// Only the words of resolve's map are not strings.
		switch v {
		case "true", "True", "TRUE", "false", "False", "FALSE":
			return "!!bool"
		case "null", "Null", "NULL":
			return "!!null"
		}
		return "!!str"
	case '0' <= c && c <= '9':
		if c != '0' && len(v) <= 18 {
			// A decimal int64, unless a character other than a
			// digit follows.
			i := 1
			for i < len(v) && '0' <= v[i] && v[i] <= '9' {
				i++
			}
			if i == len(v) {
				return "!!int"
			}
		}
		// An int (any base), a float or a timestamp (whose fraction
		// of a second time.Parse reads after a comma too) has none but
		// these characters.
		for i := 1; i < len(v); i++ {
			if strings.IndexByte("0123456789abcdefABCDEFxXoObB+-._,:tTzZ ", v[i]) < 0 {
				return "!!str"
			}
		}
	}
	return n.ShortTag()
}

// quoted reads the single-line quoted scalar at offset at of line l and
// returns it with the offset just past its closing quote.
func (p *fastParser) quoted(at int, l *fastLine) (*yaml.Node, int, bool) {
	s := p.s
	q := s[at]
	var v string
	end := -1
	if q == '"' {
		i := strings.IndexByte(s[at+1:l.end], '"')
		if i < 0 {
			return nil, 0, false
		}
		v = s[at+1 : at+1+i]
		if strings.IndexByte(v, '\\') >= 0 {
			return nil, 0, false
		}
		end = at + 1 + i + 1
	} else {
		var b strings.Builder
		from := at + 1
		for {
			i := strings.IndexByte(s[from:l.end], '\'')
			if i < 0 {
				return nil, 0, false
			}
			if from+i+1 < l.end && s[from+i+1] == '\'' {
				b.WriteString(s[from : from+i+1])
				from += i + 2
				continue
			}
			if b.Len() == 0 {
				v = s[from : from+i]
			} else {
				b.WriteString(s[from : from+i])
				v = b.String()
			}
			end = from + i + 1
			break
		}
	}
	n := p.node(yaml.ScalarNode, "!!str", at, l)
	n.Value = v
	if q == '"' {
		n.Style = yaml.DoubleQuotedStyle
	} else {
		n.Style = yaml.SingleQuotedStyle
	}
	return n, end, true
}

// flow reads the flow collection at offset at of line l, which must end
// on that line, and returns it with the offset just past it.
func (p *fastParser) flow(at int, l *fastLine) (*yaml.Node, int, bool) {
	if p.depth++; p.depth > fastMaxDepth {
		return nil, 0, false
	}
	defer func() { p.depth-- }()
	s := p.s
	mapping := s[at] == '{'
	closer := byte(']')
	n := p.node(yaml.SequenceNode, "!!seq", at, l)
	if mapping {
		closer = '}'
		n.Kind, n.Tag = yaml.MappingNode, "!!map"
	}
	n.Style = yaml.FlowStyle
	mark := len(p.stack)
	i := p.blanks(at+1, l)
	if i < l.end && s[i] == closer {
		return n, i + 1, true
	}
	for {
		if i == l.end {
			return nil, 0, false
		}
		item, e, ok := p.flowNode(i, l)
		if !ok {
			return nil, 0, false
		}
		p.stack = append(p.stack, item)
		i = e
		if mapping {
			if item.Kind != yaml.ScalarNode || i+1 >= l.end || s[i] != ':' || s[i+1] != ' ' {
				return nil, 0, false
			}
			i = p.blanks(i+1, l)
			if i == l.end {
				return nil, 0, false
			}
			if item, i, ok = p.flowNode(i, l); !ok {
				return nil, 0, false
			}
			p.stack = append(p.stack, item)
		}
		i = p.blanks(i, l)
		if i == l.end {
			return nil, 0, false
		}
		switch s[i] {
		case closer:
			p.content(n, mark)
			return n, i + 1, true
		case ',':
			i = p.blanks(i+1, l)
			if i < l.end && s[i] == closer {
				return nil, 0, false // a trailing comma
			}
		default:
			return nil, 0, false
		}
	}
}

// flowNode reads a node inside a flow collection at offset at of line l.
func (p *fastParser) flowNode(at int, l *fastLine) (*yaml.Node, int, bool) {
	s := p.s
	switch s[at] {
	case '{', '[':
		return p.flow(at, l)
	case '"', '\'':
		return p.quoted(at, l)
	}
	e := at
	for e < l.end && strings.IndexByte(",[]{}:?", s[e]) < 0 {
		e++
	}
	end := e
	for end > at && s[end-1] == ' ' {
		end--
	}
	if end == at {
		return nil, 0, false
	}
	n, ok := p.scalar(at, end, l, true)
	return n, e, ok
}

// blanks skips spaces from offset i of line l.
func (p *fastParser) blanks(i int, l *fastLine) int {
	for i < l.end && p.s[i] == ' ' {
		i++
	}
	return i
}
