// Package corefile loads a Corefile into a typed model in which every token
// knows its line, column and byte offset. The lexer mirrors caddy's (the one
// CoreDNS uses): tokens split on white space, a double-quoted token may span
// lines and escape only quotes, and a '#' anywhere outside quotes starts a
// comment that runs to the end of the line, even inside a token. Env
// references such as {$VAR} stay in the token text as written.
//
// Parsing never fails: problems become Errors with positions and the model
// holds what could be read, so rules can still run on the rest.
package corefile

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/k8slint/k8slint/internal/lint/textedit"
)

// MaxDepth bounds brace nesting; CoreDNS plugins use at most two levels, and
// the bound keeps hostile input from exhausting the stack.
const MaxDepth = 64

// Token is one lexical token. Offset and End delimit it in the source,
// quotes included; Line and Col (1-based, Col in bytes) locate Offset.
type Token struct {
	Text   string
	Offset int
	End    int
	Line   int
	Col    int
	Quoted bool
	// pline is the line the parser groups tokens by: Line, except where a
	// template's `{{-` joined the token to the line before.
	pline int
}

// Comment is a '#' comment; Text starts with '#'.
type Comment struct {
	Text   string
	Offset int
	Line   int
	Col    int
}

// Error is a problem found while reading the Corefile.
type Error struct {
	Line, Col, Offset int
	Msg               string
	// Space, when not 0, is the offset of a "{" run into the token before
	// it: a space there is the one correction the message suggests.
	Space int
}

func (e Error) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg) }

// Directive is a plugin line in a server block, or an option line inside a
// plugin's block (then Parent is set).
type Directive struct {
	Name     Token
	Args     []Token
	Open     *Token // "{" of the directive's block, or nil
	Close    *Token // its "}", or nil (also when unterminated)
	Children []*Directive
	Parent   *Directive
}

// ServerBlock is one server block: keys (zones with optional scheme and
// port) and its directives. Open and Close are nil for the braceless form a
// single-block Corefile may use.
type ServerBlock struct {
	Keys       []Token
	Open       *Token
	Close      *Token
	Directives []*Directive
}

// File is a parsed Corefile.
type File struct {
	Name     string
	Src      []byte
	Tokens   []Token
	Comments []Comment
	Blocks   []*ServerBlock
	// Imports are the top-level `import` lines (between server blocks),
	// which CoreDNS splices in as server blocks: k3s and AKS import
	// their coredns-custom *.server files so.
	Imports []*Directive
	Errors  []Error
	Lines   textedit.Lines
	// Placeholders are the unrendered template and placeholder texts of
	// Src; the model is read as if each held its neutral value, with
	// positions in Src.
	Placeholders []Placeholder
	// Text is what CoreDNS would read: Src with every placeholder
	// replaced by its value, line for line. It is Src when there is none.
	Text []byte
}

// Parse reads src. It never fails; see File.Errors.
func Parse(name string, src []byte) *File {
	f := newFile(name, src)
	p := parser{f: f}
	p.file()
	return f
}

// newFile lexes src, placeholders read as their values.
func newFile(name string, src []byte) *File {
	f := &File{Name: name, Src: src, Text: src}
	f.Lines = textedit.NewLines(src)
	f.Placeholders = findPlaceholders(src)
	if len(f.Placeholders) == 0 {
		f.lex()
		return f
	}
	text, pieces := substitute(src, f.Placeholders)
	f.Src, f.Text, f.Lines = text, text, textedit.NewLines(text)
	f.lex()
	f.Src, f.Lines = src, textedit.NewLines(src)
	for i := range f.Tokens {
		t := &f.Tokens[i]
		t.Offset, t.End = mapBack(pieces, t.Offset, false), mapBack(pieces, t.End, true)
		t.Line, t.Col = f.Lines.Position(t.Offset)
	}
	for i := range f.Comments {
		c := &f.Comments[i]
		c.Offset = mapBack(pieces, c.Offset, false)
		c.Line, c.Col = f.Lines.Position(c.Offset)
	}
	for i := range f.Errors {
		e := &f.Errors[i]
		e.Offset = mapBack(pieces, e.Offset, false)
		e.Line, e.Col = f.Lines.Position(e.Offset)
	}
	return f
}

// Indent returns the leading blanks of line n.
func (f *File) Indent(n int) string {
	s := f.Lines.Start(n)
	e := s
	for e < len(f.Src) && (f.Src[e] == ' ' || f.Src[e] == '\t') {
		e++
	}
	return string(f.Src[s:e])
}

