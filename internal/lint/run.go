package lint

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/k8slint/k8slint/internal/lint/manifest"
	"github.com/k8slint/k8slint/internal/lint/textedit"
	"github.com/k8slint/k8slint/internal/parallel"
)

// IDs of the rules the driver reports itself.
const (
	ManifestInvalid    = "manifest-invalid"
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
	// Workers is how many goroutines check the workloads of an input; 0
	// or 1: the caller's alone. The findings do not depend on it: each
	// goroutine keeps its own RunValue values, and findings are collected
	// in workload order afterwards.
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

type suppression struct {
	rules   []string
	reason  string
	offset  int // file offset of the suppression itself
	unit    *Unit
	line    int // Corefile line it covers; 0: the whole object
	objects bool
	object  *manifest.Object // the annotated object
	used    map[string]bool
}

var ignoreComment = regexp.MustCompile(`^#\s*dnslint:ignore\b\s*(.*)$`)

// Run lints one input and returns its findings sorted by position.
func Run(in *Input, opts Options) []Finding {
	var out []Finding
	addFinding := func(id string, off int, ctx string, sev *Severity, msg string, fixes []Fix) {
		r, ok := opts.enabled(id)
		if !ok {
			return
		}
		l, c := in.Position(off)
		f := Finding{File: in.Path, Line: l, Col: c, ColRunes: in.RuneColumn(off), Offset: off, RuleID: id, Severity: r.Severity, Message: msg, Fixes: fixes, Context: ctx}
		if sev != nil {
			f.Severity = *sev
		}
		out = append(out, f)
	}
	add := func(id string, off int, u *Unit, msg string, fixes []Fix) {
		ctx := ""
		if u != nil {
			ctx = u.Context
		}
		addFinding(id, off, ctx, nil, msg, fixes)
	}
	if in.Manifest != nil {
		for _, e := range in.Manifest.Errors {
			add(ManifestInvalid, e.Offset, nil, e.Msg, nil)
		}
	}
	sups := suppressions(in, opts, add)
	run := &runValues{}
	for _, u := range in.Units {
		for _, r := range opts.Rules {
			if r.Scope != ScopeCorefile || r.Check == nil {
				continue
			}
			p := &Pass{Config: opts.Config, Unit: u, Corefile: u.Corefile, run: run}
			r.Check(p)
			for _, d := range p.diags {
				line, _ := u.Corefile.Position(d.Offset)
				if suppressed(sups, u, r.ID, line) {
					continue
				}
				var fixes []Fix
				noFix := ""
				for _, fx := range d.Fixes {
					if es := u.mapEdits(fx.Edits); es != nil {
						fixes = append(fixes, Fix{Message: fx.Message, Edits: es})
					} else {
						noFix = u.noFix()
					}
				}
				add(r.ID, u.ToFile(d.Offset), u, d.Message, fixes)
				if len(fixes) == 0 && noFix != "" && len(out) > 0 && out[len(out)-1].RuleID == r.ID {
					out[len(out)-1].NoFix = noFix
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
	// diags[i][j] are rule podRules[j]'s diagnostics of workload i.
	diags := make([][][]Diagnostic, len(in.Workloads))
	single := min(opts.Workers, len(in.Workloads)) <= 1
	parallel.Each(len(in.Workloads), opts.Workers, func() *runValues {
		if single {
			return run
		}
		return &runValues{}
	}, func(run *runValues, i int) {
		diags[i] = make([][]Diagnostic, len(podRules))
		for j, r := range podRules {
			p := &Pass{Config: opts.Config, Workload: in.Workloads[i], run: run}
			r.Check(p)
			diags[i][j] = p.diags
		}
	})
	for i, w := range in.Workloads {
		for j, r := range podRules {
			for _, d := range diags[i][j] {
				if suppressedObject(sups, w.Object, r.ID) {
					continue
				}
				addFinding(r.ID, d.Offset, w.Describe(), d.Severity, d.Message, d.Fixes)
			}
		}
	}
	for _, s := range sups {
		for _, id := range s.rules {
			if _, on := opts.enabled(id); on && !s.used[id] {
				add(SuppressionUnused, s.offset, s.unit, fmt.Sprintf("suppression of %s matches no finding; remove it", id), nil)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Offset != out[j].Offset {
			return out[i].Offset < out[j].Offset
		}
		return out[i].RuleID < out[j].RuleID
	})
	return out
}

// suppressedObject reports whether an annotation of object o suppresses
// rule id, marking the suppression used.
func suppressedObject(sups []*suppression, o *manifest.Object, id string) bool {
	hit := false
	for _, s := range sups {
		if !s.objects || s.object != o {
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

func suppressed(sups []*suppression, u *Unit, id string, line int) bool {
	hit := false
	for _, s := range sups {
		if s.objects {
			if u.Object == nil || s.object != u.Object {
				continue
			}
		} else if s.unit != u || s.line != line {
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

// suppressions collects the ignore comments of every unit and the ignore
// annotations of every object, reporting malformed ones.
func suppressions(in *Input, opts Options, add func(string, int, *Unit, string, []Fix)) []*suppression {
	var out []*suppression
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
			add(SuppressionInvalid, off, u, "suppression names no rule; write RULE and a reason", nil)
			return nil
		case reason == "":
			add(SuppressionInvalid, off, u, fmt.Sprintf("suppression of %s has no reason; say why the finding does not apply", strings.Join(s.rules, ",")), nil)
			return nil
		}
		for _, id := range s.rules {
			if opts.Known != nil && !opts.Known(id) {
				add(SuppressionInvalid, off, u, fmt.Sprintf("suppression names unknown rule %q", id), nil)
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
				s.objects, s.object = true, o
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

// Fixed returns src with the first fix of every finding applied, skipping
// fixes that overlap one already taken (a second run picks them up), and
// whether anything changed.
func Fixed(src []byte, fs []Finding) ([]byte, bool, error) {
	var taken []Edit
	for _, f := range fs {
		if len(f.Fixes) == 0 {
			continue
		}
		es := f.Fixes[0].Edits
		if textedit.Overlaps(taken, es) {
			continue
		}
		taken = append(taken, es...)
	}
	if len(taken) == 0 {
		return src, false, nil
	}
	out, err := textedit.Apply(src, taken)
	if err != nil {
		return nil, false, err
	}
	return out, string(out) != string(src), nil
}
