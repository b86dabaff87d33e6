package rules

import "github.com/k8slint/k8slint/internal/lint"

// Debug reports the debug plugin.
var Debug = lint.Rule{
	ID:       "corefile-debug",
	Title:    "debug enabled",
	Severity: lint.Info,
	Scope:    lint.ScopeCorefile,
	Doc: "`debug` turns off CoreDNS's recovery from panics (debug README): a panic in any plugin, on any query, " +
		"then kills the whole server, and with it the cluster's DNS until the pod restarts. It is meant for " +
		"debugging a plugin, not for a cluster's Corefile. Best practice (info). Reported in *.override snippets " +
		"too: they are spliced into the main server block.",
	Remediation: "Remove `debug`; use `log` or `errors` to see queries and failures.",
	Source:      "debug README (\"disables the automatic recovery upon a crash\")",
	Silent:      "no `debug` line",
	Check: func(p *lint.Pass) {
		for _, d := range directives(p, "debug") {
			p.Report(d.Name.Offset, "debug turns off panic recovery: a panic in any plugin kills the server",
				lint.Fix{Message: "Remove debug", Edits: []lint.Edit{p.Corefile.DeleteLine(d)}})
		}
	},
}
