package rules

import (
	"fmt"

	"github.com/k8slint/k8slint/internal/lint"
)

// Invalid reports what CoreDNS itself would reject at start-up: dnslint
// runs every plugin's own setup code of the linked release (validate).
var Invalid = lint.Rule{
	ID:       "corefile-invalid",
	Title:    "CoreDNS rejects the Corefile",
	Severity: lint.Error,
	Scope:    lint.ScopeCorefile,
	Doc: "The Corefile does not parse, a plugin's own setup code (the one in the CoreDNS release dnslint " +
		"links) rejects its configuration, or the servers cannot be assembled (two server blocks serve the same " +
		"zone on the same port): CoreDNS would refuse to start, or reload would silently keep the old " +
		"configuration. The message is CoreDNS's own, at the line CoreDNS names; where dnslint's reading of the " +
		"structure explains it better (an unclosed block), that follows in brackets. Only what CoreDNS checks " +
		"before it opens listeners is covered: a port in use, an unreachable Kubernetes API or a forwarding loop " +
		"show up only at start-up. A `*.override` snippet (AKS coredns-custom, k3s) is not a Corefile of its own: " +
		"CoreDNS imports it into a server block of the main Corefile, so dnslint validates it spliced into a " +
		"minimal one, `.:53 {` on the line before its first line and `}` after its last, and maps line N of " +
		"that Corefile back to the snippet's line N-1 (the two added lines to its first and last line). What " +
		"only the main block can show (a plugin used in both) is not seen; a snippet whose braces do not balance is " +
		"often accepted spliced (the block's own `}` closes it) and is reported by corefile-malformed. A rejection " +
		"on a line holding a removed plugin or option (proxy, kubernetes upstream) is corefile-removed-option's " +
		"finding, with its fix: one defect, one finding.",
	Remediation: "Fix the line the message names; `dnslint explain` on the other findings of that line often " +
		"says how.",
	Source:   "CoreDNS v1.15.0's own setup code (package validate)",
	Silent:   "CoreDNS accepts the Corefile; a rejection on a line corefile-removed-option reports",
	Requires: []lint.Requirement{validation, removedOptions},
	Check: func(p *lint.Pass) {
		f := p.Corefile
		r := validation.Of(p)
		if r.Err == nil {
			return
		}
		line, msg := splitValidateError(r.Err.Error())
		if removedOn(p, line) {
			return // corefile-removed-option reports it, with its fix
		}
		if len(f.Errors) > 0 {
			e := f.Errors[0]
			msg += fmt.Sprintf(" (dnslint reads line %d: %s)", e.Line, e.Msg)
		}
		p.Report(offsetFor(f, line, msg), msg)
	},
}
