package lint_test

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/k8slint/k8slint/internal/lint"
)

const twoPods = `apiVersion: v1
kind: Pod
metadata: {name: a}
spec: {containers: [{name: c, image: nginx}]}
---
apiVersion: v1
kind: Pod
metadata: {name: b}
spec: {containers: [{name: c, image: nginx}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: coredns}
data:
  Corefile: |
    .:53 {
        forward . 10.0.0.1
    }
`

// factRules returns two workload rules and one Corefile rule that read
// facts, and counters of how often each fact was computed.
func factRules() (rules []lint.Rule, inputs, pods, units *atomic.Int32) {
	inputs, pods, units = new(atomic.Int32), new(atomic.Int32), new(atomic.Int32)
	perInput := lint.NewFact("per-input", lint.ScopeInput, func(p *lint.Pass) string {
		inputs.Add(1)
		return p.Input.Path
	})
	perPod := lint.NewFact("per-pod", lint.ScopeWorkload, func(p *lint.Pass) string {
		pods.Add(1)
		return perInput.Of(p) + ": " + p.Workload.Name
	}, perInput)
	perUnit := lint.NewFact("per-unit", lint.ScopeCorefile, func(p *lint.Pass) int {
		units.Add(1)
		return len(p.Corefile.Tokens)
	})
	pod := func(id string) lint.Rule {
		return lint.Rule{ID: id, Scope: lint.ScopeWorkload, Requires: []lint.Requirement{perPod}, Check: func(p *lint.Pass) {
			p.Report(p.Workload.SpecOffset, id+" sees "+perPod.Of(p))
		}}
	}
	unit := lint.Rule{ID: "unit", Scope: lint.ScopeCorefile, Requires: []lint.Requirement{perUnit}, Check: func(p *lint.Pass) {
		p.Reportf(p.Corefile.Tokens[0], "%d tokens", perUnit.Of(p))
	}}
	return []lint.Rule{pod("first"), pod("second"), unit}, inputs, pods, units
}

func TestTheDriverComputesEachRequiredFactOncePerInputUnitAndPod(t *testing.T) {
	for _, workers := range []int{1, 4} {
		rules, inputs, pods, units := factRules()
		in, err := lint.Load("in.yaml", []byte(twoPods))
		if err != nil {
			t.Fatal(err)
		}
		fs := lint.Run(in, lint.Options{Rules: rules, Workers: workers})
		var got []string
		for _, f := range fs {
			got = append(got, f.Message)
		}
		want := "first sees in.yaml: a|second sees in.yaml: a|first sees in.yaml: b|second sees in.yaml: b|6 tokens"
		if strings.Join(got, "|") != want {
			t.Errorf("%d workers: findings %q, want %q", workers, strings.Join(got, "|"), want)
		}
		if inputs.Load() != 1 || pods.Load() != 2 || units.Load() != 1 {
			t.Errorf("%d workers: computed per input %d, per pod %d, per unit %d times; want 1, 2, 1", workers, inputs.Load(), pods.Load(), units.Load())
		}
	}
}

func TestAFactNoEnabledRuleRequiresIsNotComputed(t *testing.T) {
	rules, inputs, pods, units := factRules()
	in, _ := lint.Load("in.yaml", []byte(twoPods))
	lint.Run(in, lint.Options{Rules: rules[2:]})
	if inputs.Load() != 0 || pods.Load() != 0 || units.Load() != 1 {
		t.Errorf("computed per input %d, per pod %d, per unit %d times; want 0, 0, 1", inputs.Load(), pods.Load(), units.Load())
	}
}

func TestReadingAFactWithoutRequiringItPanics(t *testing.T) {
	rules, _, _, _ := factRules()
	sneaky := rules[0]
	sneaky.ID, sneaky.Requires = "sneaky", nil
	in, _ := lint.Load("in.yaml", []byte(twoPods))
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "rule sneaky reads fact per-pod without requiring it") {
			t.Errorf("recovered %v", r)
		}
	}()
	lint.Run(in, lint.Options{Rules: []lint.Rule{rules[1], sneaky}})
}
