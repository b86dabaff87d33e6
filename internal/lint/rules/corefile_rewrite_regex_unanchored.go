package rules

import (
	"strings"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/corefile"
)

// RewriteRegexUnanchored reports a rewrite name regex that also matches
// longer names.
var RewriteRegexUnanchored = lint.Rule{
	ID:       "corefile-rewrite-regex-unanchored",
	Title:    "rewrite regex without anchors",
	Severity: lint.Info,
	Scope:    lint.ScopeCorefile,
	Doc: "rewrite's regex rules match anywhere in the queried name (Go's FindStringSubmatch on the fully " +
		"qualified name, trailing dot included): `api\\.example\\.com` also rewrites `api.example.com.evil.org` " +
		"and `myapi.example.com`, and a search-path candidate such as `api.example.com.default.svc.cluster.local` " +
		"is rewritten too. A pattern is anchored when it starts with `^` (or with `.*`, `(.*)`, `(.+)`, which " +
		"match from the start anyway) and ends with `$`. Best practice (info).",
	Remediation: "Anchor the pattern: `^` before it and `\\.$` after it (names end with a dot). The fix does so " +
		"when the pattern has no alternation.",
	Source: "rewrite README (regex rules match with FindStringSubmatch on the FQDN)",
	Silent: "the pattern starts with ^ (or .*, (.*), (.+)) and ends with $",
	Check: func(p *lint.Pass) {
		p.Corefile.Walk(func(_ *corefile.ServerBlock, d *corefile.Directive) {
			args := d.Args
			switch {
			case d.Parent == nil && d.Name.Text == "rewrite":
				if len(args) > 0 && (args[0].Text == "continue" || args[0].Text == "stop") {
					args = args[1:]
				}
				if len(args) == 0 || args[0].Text != "name" {
					return
				}
				args = args[1:]
			case d.Parent != nil && d.Parent.Parent == nil && d.Parent.Name.Text == "rewrite" && d.Name.Text == "name":
			default:
				return
			}
			if len(args) < 3 || !strings.EqualFold(args[0].Text, "regex") || args[1].Quoted {
				return
			}
			pat := args[1]
			start, end := anchoredStart(pat.Text), strings.HasSuffix(pat.Text, "$")
			if start && end {
				return
			}
			msg := "rewrite regex " + pat.Text + " has no anchor (^...$): it also matches longer names"
			if strings.Contains(pat.Text, "|") {
				p.Report(pat.Offset, msg)
				return
			}
			anchored := pat.Text
			if !start {
				anchored = "^" + anchored
			}
			if !end {
				if strings.HasSuffix(anchored, `\.`) {
					anchored += "$"
				} else {
					anchored += `\.$`
				}
			}
			p.Report(pat.Offset, msg, lint.Fix{Message: "Anchor the pattern as " + anchored, Edits: []lint.Edit{corefile.Replace(pat, anchored)}})
		})
	},
}

// anchoredStart reports whether a regex matches only from a name's start.
func anchoredStart(pat string) bool {
	for _, p := range []string{"^", "(^", ".*", "(.*)", "(.+)", ".+"} {
		if strings.HasPrefix(pat, p) {
			return true
		}
	}
	return false
}
