package lint

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/k8slint/k8slint/internal/lint/manifest"
	"github.com/k8slint/k8slint/internal/lint/workload"
	"github.com/k8slint/k8slint/internal/parallel"
)

// IDs of the rules the driver reports itself.
const (
	ManifestInvalid = "manifest-invalid"
	// ManifestDuplicateKey is reported from the loader's model too.
	ManifestDuplicateKey = "manifest-duplicate-key"
	// Placeholder is corefile-placeholder, which the driver reports for
	// the template actions of a manifest that is itself a template.
	Placeholder        = "corefile-placeholder"
	SuppressionInvalid = "suppression-invalid"
	SuppressionUnused  = "suppression-unused"
	// IgnoreAnnotation suppresses rules for a whole ConfigMap or workload:
	// "RULE[,RULE]: reason".
	IgnoreAnnotation = "dnslint.io/ignore"
)

// Options configure a run.
type Options struct {
	Config Config
	// Rules are the enabled rules.
	Rules []Rule
	// Known reports whether id names any rule, enabled or not, so that a
	// suppression of a disabled rule is neither invalid nor unused.
	Known func(id string) bool
	// Workers is how many goroutines parse the documents of a manifest
	// (Lint) and check its workloads; 0 or 1: the caller's alone. The
	// findings do not depend on it: they are collected in document and
	// workload order afterwards.
	Workers int
}

