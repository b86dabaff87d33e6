package rules

import (
	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/corefile"
)

// Placeholder reports unrendered template and placeholder text, once per
// input; the Corefile loader reads each placeholder as a neutral value so
// that the other rules judge the rest.
var Placeholder = lint.Rule{
	ID:       "corefile-placeholder",
	Title:    "unrendered template or placeholder",
	Severity: lint.Info,
	Scope:    lint.ScopeCorefile,
	Doc: "The Corefile is a template, not what CoreDNS will read: it holds Go/Helm actions (`{{ .DNSDomain }}`, " +
		"`{{- if ... }}` lines), sed or envsubst placeholders (`__PILLAR__DNS__DOMAIN__`, `$DNS_DOMAIN`, " +
		"`${VAR}`, bare `CLUSTER_DOMAIN`-style tokens, salt's `dns_domain`), k3s's `%{CLUSTER_DOMAIN}%` or a " +
		"documentation stand-in (`<your-domain>`). One finding per input, on the first placeholder, names them. " +
		"The rest is linted as if each placeholder held a neutral valid value (a domain, `cluster.local` for a " +
		"cluster domain, an address, nothing for a template's control action or a line of actions), and " +
		"CoreDNS's setup code validates that text; an error on a line holding a placeholder is not reported, as " +
		"the rendered value decides it. CoreDNS's own `{$ENV}` references are not placeholders. Silent on " +
		"rendered Corefiles.",
	Remediation: "Nothing to change if the file is a template: lint the rendered Corefile too (for example " +
		"`helm template ... | dnslint -`) to check the values that will be filled in.",
	Source: "issue 9 (item 1): templates and sed/envsubst placeholders of kubeadm, kubernetes/kubernetes's " +
		"addon, k3s, RKE2, OpenShift and NodeLocal DNSCache; CoreDNS's own setup code validates the neutral values",
	Silent: "the input holds no template action or placeholder; actions in comments; CoreDNS's own {$ENV} and " +
		"quoted template answers",
	Check: func(p *lint.Pass) {
		ps := p.Corefile.Placeholders
		if len(ps) == 0 || p.Input.Manifest != nil && len(p.Input.Manifest.Templates) > 0 {
			return // none; or the manifest is a template, reported by the driver
		}
		for _, u := range p.Input.Units {
			if u == p.Unit {
				break
			}
			if len(u.Corefile.Placeholders) > 0 {
				return // one finding per input
			}
		}
		var names []string
		for _, u := range p.Input.Units {
			for _, x := range u.Corefile.Placeholders {
				names = append(names, x.Text)
			}
		}
		p.Report(ps[0].Offset, lint.PlaceholderMessage(names))
	},
}

// onPlaceholderLine reports whether line n of f holds a placeholder: what
// CoreDNS says about that line depends on the value filled in.
func onPlaceholderLine(f *corefile.File, n int) bool {
	for _, x := range f.Placeholders {
		l, _ := f.Lines.Position(x.Offset)
		if l == n {
			return true
		}
	}
	return false
}
