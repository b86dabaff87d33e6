package rules

import "github.com/k8slint/k8slint/internal/lint"

// NoErrors reports a forwarding server block whose upstream failures go
// unlogged.
var NoErrors = lint.Rule{
	ID:       "corefile-no-errors",
	Title:    "forwarding server block without errors",
	Severity: lint.Info,
	Scope:    lint.ScopeCorefile,
	Doc: "forward's metrics record only exchanges that were answered: an upstream that times out or refuses " +
		"connections appears in no forward counter, only in the log lines of the errors plugin. A server " +
		"block that forwards without errors turns those failures into silent SERVFAIL answers (k8slint, where " +
		"it runs, still counts them in coredns_k8slint_upstream_failures_total).",
	Remediation: "Add `errors` to the server block.",
	Source:      "FACTS.md, forward (failures appear only in errors logs)",
	Silent:      "the main blocks have errors; stubs and snippets",
	Check: func(p *lint.Pass) {
		for _, sb := range mainBlocks(p) {
			if sb.Has("errors") || !sb.Has("forward") {
				continue
			}
			p.Report(blockPos(sb), "server block forwards without errors: upstream timeouts and refused connections are logged nowhere",
				addDirectiveFix(p, sb, "Add errors", "errors"))
		}
	},
}