func (f *File) lex() {
	src := f.Src
	i := 0
	line, col := 1, 1
	var cur *Token
	var val []rune
	quoted, escaped, comment := false, false, false
	var cm *Comment
	emit := func(end int) {
		cur.Text = string(val)
		cur.End = end
		f.Tokens = append(f.Tokens, *cur)
		cur, val = nil, val[:0]
	}
	for i < len(src) {
		r, size := utf8.DecodeRune(src[i:])
		start := i
		i += size
		c := col
		if r == '\n' {
			line++
			col = 1
		} else {
			col += size
		}
		if quoted {
			if !escaped {
				if r == '\\' {
					escaped = true
					continue
				} else if r == '"' {
					quoted = false
					emit(i)
					continue
				}
			}
			if escaped && r != '"' {
				val = append(val, '\\')
			}
			val = append(val, r)
			escaped = false
			continue
		}
		if unicode.IsSpace(r) {
			if r == '\r' {
				continue
			}
			if r == '\n' {
				comment = false
				if cm != nil {
					cm.Text = string(src[cm.Offset:start])
					f.Comments = append(f.Comments, *cm)
					cm = nil
				}
			}
			if cur != nil {
				emit(start)
			}
			continue
		}
		if r == '#' && !comment {
			// The comment ends the token too: no byte of it is part of the
			// token, though caddy only emits the token at the newline.
			if cur != nil {
				emit(start)
			}
			comment = true
			l, cc := line, c
			cm = &Comment{Offset: start, Line: l, Col: cc}
		}
		if comment {
			continue
		}
		if cur == nil {
			cur = &Token{Offset: start, Line: line, Col: c, pline: line}
			if r == '"' {
				cur.Quoted = true
				quoted = true
				continue
			}
		}
		val = append(val, r)
	}
	if cm != nil {
		cm.Text = strings.TrimRight(string(src[cm.Offset:]), "\r")
		f.Comments = append(f.Comments, *cm)
	}
	if cur != nil {
		if quoted {
			f.errorf(cur.Offset, "unterminated quoted string")
		}
		emit(len(src))
	}
}

func (f *File) errorf(off int, format string, a ...any) {
	l, c := f.Lines.Position(off)
	f.Errors = append(f.Errors, Error{Line: l, Col: c, Offset: off, Msg: fmt.Sprintf(format, a...)})
}

type parser struct {
	f   *File
	pos int
}

func (p *parser) peek() *Token {
	if p.pos < len(p.f.Tokens) {
		return &p.f.Tokens[p.pos]
	}
	return nil
}

func (p *parser) next() *Token {
	t := p.peek()
	if t != nil {
		p.pos++
	}
	return t
}

func (p *parser) file() {
	for p.peek() != nil {
		if d := p.topImport(); d != nil {
			p.f.Imports = append(p.f.Imports, d)
			continue
		}
		first := len(p.f.Blocks) == 0 && len(p.f.Imports) == 0
		sb := &ServerBlock{}
		// Keys: the tokens of the first line, and of following lines while
		// a key ends with a comma, up to "{".
		line := p.peek().pline
		for t := p.peek(); t != nil && t.Text != "{"; t = p.peek() {
			if t.pline != line && (len(sb.Keys) == 0 || !strings.HasSuffix(sb.Keys[len(sb.Keys)-1].Text, ",")) {
				break
			}
			if t.Text == "}" {
				p.f.errorf(t.Offset, "unexpected '}'")
				p.next()
				continue
			}
			sb.Keys = append(sb.Keys, *p.next())
			line = t.pline
		}
		t := p.peek()
		switch {
		case t != nil && t.Text == "{":
			sb.Open = p.next()
			sb.Directives, sb.Close = p.block(nil, sb.Open, 1)
		case first && t != nil:
			// A single server block may omit its braces.
			sb.Directives, _ = p.block(nil, nil, 1)
		case t == nil && len(sb.Keys) > 0 && first:
			// Keys only: an empty braceless block.
		default:
			if len(sb.Keys) > 0 {
				k := sb.Keys[len(sb.Keys)-1]
				p.f.errorf(k.End, "expected '{' after server block keys")
			}
		}
		if len(sb.Keys) == 0 && sb.Open == nil {
			if t != nil {
				p.next()
			}
			continue
		}
		p.f.Blocks = append(p.f.Blocks, sb)
	}
}

// topImport reads a top-level `import PATTERN` line: the word import
// with one argument on its line and no "{" after it. CoreDNS's parser
// expands it where a server block's keys would start.
func (p *parser) topImport() *Directive {
	t := p.peek()
	if t == nil || t.Text != "import" || p.pos+1 >= len(p.f.Tokens) {
		return nil
	}
	a := p.f.Tokens[p.pos+1]
	if a.pline != t.pline || a.Text == "{" {
		return nil
	}
	if p.pos+2 < len(p.f.Tokens) {
		if n := p.f.Tokens[p.pos+2]; n.pline == t.pline || n.Text == "{" {
			return nil
		}
	}
	d := &Directive{Name: *p.next()}
	d.Args = append(d.Args, *p.next())
	return d
}

