package workload

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/k8slint/k8slint/internal/lint/textedit"
)

// The edits below change a pod spec in its YAML file the way a person
// would: a scalar is replaced in place, new keys and list items are whole
// lines with the indentation of their neighbours, and comments are never
// touched. They return nil where the YAML is not plain block style (flow
// mappings, JSON, anchors, multi-line scalars): no fix is offered there.

// rawEnd returns the offset just past scalar n in the file.
func (p *Pod) rawEnd(n *yaml.Node) (int, bool) {
	if n == nil || n.Kind != yaml.ScalarNode || n.Anchor != "" {
		return 0, false
	}
	b := p.src.b
	off := p.src.offset(n)
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		for i := off + 1; i < len(b); i++ {
			switch b[i] {
			case '\\':
				i++
			case '\n':
				return 0, false
			case '"':
				return i + 1, true
			}
		}
	case n.Style&yaml.SingleQuotedStyle != 0:
		for i := off + 1; i < len(b); i++ {
			switch {
			case b[i] == '\n':
				return 0, false
			case b[i] == '\'' && i+1 < len(b) && b[i+1] == '\'':
				i++
			case b[i] == '\'':
				return i + 1, true
			}
		}
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle|yaml.FlowStyle) == 0:
		if n.Tag == "!!null" && n.Value == "" {
			return off, true
		}
		if end := off + len(n.Value); end <= len(b) && string(b[off:end]) == n.Value {
			return end, true
		}
	}
	return 0, false
}

// end returns the offset just past the last scalar of block node n.
func (p *Pod) end(n *yaml.Node) (int, bool) {
	switch n.Kind {
	case yaml.ScalarNode:
		return p.rawEnd(n)
	case yaml.MappingNode, yaml.SequenceNode:
		if n.Style&yaml.FlowStyle != 0 || len(n.Content) == 0 || n.Anchor != "" {
			return 0, false
		}
		return p.end(n.Content[len(n.Content)-1])
	}
	return 0, false
}

// lineAfter returns the offset of the start of the line after node n, and
// the text to put before an insertion there (a newline when the file ends
// without one).
func (p *Pod) lineAfter(n *yaml.Node) (int, string, bool) {
	e, ok := p.end(n)
	if !ok {
		return 0, "", false
	}
	b := p.src.b
	i := e
	for i < len(b) && b[i] != '\n' {
		i++
	}
	if i == len(b) {
		return i, "\n", true
	}
	return i + 1, "", true
}

// indentOf is the indentation of the keys of block mapping m.
func (p *Pod) indentOf(m *yaml.Node) (string, bool) {
	if m == nil || m.Kind != yaml.MappingNode || m.Style&yaml.FlowStyle != 0 || len(m.Content) == 0 {
		return "", false
	}
	return strings.Repeat(" ", m.Content[0].Column-1), true
}

// ReplaceScalar replaces the bytes of scalar s with text.
func (p *Pod) ReplaceScalar(s Scalar, text string) []textedit.Edit {
	e, ok := p.rawEnd(s.Node)
	if !ok {
		return nil
	}
	return []textedit.Edit{{Start: s.Offset, End: e, New: text}}
}

// Quote writes scalar s as a double-quoted string.
func (p *Pod) Quote(s Scalar) []textedit.Edit {
	return p.ReplaceScalar(s, strconv.Quote(s.Value))
}

// insertInSpec adds text (lines without the spec's indentation, each
// ending in "\n") as keys of the pod spec, after the key anchor when it is
// set, else after the spec's last key.
func (p *Pod) insertInSpec(anchor *yaml.Node, text string) []textedit.Edit {
	ind, ok := p.indentOf(p.Spec)
	if !ok {
		return nil
	}
	var at int
	var pre string
	if anchor == nil {
		// Before the spec's first key, when it starts its line.
		k := p.Spec.Content[0]
		at = p.src.lines.Start(k.Line)
		if strings.Trim(string(p.src.b[at:p.src.offset(k)]), " ") != "" {
			return nil
		}
	} else if at, pre, ok = p.lineAfter(anchor); !ok {
		return nil
	}
	var b strings.Builder
	b.WriteString(pre)
	for _, l := range strings.SplitAfter(text, "\n") {
		if l != "" {
			b.WriteString(ind + l)
		}
	}
	return []textedit.Edit{{Start: at, End: at, New: b.String()}}
}

