package corefile

import (
	"strings"

	"github.com/k8slint/k8slint/internal/lint/textedit"
)

// The helpers below build the edits fixes are made of. New lines take the
// indentation of their neighbours, so a fixed Corefile looks hand-written.

const step = "    "

// childIndent is the indentation of d's options: that of its first option,
// or one step more than d.
func (f *File) childIndent(d *Directive) string {
	if len(d.Children) > 0 && d.Children[0].Name.Line != d.Name.Line {
		return f.Indent(d.Children[0].Name.Line)
	}
	return f.Indent(d.Name.Line) + step
}

// AddOption adds the option line opt to d's block, creating the block when
// d has none; a comment at the end of d's line stays on that line.
func (f *File) AddOption(d *Directive, opt string) []textedit.Edit {
	if d.Open == nil {
		ind := f.Indent(d.Name.Line)
		le := f.Lines.End(d.Name.Line)
		if le > d.End() && f.Src[le-1] == '\r' {
			le--
		}
		body := "\n" + ind + step + opt + "\n" + ind + "}"
		if le == d.End() {
			return []textedit.Edit{{Start: le, End: le, New: " {" + body}}
		}
		return []textedit.Edit{{Start: d.End(), End: d.End(), New: " {"}, {Start: le, End: le, New: body}}
	}
	return []textedit.Edit{f.insertBeforeClose(d.Close, d.Open, f.childIndent(d), opt)}
}

// AddDirective adds the directive line text at the end of server block sb.
func (f *File) AddDirective(sb *ServerBlock, text string) textedit.Edit {
	ind := step
	if len(sb.Directives) > 0 {
		ind = f.Indent(sb.Directives[0].Name.Line)
	}
	if sb.Close == nil {
		// Braceless or unterminated: append after the last token.
		end := len(f.Src)
		nl := "\n"
		if end > 0 && f.Src[end-1] == '\n' {
			return textedit.Edit{Start: end, End: end, New: ind + text + "\n"}
		}
		return textedit.Edit{Start: end, End: end, New: nl + ind + text + "\n"}
	}
	return f.insertBeforeClose(sb.Close, sb.Open, ind, text)
}

func (f *File) insertBeforeClose(cl, open *Token, ind, text string) textedit.Edit {
	if cl == nil {
		end := len(f.Src)
		return textedit.Edit{Start: end, End: end, New: "\n" + ind + text + "\n"}
	}
	ls := f.Lines.Start(cl.Line)
	if strings.TrimSpace(string(f.Src[ls:cl.Offset])) == "" && (open == nil || open.Line != cl.Line) {
		return textedit.Edit{Start: ls, End: ls, New: ind + text + "\n"}
	}
	return textedit.Edit{Start: cl.Offset, End: cl.Offset, New: "\n" + ind + text + "\n" + f.Indent(cl.Line)}
}

// DeleteLine removes d with its line when d stands alone on its line(s),
// or just its tokens otherwise.
func (f *File) DeleteLine(d *Directive) textedit.Edit {
	last := d.End()
	if d.Close != nil {
		last = d.Close.End
	}
	ls := f.Lines.Start(d.Name.Line)
	ll, _ := f.Lines.Position(last)
	le := f.Lines.End(ll)
	before := strings.TrimSpace(string(f.Src[ls:d.Name.Offset]))
	after := string(f.Src[last:le])
	if i := strings.IndexByte(after, '#'); i >= 0 {
		after = after[:i]
	}
	if before == "" && strings.TrimSpace(after) == "" {
		end := le
		if end < len(f.Src) {
			end++
		}
		return textedit.Edit{Start: ls, End: end}
	}
	return textedit.Edit{Start: d.Name.Offset, End: last}
}

// Replace replaces token t with s.
func Replace(t Token, s string) textedit.Edit {
	return textedit.Edit{Start: t.Offset, End: t.End, New: s}
}
