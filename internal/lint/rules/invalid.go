package rules

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

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
	Doc: "The Corefile does not parse, a plugin's own setup code (the one in the CoreDNS release dnslint " +
		"links) rejects its configuration, or the servers cannot be assembled (two server blocks serve the same " +
		"zone on the same port): CoreDNS would refuse to start, or reload would silently keep the old " +
		"configuration. The message is CoreDNS's own, at the line CoreDNS names; where dnslint's reading of the " +
		"structure explains it better (an unclosed block), that follows in brackets. Only what CoreDNS checks " +
		"before it opens listeners is covered: a port in use, an unreachable Kubernetes API or a forwarding loop " +
		"show up only at start-up. A `*.override` snippet is not a Corefile of its own and is only checked for " +
		"structure.",
	Remediation: "Fix the line the message names; `dnslint explain` on the other findings of that line often " +
		"says how.",
	Check: func(p *lint.Pass) {
		f := p.Corefile
		if p.Unit.Snippet {
			for _, e := range f.Errors {
				p.Report(e.Offset, e.Msg)
			}
			return
		}
		r := validation(p)
		if r.Err == nil {
			return
		}
		line, msg := splitValidateError(r.Err.Error())
		if len(f.Errors) > 0 {
			e := f.Errors[0]
			msg += fmt.Sprintf(" (dnslint reads line %d: %s)", e.Line, e.Msg)
		}
		p.Report(offsetFor(f, line, msg), msg)
	},
}

// validation is CoreDNS's verdict on the unit's Corefile, computed once
// per unit for every rule that needs it.
func validation(p *lint.Pass) validate.Result {
	return p.Unit.Memo("validate", func() any {
		if len(p.Corefile.Tokens) == 0 {
			return validate.Result{}
		}
		return validate.Check(validateName, p.Corefile.Src)
	}).(validate.Result)
}

const validateName = "Corefile"

var (
	lineMsg   = regexp.MustCompile(`(?s)^(.*?)` + validateName + `:(\d+) - (?:Error during parsing: )?(.*)$`)
	pluginMsg = regexp.MustCompile(`plugin/([a-z0-9_]+)`)
	servesMsg = regexp.MustCompile(`^cannot serve (?:[a-z0-9]+://)?(.*):(\d+) - `)
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
	if m := servesMsg.FindStringSubmatch(msg); m != nil {
		// A zone served twice: blame the last key naming it.
		off := -1
		for _, sb := range f.Blocks {
			for _, k := range sb.Keys {
				if keyZone(k.Text) == m[1] {
					off = k.Offset
				}
			}
		}
		if off >= 0 {
			return off
		}
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

// keyZone is the zone of server key k as CoreDNS names it in messages:
// lower case, fully qualified, without scheme or port.
func keyZone(k string) string {
	if i := strings.Index(k, "://"); i >= 0 {
		k = k[i+3:]
	}
	k = strings.TrimSuffix(k, ",")
	if i := strings.LastIndexByte(k, ':'); i >= 0 {
		k = k[:i]
	}
	k = strings.ToLower(k)
	if !strings.HasSuffix(k, ".") {
		k += "."
	}
	return k
}
