package rules

import (
	"fmt"

	"github.com/k8slint/k8slint/internal/lint"
)

// PodDNSConfigValueNotString reports a dnsConfig option value written as
// a YAML number or boolean.
var PodDNSConfigValueNotString = lint.Rule{
	ID:       "pod-dnsconfig-value-not-string",
	Title:    "dnsConfig option value is not a string",
	Severity: lint.Error,
	Scope:    lint.ScopeWorkload,
	Doc: "`PodDNSConfigOption.value` is a string. `value: 2` is a YAML number, and the API server rejects the " +
		"object (kubectl: cannot unmarshal number into Go struct field PodDNSConfigOption.value of type " +
		"string), so the pod never starts.",
	Remediation: "Quote the value: `value: \"2\"` (the fix does).",
	Source:      "Kubernetes API PodDNSConfigOption; FACTS.md, kubelet",
	Silent:      "values written as YAML strings",
	Check: func(p *lint.Pass) {
		w := p.Workload
		if w.DNSConfig == nil {
			return
		}
		for _, o := range w.DNSConfig.Options {
			v := o.Value
			if v == nil || v.Node.Tag == "!!str" || v.Node.Tag == "!!null" {
				continue
			}
			what := map[string]string{"!!int": "a number", "!!float": "a number", "!!bool": "a boolean"}[v.Node.Tag]
			if what == "" {
				what = "not a string"
			}
			if v.Node.Kind != 8 { // yaml.ScalarNode
				p.Report(v.Offset, fmt.Sprintf("dnsConfig option %s has a value that is not a string: %s", o.Name.Value, rejected))
				continue
			}
			p.Report(v.Offset, fmt.Sprintf("dnsConfig option %s has value %s, %s; PodDNSConfigOption.value is a string: %s", o.Name.Value, v.Value, what, rejected),
				fix(fmt.Sprintf("Quote the value %q", v.Value), w.Quote(*v))...)
		}
	},
}
