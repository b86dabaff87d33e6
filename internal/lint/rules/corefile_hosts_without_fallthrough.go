package rules

import "github.com/k8slint/k8slint/internal/lint"

// HostsWithoutFallthrough reports hosts that answers NXDOMAIN for every
// name it does not list.
var HostsWithoutFallthrough = lint.Rule{
	ID:       "corefile-hosts-without-fallthrough",
	Title:    "hosts without fallthrough",
	Severity: lint.Warning,
	Scope:    lint.ScopeCorefile,
	Doc: "hosts without fallthrough answers NXDOMAIN for every name in its zones (by default all names) that " +
		"its file does not list, so the plugins after it (kubernetes, forward) never see those queries.",
	Remediation: "Add `fallthrough` to the hosts block.",
	Check: func(p *lint.Pass) {
		for _, h := range directives(p, "hosts") {
			if h.Child("fallthrough") != nil {
				continue
			}
			p.Report(h.Name.Offset, "hosts has no fallthrough: names it does not list get NXDOMAIN",
				lint.Fix{Message: "Add fallthrough", Edits: p.Corefile.AddOption(h, "fallthrough")})
		}
	},
}