// SetPolicy sets dnsPolicy to v, adding the key after hostNetwork when it
// is absent.
func (p *Pod) SetPolicy(v string) []textedit.Edit {
	if p.DNSPolicy != nil {
		return p.ReplaceScalar(*p.DNSPolicy, v)
	}
	var anchor *yaml.Node
	if p.HostNetwork != nil {
		anchor = p.HostNetwork.Node
	}
	return p.insertInSpec(anchor, "dnsPolicy: "+v+"\n")
}

// SetOption sets dnsConfig option name to value (no value when value is
// nil), creating dnsConfig and its options list where missing.
func (p *Pod) SetOption(name string, value *string) []textedit.Edit {
	item := func(ind string) string {
		s := ind + "- name: " + name + "\n"
		if value != nil {
			s += ind + "  value: " + strconv.Quote(*value) + "\n"
		}
		return s
	}
	dc := p.DNSConfig
	if dc == nil {
		anchor := (*yaml.Node)(nil)
		if p.DNSPolicy != nil {
			anchor = p.DNSPolicy.Node
		} else if p.HostNetwork != nil {
			anchor = p.HostNetwork.Node
		}
		return p.insertInSpec(anchor, "dnsConfig:\n  options:\n"+item("  "))
	}
	ind, ok := p.indentOf(dc.Key.Node)
	if !ok {
		return nil
	}
	if dc.OptionsNode == nil {
		at, pre, ok := p.lineAfter(dc.Key.Node)
		if !ok {
			return nil
		}
		return []textedit.Edit{{Start: at, End: at, New: pre + ind + "options:\n" + item(ind+"  ")}}
	}
	for i := len(dc.Options) - 1; i >= 0; i-- {
		o := dc.Options[i]
		if o.Name.Value != name {
			continue
		}
		switch {
		case value == nil:
			return nil // present already; nothing to set
		case o.Value != nil:
			return p.ReplaceScalar(*o.Value, strconv.Quote(*value))
		}
		at, pre, ok := p.lineAfter(o.Name.Node)
		if !ok {
			return nil
		}
		kind, _ := p.indentOf(o.Item)
		return []textedit.Edit{{Start: at, End: at, New: pre + kind + "value: " + strconv.Quote(*value) + "\n"}}
	}
	items := seq(dc.OptionsNode)
	if len(items) == 0 {
		return nil
	}
	dash, ok := p.dashIndent(items[0])
	if !ok {
		return nil
	}
	at, pre, ok := p.lineAfter(dc.OptionsNode)
	if !ok {
		return nil
	}
	return []textedit.Edit{{Start: at, End: at, New: pre + item(dash)}}
}

// dashIndent returns the indentation of the "- " that starts block
// sequence item it.
func (p *Pod) dashIndent(it *yaml.Node) (string, bool) {
	off := p.src.offset(it)
	ls := p.src.lines.Start(it.Line)
	pre := string(p.src.b[ls:off])
	t := strings.TrimRight(pre, " ")
	if !strings.HasSuffix(t, "-") || strings.TrimLeft(t[:len(t)-1], " ") != "" {
		return "", false
	}
	return t[:len(t)-1], true
}

// DeleteItem removes block sequence item it with its lines.
func (p *Pod) DeleteItem(it *yaml.Node) []textedit.Edit {
	if _, ok := p.dashIndent(it); !ok {
		return nil
	}
	at, _, ok := p.lineAfter(it)
	if !ok {
		return nil
	}
	return []textedit.Edit{{Start: p.src.lines.Start(it.Line), End: at}}
}