// block reads directives until the "}" matching open (or EOF when open is
// nil) and returns them with that "}".
func (p *parser) block(parent *Directive, open *Token, depth int) ([]*Directive, *Token) {
	var ds []*Directive
	for {
		t := p.peek()
		if t == nil {
			if open != nil {
				p.f.errorf(open.Offset, "unterminated block: missing '}'")
			}
			return ds, nil
		}
		if t.Text == "}" {
			p.next()
			if open == nil {
				p.f.errorf(t.Offset, "unexpected '}'")
				continue
			}
			return ds, t
		}
		if t.Text == "{" {
			p.f.errorf(t.Offset, "unexpected '{': a block must open on its directive's line")
			p.next()
			continue
		}
		d := &Directive{Name: *p.next(), Parent: parent}
		if n := d.Name; len(n.Text) > 1 && strings.HasSuffix(n.Text, "{") && !n.Quoted && (p.peek() == nil || p.peek().pline != n.pline) {
			// `loop{`: a directive run into its "{" opens a block for
			// CoreDNS's reader of what was meant; the name keeps its
			// text, for the rule that corrects it.
			_, open := p.splitBrace(n)
			p.f.errorf(open.Offset, "%q runs into its '{': did you mean %q?", n.Text, strings.TrimSuffix(n.Text, "{")+" {")
			p.f.Errors[len(p.f.Errors)-1].Space = open.Offset
			d.Open = &open
			if depth >= MaxDepth {
				p.skipBlock()
			} else {
				d.Children, d.Close = p.block(d, d.Open, depth+1)
			}
			ds = append(ds, d)
			continue
		}
		for a := p.peek(); a != nil && a.pline == d.Name.pline && a.Text != "}"; a = p.peek() {
			if a.Text == "{" {
				d.Open = p.next()
				if depth >= MaxDepth {
					p.f.errorf(a.Offset, "blocks nested deeper than %d", MaxDepth)
					p.skipBlock()
					break
				}
				d.Children, d.Close = p.block(d, d.Open, depth+1)
				break
			}
			if a.Text != "{" && strings.HasSuffix(a.Text, "{") && !a.Quoted && p.lastOnLine() {
				// `example.com{`: an argument run into its "{". CoreDNS
				// reads one token and the block's options as
				// directives; dnslint reads what was meant and says so.
				arg, open := p.splitBrace(*p.next())
				p.f.errorf(arg.Offset, "%q runs into its '{': did you mean %q?", a.Text, arg.Text+" {")
				p.f.Errors[len(p.f.Errors)-1].Space = open.Offset
				d.Args = append(d.Args, arg)
				d.Open = &open
				if depth >= MaxDepth {
					p.skipBlock()
					break
				}
				d.Children, d.Close = p.block(d, d.Open, depth+1)
				break
			}
			d.Args = append(d.Args, *p.next())
		}
		ds = append(ds, d)
	}
}

// lastOnLine reports whether the next token is the last of its line.
func (p *parser) lastOnLine() bool {
	t := p.peek()
	return p.pos+1 >= len(p.f.Tokens) || p.f.Tokens[p.pos+1].pline != t.pline
}

// splitBrace splits a token ending in "{" into the text before it and
// the "{".
func (p *parser) splitBrace(t Token) (Token, Token) {
	arg := t
	arg.Text = strings.TrimSuffix(t.Text, "{")
	arg.End = t.End - 1
	open := Token{Text: "{", Offset: t.End - 1, End: t.End, pline: t.pline}
	open.Line, open.Col = p.f.Lines.Position(open.Offset)
	return arg, open
}

// skipBlock consumes tokens up to the "}" closing an already opened block.
func (p *parser) skipBlock() {
	n := 1
	for t := p.next(); t != nil; t = p.next() {
		switch t.Text {
		case "{":
			n++
		case "}":
			n--
			if n == 0 {
				return
			}
		}
	}
}

// Find returns the directives named name in the block.
func (sb *ServerBlock) Find(name string) []*Directive {
	var out []*Directive
	for _, d := range sb.Directives {
		if d.Name.Text == name {
			out = append(out, d)
		}
	}
	return out
}

// Has reports whether the block uses plugin name.
func (sb *ServerBlock) Has(name string) bool { return len(sb.Find(name)) > 0 }

// Child returns the first option named name in d's block, or nil.
func (d *Directive) Child(name string) *Directive {
	for _, c := range d.Children {
		if c.Name.Text == name {
			return c
		}
	}
	return nil
}

// ArgTexts returns the texts of d's arguments.
func (d *Directive) ArgTexts() []string {
	out := make([]string, len(d.Args))
	for i, a := range d.Args {
		out[i] = a.Text
	}
	return out
}

// End returns the offset just after the directive's last token on its
// first line (its name or last argument, before any "{").
func (d *Directive) End() int {
	if len(d.Args) > 0 {
		return d.Args[len(d.Args)-1].End
	}
	return d.Name.End
}

// Walk calls fn for every directive and option of the file, depth first.
func (f *File) Walk(fn func(sb *ServerBlock, d *Directive)) {
	var rec func(sb *ServerBlock, ds []*Directive)
	rec = func(sb *ServerBlock, ds []*Directive) {
		for _, d := range ds {
			fn(sb, d)
			rec(sb, d.Children)
		}
	}
	for _, sb := range f.Blocks {
		rec(sb, sb.Directives)
	}
}

// ParseSnippet reads a list of directives with no server block around
// them, as the *.override keys of a coredns-custom ConfigMap hold.
func ParseSnippet(name string, src []byte) *File {
	f := newFile(name, src)
	p := parser{f: f}
	sb := &ServerBlock{}
	sb.Directives, _ = p.block(nil, nil, 1)
	f.Blocks = []*ServerBlock{sb}
	return f
}
