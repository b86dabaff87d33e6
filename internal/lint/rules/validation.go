package rules

import (
	"bytes"
	"errors"
	"regexp"
	"strconv"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/corefile"
	"github.com/k8slint/k8slint/internal/validate"
)

// validation is CoreDNS's verdict on a unit's Corefile (package validate
// runs every plugin's setup code), computed once per unit for the rules
// that read it. An override snippet is spliced into a minimal server
// block and the lines are mapped back.
var validation = lint.NewFact("coredns-validation", lint.ScopeCorefile, validateUnit)

func validateUnit(p *lint.Pass) validate.Result {
	if len(p.Corefile.Tokens) == 0 {
		return validate.Result{}
	}
	if !p.Unit.Snippet {
		return inPod(p, func(b []byte) []byte { return b })
	}
	r := inPod(p, spliced)
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
	lineMsg     = regexp.MustCompile(`(?s)^(.*?)` + validateName + `:(\d+) - (?:Error during parsing: )?(.*)$`)
	pluginMsg   = regexp.MustCompile(`plugin/([a-z0-9_]+)`)
	quotedValue = regexp.MustCompile(`"([^"]+)"`)
	servesMsg   = regexp.MustCompile(`^cannot serve (?:[a-z0-9]+://)?(.*):(\d+) - `)
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
		return f.Lines.Start(line)
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
		// The value the message quotes, inside that plugin's lines
		// (`time: missing unit in duration "3600"`), else the plugin.
		var quoted string
		if q := quotedValue.FindStringSubmatch(msg); q != nil {
			quoted = q[1]
		}
		// An option whose first argument it is wins over one that has it
		// later (`success 9984 3600` before `serve_stale 3600`).
		for _, firstOnly := range []bool{true, false} {
			f.Walk(func(_ *corefile.ServerBlock, d *corefile.Directive) {
				if off >= 0 || d.Parent == nil {
					return
				}
				top := d
				for top.Parent != nil {
					top = top.Parent
				}
				if top.Name.Text != m[1] || quoted == "" {
					return
				}
				for i, a := range d.Args {
					if a.Text == quoted && (i == 0 || !firstOnly) {
						off = d.Name.Offset
					}
				}
			})
		}
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
