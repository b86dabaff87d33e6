package rules

import (
	"regexp"
	"strconv"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/corefile"
	"github.com/k8slint/k8slint/internal/validate"
)

// Invalid reports what CoreDNS itself would reject at start-up: dnslint
// runs every plugin's own setup code of the linked release (validate).
var Invalid = lint.Rule{
	ID:       "corefile-invalid",
	Title:    "CoreDNS rejects the Corefile",
	Severity: lint.Error,
	Scope:    lint.ScopeCorefile,
	Doc: "The Corefile does not parse, or a plugin's own setup code (the one in the CoreDNS release dnslint " +
		"links) rejects its configuration: CoreDNS would refuse to start, or reload would silently keep the old " +
		"configuration. The message is CoreDNS's own.",
	Remediation: "Fix the line the message names; `dnslint explain` on the other findings of that line often " +
		"says how.",
	Check: func(p *lint.Pass) {
		f := p.Corefile
		for _, e := range f.Errors {
			p.Report(e.Offset, e.Msg)
		}
		if p.Unit.Snippet || len(f.Errors) > 0 || len(f.Tokens) == 0 {
			return
		}
		err := validate.Corefile(validateName, f.Src)
		if err == nil {
			return
		}
		line, msg := splitValidateError(err.Error())
		p.Report(offsetFor(f, line, msg), msg)
	},
}

const validateName = "Corefile"

var (
	lineMsg   = regexp.MustCompile(`(?s)^(.*?)` + validateName + `:(\d+) - Error during parsing: (.*)$`)
	pluginMsg = regexp.MustCompile(`plugin/([a-z0-9_]+)`)
)

// splitValidateError splits "[PREFIX]Corefile:LINE - Error during parsing: MSG"
// into the line and PREFIX+MSG.
func splitValidateError(s string) (int, string) {
	if m := lineMsg.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[2])
		return n, m[1] + m[3]
	}
	return 0, s
}

// offsetFor places a validation error: at its line's first token, or at
// the directive of the plugin the message names, or at the start.
func offsetFor(f *corefile.File, line int, msg string) int {
	if line > 0 {
		for _, t := range f.Tokens {
			if t.Line >= line {
				return t.Offset
			}
		}
		return f.LineStart(line)
	}
	if m := pluginMsg.FindStringSubmatch(msg); m != nil {
		off := -1
		f.Walk(func(_ *corefile.ServerBlock, d *corefile.Directive) {
			if off < 0 && d.Parent == nil && d.Name.Text == m[1] {
				off = d.Name.Offset
			}
		})
		if off >= 0 {
			return off
		}
	}
	if len(f.Tokens) > 0 {
		return f.Tokens[0].Offset
	}
	return 0
}
