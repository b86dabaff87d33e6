package rules

import "github.com/k8slint/k8slint/internal/lint"

// HealthWithoutLameduck reports health without a lameduck period.
var HealthWithoutLameduck = lint.Rule{
	ID:       "corefile-health-without-lameduck",
	Title:    "health without lameduck",
	Severity: lint.Info,
	Scope:    lint.ScopeCorefile,
	Doc: "Without lameduck, CoreDNS stops answering the moment it receives SIGTERM, while the Service still " +
		"sends it queries until endpoints are updated: every rollout drops queries, which clients see as " +
		"5-second timeouts.",
	Remediation: "Add `lameduck 5s` to the health block, as kubeadm does.",
	Source:      "health README (lameduck); kubeadm's `health { lameduck 5s }`",
	Silent:      "health sets lameduck; *.server snippets have no process of their own",
	Check: func(p *lint.Pass) {
		for _, h := range directives(p, "health") {
			if h.Child("lameduck") != nil {
				continue
			}
			p.Report(h.Name.Offset, "health has no lameduck: CoreDNS drops queries on every restart",
				lint.Fix{Message: "Add lameduck 5s", Edits: p.Corefile.AddOption(h, "lameduck 5s")})
		}
	},
}