func (o Options) enabled(id string) (Rule, bool) {
	for _, r := range o.Rules {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}

// suppression is one ignore comment or annotation.
type suppression struct {
	rules  []string
	reason string
	offset int              // file offset of the suppression itself
	unit   *Unit            // the comment's Corefile, or the annotated ConfigMap's
	line   int              // the Corefile line a comment covers
	object *manifest.Object // the annotated object; nil for a comment
	used   map[string]bool
}

var ignoreComment = regexp.MustCompile(`^#\s*dnslint:ignore\b\s*(.*)$`)

// Run lints one loaded input (Load) and returns its findings sorted by
// position, in phases: check (the enabled rules on every Corefile unit and
// pod spec, each fact they require computed once), suppress (one matcher
// for ignore comments and annotations), collect (file positions, fixes
// mapped into the file, unused suppressions, order).
func Run(in *Input, opts Options) []Finding {
	c := &collector{in: in, opts: opts}
	if in.Manifest != nil {
		for _, e := range in.Manifest.Errors {
			c.add(ManifestInvalid, e.Offset, "", nil, e.Msg, nil, "")
		}
		for _, d := range in.Manifest.Duplicates {
			c.add(ManifestDuplicateKey, d.Offset, "", nil, fmt.Sprintf("key %q is given twice (first on line %d): kubectl keeps this later value and drops the first without a word", d.Key, d.FirstLine), nil, "")
		}
		if ts := in.Manifest.Templates; len(ts) > 0 {
			var names []string
			for _, off := range ts {
				names = append(names, templateText(in.Src, off))
			}
			c.add(Placeholder, ts[0], "", nil, PlaceholderMessage(names), nil, "")
		}
	}
	sups := c.suppressions()
	ds := check(in, opts)
	c.out = slices.Grow(c.out, len(ds))
	for _, d := range ds {
		if !sups.match(d.target(), d.rule) {
			c.collect(d)
		}
	}
	for _, s := range sups {
		for _, id := range s.rules {
			if _, on := opts.enabled(id); on && !s.used[id] {
				c.add(SuppressionUnused, s.offset, s.context(), nil, fmt.Sprintf("suppression of %s matches no finding; remove it", id), nil, "")
			}
		}
	}
	sort.SliceStable(c.out, func(i, j int) bool {
		if c.out[i].Offset != c.out[j].Offset {
			return c.out[i].Offset < c.out[j].Offset
		}
		return c.out[i].RuleID < c.out[j].RuleID
	})
	return c.out
}

// diagnostic is what a rule reported on a Corefile unit or a pod spec.
type diagnostic struct {
	Diagnostic
	rule string
	unit *Unit         // for Corefile rules: offsets are the unit's
	pod  *workload.Pod // for workload rules: offsets are the file's
}

// target is what a suppression must cover to silence d.
func (d diagnostic) target() target {
	if d.unit != nil {
		line := d.unit.Corefile.Lines.Line(d.Offset)
		return target{object: d.unit.Object, unit: d.unit, line: line}
	}
	return target{object: d.pod.Object}
}

// check runs the enabled rules: on each Corefile unit, then on each pod
// spec (on up to opts.Workers goroutines), and returns what they report
// in that order, rule by rule. The facts the rules require are computed
// first: the input's once, a unit's or a pod's once before its rules.
func check(in *Input, opts Options) []diagnostic {
	facts := planFacts(opts.Rules)
	top := &Pass{Config: opts.Config, Input: in}
	top.computeFacts(facts[ScopeInput])
	shared := top.facts
	var out []diagnostic
	p := &Pass{Config: opts.Config, Input: in}
	for _, u := range in.Units {
		p.Unit, p.Corefile, p.facts = u, u.Corefile, append(p.facts[:0], shared...)
		p.computeFacts(facts[ScopeCorefile])
		for _, r := range opts.Rules {
			if r.Scope == ScopeCorefile && r.Check != nil {
				for _, d := range p.run(r) {
					out = append(out, diagnostic{Diagnostic: d, rule: r.ID, unit: u})
				}
			}
		}
	}
	var podRules []Rule
	for _, r := range opts.Rules {
		if r.Scope == ScopeWorkload && r.Check != nil {
			podRules = append(podRules, r)
		}
	}
	// pods[i] are the diagnostics of workload i, rule by rule.
	pods := make([][]diagnostic, len(in.Workloads))
	parallel.Each(len(in.Workloads), opts.Workers, func() *Pass { return &Pass{Config: opts.Config, Input: in} }, func(p *Pass, i int) {
		w := in.Workloads[i]
		p.Workload, p.facts = w, append(p.facts[:0], shared...)
		p.computeFacts(facts[ScopeWorkload])
		for _, r := range podRules {
			for _, d := range p.run(r) {
				pods[i] = append(pods[i], diagnostic{Diagnostic: d, rule: r.ID, pod: w})
			}
		}
	})
	for _, ds := range pods {
		out = append(out, ds...)
	}
	return out
}

// run runs rule r with p and returns what it reported, valid until the
// next run.
func (p *Pass) run(r Rule) []Diagnostic {
	p.running, p.fact, p.requires, p.diags = r.ID, false, r.Requires, p.diags[:0]
	r.Check(p)
	return p.diags
}

// collector turns diagnostics into findings of one input.
type collector struct {
	in   *Input
	opts Options
	out  []Finding
}

// add appends a finding of rule id at file offset off, unless the rule is
// disabled. sev overrides the rule's severity when set.
func (c *collector) add(id string, off int, context string, sev *Severity, msg string, fixes []Fix, noFix string) {
	r, ok := c.opts.enabled(id)
	if !ok {
		return
	}
	l, col := c.in.Position(off)
	f := Finding{File: c.in.Path, Line: l, Col: col, ColRunes: c.in.RuneColumn(off), Offset: off, RuleID: id, Severity: r.Severity,
		Message: msg, Fixes: fixes, Context: context, NoFix: noFix}
	if sev != nil {
		f.Severity = *sev
	}
	c.out = append(c.out, f)
}

// collect adds d, its offset and fixes mapped into the file.
func (c *collector) collect(d diagnostic) {
	if d.pod != nil {
		c.add(d.rule, d.Offset, d.pod.Describe(), d.Severity, d.Message, d.Fixes, "")
		return
	}
	u := d.unit
	var fixes []Fix
	noFix := ""
	for _, fx := range d.Fixes {
		if es := u.mapEdits(fx.Edits); es != nil {
			fixes = append(fixes, Fix{Message: fx.Message, Edits: es})
		} else {
			noFix = u.noFix()
		}
	}
	if len(fixes) > 0 {
		noFix = ""
	}
	c.add(d.rule, u.ToFile(d.Offset), u.Context, d.Severity, d.Message, fixes, noFix)
}

// target is where a diagnostic is, as suppressions see it: the object
// (a ConfigMap or a workload) and, in a Corefile, the unit and line.
type target struct {
	object *manifest.Object
	unit   *Unit
	line   int
}

// suppressions are the ignore comments and annotations of an input.
type suppressions []*suppression

// match reports whether a suppression covers rule id at t, marking the
// ones that do as used.
func (ss suppressions) match(t target, id string) bool {
	hit := false
	for _, s := range ss {
		if !s.covers(t) {
			continue
		}
		for _, r := range s.rules {
			if r == id {
				s.used[id] = true
				hit = true
			}
		}
	}
	return hit
}

// covers reports whether s is about t: an annotation covers its whole
// object, a comment the line after it in its Corefile.
func (s *suppression) covers(t target) bool {
	if s.object != nil {
		return s.object == t.object
	}
	return s.unit == t.unit && s.line == t.line
}

// context is the Context of findings about s itself.
func (s *suppression) context() string {
	if s.unit == nil {
		return ""
	}
	return s.unit.Context
}

// suppressions collects the ignore comments of every unit and the ignore
// annotations of every object, reporting malformed ones.
func (c *collector) suppressions() suppressions {
	in, opts := c.in, c.opts
	add := func(id string, off int, u *Unit, msg string) {
		ctx := ""
		if u != nil {
			ctx = u.Context
		}
		c.add(id, off, ctx, nil, msg, nil, "")
	}
	var out suppressions
	parse := func(spec string, off int, u *Unit, sep string) *suppression {
		ids, reason := spec, ""
		if i := strings.Index(spec, sep); i >= 0 {
			ids, reason = spec[:i], strings.TrimSpace(spec[i+len(sep):])
		}
		s := &suppression{reason: reason, offset: off, unit: u, used: map[string]bool{}}
		for _, id := range strings.Split(ids, ",") {
			if id = strings.TrimSpace(id); id != "" {
				s.rules = append(s.rules, id)
			}
		}
		switch {
		case len(s.rules) == 0:
			add(SuppressionInvalid, off, u, "suppression names no rule; write RULE and a reason")
			return nil
		case reason == "":
			add(SuppressionInvalid, off, u, fmt.Sprintf("suppression of %s has no reason; say why the finding does not apply", strings.Join(s.rules, ",")))
			return nil
		}
		for _, id := range s.rules {
			if opts.Known != nil && !opts.Known(id) {
				add(SuppressionInvalid, off, u, fmt.Sprintf("suppression names unknown rule %q", id))
				return nil
			}
		}
		return s
	}
	seen := map[any]bool{}
	// annotated reads the ignore annotation of object o (a ConfigMap
	// holding unit u, or a workload).
	annotated := func(o *manifest.Object, u *Unit) {
		if o == nil || seen[o] {
			return
		}
		seen[o] = true
		a, ok := o.Annotations[IgnoreAnnotation]
		if !ok {
			return
		}
		for _, spec := range strings.Split(a.Value, ";") {
			if strings.TrimSpace(spec) == "" {
				continue
			}
			if s := parse(strings.TrimSpace(spec), a.Offset, u, ":"); s != nil {
				s.object = o
				out = append(out, s)
			}
		}
	}
	for _, u := range in.Units {
		f := u.Corefile
		for _, c := range f.Comments {
			m := ignoreComment.FindStringSubmatch(strings.TrimSpace(c.Text))
			if m == nil {
				continue
			}
			// A reason ends at a further '#', which starts a remark.
			spec, _, _ := strings.Cut(m[1], "#")
			s := parse(strings.TrimSpace(spec), u.ToFile(c.Offset), u, " ")
			if s == nil {
				continue
			}
			// It covers the next line holding a token.
			for _, t := range f.Tokens {
				if t.Line > c.Line {
					s.line = t.Line
					break
				}
			}
			out = append(out, s)
		}
		annotated(u.Object, u)
	}
	for _, w := range in.Workloads {
		annotated(w.Object, nil)
	}
	return out
}

// templateText is the template action starting at off: up to its "}}".
func templateText(src []byte, off int) string {
	end := bytes.Index(src[off:], []byte("}}"))
	if end < 0 {
		return string(src[off:])
	}
	return string(src[off : off+end+2])
}

// PlaceholderMessage is corefile-placeholder's message for the
// placeholders names (distinct, the first six shown).
func PlaceholderMessage(names []string) string {
	var uniq []string
	seen := map[string]bool{}
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			uniq = append(uniq, n)
		}
	}
	list := strings.Join(uniq[:min(len(uniq), 6)], ", ")
	if len(uniq) > 6 {
		list += fmt.Sprintf(" and %d more", len(uniq)-6)
	}
	return "unrendered template or placeholder text (" + list + "): the rest is linted as if each held a neutral value"
}
