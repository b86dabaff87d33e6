package rules

import "github.com/k8slint/k8slint/internal/lint"

// ForwardNoMaxConcurrent reports forward without a bound on concurrent
// queries.
var ForwardNoMaxConcurrent = lint.Rule{
	ID:       "corefile-forward-no-max-concurrent",
	Title:    "forward without max_concurrent",
	Severity: lint.Info,
	Scope:    lint.ScopeCorefile,
	Doc: "Without max_concurrent, forward keeps every outstanding upstream query (each up to 5 s) in memory. " +
		"When the upstream slows down, CoreDNS grows until it is OOM-killed, taking cluster DNS with it. " +
		"kubeadm's Corefile sets max_concurrent 1000.",
	Remediation: "Add `max_concurrent 1000` to the forward block; excess queries get SERVFAIL instead of memory.",
	Source:      "forward README (max_concurrent); kubeadm's Corefile",
	Silent:      "forward sets max_concurrent; forwards outside the main blocks (stubs, *.server and *.override snippets)",
	Check: func(p *lint.Pass) {
		for _, f := range mainDirectives(p, "forward") {
			if f.Child("max_concurrent") != nil {
				continue
			}
			p.Report(f.Name.Offset, "forward has no max_concurrent: a slow upstream makes CoreDNS grow without bound",
				lint.Fix{Message: "Add max_concurrent 1000", Edits: p.Corefile.AddOption(f, "max_concurrent 1000")})
		}
	},
}
