package rules

import (
	"strings"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/corefile"
)

// RewriteWithoutAnswer reports rewrite name without an answer rewrite.
var RewriteWithoutAnswer = lint.Rule{
	ID:       "corefile-rewrite-without-answer",
	Title:    "rewrite name without answer rewrite",
	Severity: lint.Warning,
	Scope:    lint.ScopeCorefile,
	Doc: "`rewrite name prefix|suffix|substring|regex` changes the question CoreDNS resolves; without `answer auto` " +
		"(or `answer name`) the response carries the rewritten name, which does not match what the client asked, " +
		"and many resolvers (glibc, musl, Go) discard it (rewrite README, \"Response rewrites\"). An exact " +
		"rewrite (`rewrite name A B`, or the `exact` type) reverts the answer's name by itself and is never " +
		"reported. The fix appends `answer auto` only after an explicit type: CoreDNS 1.15.0 refuses " +
		"`rewrite name A B answer auto` (FACTS.md, rewrite).",
	Remediation: "Append `answer auto` to the rewrite line, or add an `answer name FROM TO` rule.",
	Source:      "rewrite README (\"Response rewrites\"); FACTS.md, rewrite",
	Silent:      "exact rewrites (`rewrite name A B`), and rewrites with an answer clause",
	Check: func(p *lint.Pass) {
		for _, r := range directives(p, "rewrite") {
			args := r.Args
			if len(args) > 0 && (args[0].Text == "continue" || args[0].Text == "stop") {
				args = args[1:]
			}
			if len(args) == 0 || args[0].Text != "name" || hasAnswer(r) || rewriteNameType(args[1:]) == "exact" {
				continue
			}
			var fixes []lint.Fix
			if r.Open == nil {
				e := r.End()
				fixes = append(fixes, lint.Fix{Message: "Add answer auto", Edits: []lint.Edit{{Start: e, End: e, New: " answer auto"}}})
			}
			p.Report(r.Name.Offset, "rewrite name without answer auto: answers carry the rewritten name and clients may reject them", fixes...)
		}
	},
}

func hasAnswer(r *corefile.Directive) bool {
	for _, a := range r.Args {
		if a.Text == "answer" {
			return true
		}
	}
	return r.Child("answer") != nil
}

// rewriteNameType is the match type of a `rewrite name` rule given its
// arguments after `name`: exact when only FROM TO are written, as CoreDNS
// reads them.
func rewriteNameType(args []corefile.Token) string {
	if len(args) <= 2 {
		return "exact"
	}
	return strings.ToLower(args[0].Text)
}
