package lint

import "fmt"

// A Fact is what several rules need to know about an input, a Corefile
// unit or a pod spec and is costly to work out: CoreDNS's verdict on a
// Corefile, the resolv.conf and query costs of a pod. As in go/analysis
// (Analyzer.Requires, Pass.ResultOf), a rule names the facts it reads in
// Rule.Requires; Run computes each fact an enabled rule requires once per
// input, unit or pod, before the rules that read it run, and a rule reads
// it typed with Of.
type Fact[T any] struct{ f *fact }

// fact is the untyped part of a Fact, which the driver handles.
type fact struct {
	name     string
	scope    Scope
	requires []Requirement
	compute  func(*Pass) any
}

// Requirement is a fact, of whatever type, as a rule or another fact
// names it in its requirements.
type Requirement interface{ fact() *fact }

func (f *Fact[T]) fact() *fact { return f.f }

// NewFact declares a fact computed by compute, which may read the facts
// in requires. The scope says what one value covers: ScopeInput, a whole
// input (computed once before any unit or pod is checked, and shared by
// the goroutines that check pods, so it must be safe for concurrent use);
// ScopeCorefile, one Corefile unit; ScopeWorkload, one pod spec. A fact
// may require facts of its own scope or of ScopeInput.
func NewFact[T any](name string, scope Scope, compute func(*Pass) T, requires ...Requirement) *Fact[T] {
	return &Fact[T]{&fact{name: name, scope: scope, requires: requires, compute: func(p *Pass) any { return compute(p) }}}
}

// Of returns the fact for what p looks at. It panics when the rule or fact
// p runs for does not name f in its requirements: the driver computes only
// what is required.
func (f *Fact[T]) Of(p *Pass) T {
	declared := false
	for _, r := range p.requires {
		declared = declared || r.fact() == f.f
	}
	if declared {
		for _, v := range p.facts {
			if v.f == f.f {
				return v.v.(T)
			}
		}
	}
	who := "rule " + p.running
	if p.fact {
		who = "fact " + p.running
	}
	panic(fmt.Sprintf("lint: %s reads fact %s without requiring it", who, f.f.name))
}

// factValue is one computed fact.
type factValue struct {
	f *fact
	v any
}

// factPlan lists the facts the enabled rules need, each after the facts
// it requires, by scope.
type factPlan map[Scope][]*fact

func planFacts(rules []Rule) factPlan {
	plan := factPlan{}
	seen := map[*fact]bool{}
	var visit func(need Scope, who string, r Requirement)
	visit = func(need Scope, who string, r Requirement) {
		f := r.fact()
		if f.scope != ScopeInput && f.scope != need {
			panic(fmt.Sprintf("lint: %s (scope %s) requires fact %s of scope %s", who, need, f.name, f.scope))
		}
		if seen[f] {
			return
		}
		seen[f] = true
		for _, d := range f.requires {
			visit(f.scope, "fact "+f.name, d)
		}
		plan[f.scope] = append(plan[f.scope], f)
	}
	for _, r := range rules {
		for _, req := range r.Requires {
			visit(r.Scope, "rule "+r.ID, req)
		}
	}
	return plan
}

// computeFacts computes facts for what p looks at and keeps them in p.
func (p *Pass) computeFacts(facts []*fact) {
	for _, f := range facts {
		p.running, p.fact, p.requires, p.diags = f.name, true, f.requires, p.diags[:0]
		v := f.compute(p)
		if len(p.diags) > 0 {
			panic(fmt.Sprintf("lint: fact %s reports a diagnostic; only rules report", f.name))
		}
		p.facts = append(p.facts, factValue{f, v})
	}
}
