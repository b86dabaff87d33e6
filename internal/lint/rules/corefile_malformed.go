package rules

import "github.com/k8slint/k8slint/internal/lint"

// Malformed reports Corefile structure that CoreDNS accepts but reads
// differently than it looks.
var Malformed = lint.Rule{
	ID:       "corefile-malformed",
	Title:    "CoreDNS reads the Corefile differently than it looks",
	Severity: lint.Warning,
	Scope:    lint.ScopeCorefile,
	Doc: "CoreDNS starts with this Corefile, but its parser reads the structure differently than the layout " +
		"suggests: a stray `}` after the last block becomes a server block for the zone `}.`, `example.org{` " +
		"(no space before the brace) is a zone named `example.org{.`, and a block's directives end up in " +
		"another block. Nothing fails; the configuration simply is not the one written. In a `*.override` snippet " +
		"an unclosed block swallows the `}` of the server block it is imported into. (When CoreDNS rejects " +
		"the file, corefile-invalid reports it instead.)",
	Remediation: "Balance the braces and put a space between a server key or directive and its `{`.",
	Source:      "caddy's Corefile lexer (tokens split on white space, as CoreDNS reads them)",
	Silent:      "the structure reads as it looks; CoreDNS rejects the file (corefile-invalid)",
	Requires:    []lint.Requirement{validation},
	Check: func(p *lint.Pass) {
		f := p.Corefile
		if len(f.Errors) == 0 || validation.Of(p).Err != nil {
			return
		}
		for _, e := range f.Errors {
			p.Report(e.Offset, e.Msg)
		}
	},
}
