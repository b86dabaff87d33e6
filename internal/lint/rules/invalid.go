package rules

import (
	"bytes"
	"errors"
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
		"show up only at start-up. A `*.override` snippet (AKS coredns-custom, k3s) is not a Corefile of its own: " +
		"CoreDNS imports it into a server block of the main Corefile, so dnslint validates it spliced into a " +
		"minimal one, `.:53 {` on the line before its first line and `}` after its last, and maps line N of " +
		"that Corefile back to the snippet's line N-1 (the two added lines to its first and last line). What " +
		"only the main block can show (a plugin used in both) is not seen; a snippet whose braces do not balance is " +
		"often accepted spliced (the block's own `}` closes it) and is reported by corefile-malformed.",
	Remediation: "Fix the line the message names; `dnslint explain` on the other findings of that line often " +
		"says how.",
	Check: func(p *lint.Pass) {
		f := p.Corefile
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
// per unit for every rule that needs it. An override snippet is spliced
// into a minimal server block and the lines are mapped back.
func validation(p *lint.Pass) validate.Result {
	return p.Unit.Memo("validate", func() any {
		if len(p.Corefile.Tokens) == 0 {
			return validate.Result{}
		}
		if !p.Unit.Snippet {
			return validate.Check(validateName, p.Corefile.Src)
		}
		r := validate.Check(validateName, spliced(p.Corefile.Src))
		last := bytes.Count(p.Corefile.Src, []byte("\n")) + 1
		if len(p.Corefile.Src) > 0 && p.Corefile.Src[len(p.Corefile.Src)-1] == '\n' {
			last--
		}
		back := func(n int) int { return min(max(n-1, 1), max(last, 1)) }
		if r.Err != nil {
			r.Err = errors.New(mapLines(r.Err.Error(), back))
		}
		for i, l := range r.Logs {
			r.Logs[i] = mapLines(l, back)
		}
		if r.Refused != nil && r.Refused.File == validateName {
			rf := *r.Refused
			rf.Line = back(rf.Line)
			r.Refused = &rf
		}
		return r
	}).(validate.Result)
}

const validateName = "Corefile"

// spliced puts an override snippet into a minimal server block, as the
// main Corefile's `import` would: one line before it, one after.
func spliced(snippet []byte) []byte {
	out := make([]byte, 0, len(snippet)+16)
	out = append(out, ".:53 {\n"...)
	out = append(out, snippet...)
	if len(snippet) == 0 || snippet[len(snippet)-1] != '\n' {
		out = append(out, '\n')
	}
	return append(out, "}\n"...)
}

var corefileLine = regexp.MustCompile(validateName + `:(\d+)`)

// mapLines rewrites the "Corefile:N" references of msg with back(N).
func mapLines(msg string, back func(int) int) string {
	return corefileLine.ReplaceAllStringFunc(msg, func(m string) string {
		n, err := strconv.Atoi(m[len(validateName)+1:])
		if err != nil {
			return m
		}
		return validateName + ":" + strconv.Itoa(back(n))
	})
}

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
