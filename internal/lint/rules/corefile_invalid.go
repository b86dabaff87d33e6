package rules

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/corefile"
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
		"structure explains it better (an unclosed block), that follows in brackets; where that reading is a token " +
		"run into its `{` (`example.com{`, coredns/coredns#7121), the fix puts the space in, offered only when " +
		"CoreDNS accepts the Corefile so fixed. Only what CoreDNS checks " +
		"before it opens listeners is covered: a port in use, an unreachable Kubernetes API or a forwarding loop " +
		"show up only at start-up. A `*.override` snippet (AKS coredns-custom, k3s) is not a Corefile of its own: " +
		"CoreDNS imports it into a server block of the main Corefile, so dnslint validates it spliced into a " +
		"minimal one, `.:53 {` on the line before its first line and `}` after its last, and maps line N of " +
		"that Corefile back to the snippet's line N-1 (the two added lines to its first and last line). What " +
		"only the main block can show (a plugin used in both) is not seen; a snippet whose braces do not balance is " +
		"often accepted spliced (the block's own `}` closes it) and is reported by corefile-malformed. CoreDNS " +
		"stops at its first error; dnslint leaves out the directive that error names and validates again, so " +
		"every error is reported (up to 8 past the first). A rejection on a line holding a removed plugin or " +
		"option (proxy, kubernetes upstream) is corefile-removed-option's finding, and an unknown directive " +
		"corefile-unknown-plugin's, each with its fix: one defect, one finding. An error on a line holding a " +
		"placeholder is not reported (the value filled in decides).",
	Remediation: "Fix the line the message names; `dnslint explain` on the other findings of that line often " +
		"says how.",
	Source:   "CoreDNS v1.15.0's own setup code (package validate)",
	Silent:   "CoreDNS accepts the Corefile; a rejection corefile-removed-option or corefile-unknown-plugin reports, or on a placeholder's line",
	Requires: []lint.Requirement{validation, removedOptions},
	Check: func(p *lint.Pass) {
		f := p.Corefile
		r := validation.Of(p)
		if r.Err == nil {
			return
		}
		errs := []string{r.Err.Error()}
		if !p.Unit.Snippet && len(f.Text) <= maxFurtherSize && onlyRunInBraces(f) {
			errs = append(errs, furtherErrors(p, r.Err.Error())...)
		}
		used := map[int]bool{}
		for _, e := range errs {
			line, msg := splitValidateError(e)
			off := offsetFor(f, line, msg)
			at, _ := f.Lines.Position(off)
			if onPlaceholderLine(f, at) || removedOn(p, line) || reportedElsewhere(p, line, msg) {
				continue // the value filled in decides; or a more specific rule reports it
			}
			// dnslint's reading of the structure, where it explains the
			// error: the last structural problem at or before its line
			// (or the first, for an error without a line).
			k := -1
			for i, pe := range f.Errors {
				if !used[i] && (pe.Line <= line && (k < 0 || pe.Line >= f.Errors[k].Line) || line == 0 && k < 0) {
					k = i
				}
			}
			if k < 0 && len(used) == 0 && len(f.Errors) > 0 {
				k = 0
			}
			var fixes []lint.Fix
			if k >= 0 {
				used[k] = true
				msg += fmt.Sprintf(" (dnslint reads line %d: %s)", f.Errors[k].Line, f.Errors[k].Msg)
				fixes = spaceFix(p, f.Errors[k])
			}
			p.Report(off, msg, fixes...)
		}
	},
}

// spaceFix is the fix of a token run into its "{" (e's suggestion, a
// space before the brace), offered only when CoreDNS accepts the Corefile
// so fixed: a fix CoreDNS would reject is never offered (another error
// left in the file withholds it too). Not for a Corefile with placeholders,
// whose text CoreDNS reads is not the file's.
func spaceFix(p *lint.Pass, e corefile.Error) []lint.Fix {
	f := p.Corefile
	if e.Space <= 0 || e.Space >= len(f.Src) || len(f.Placeholders) > 0 {
		return nil
	}
	fixed := make([]byte, 0, len(f.Src)+1)
	fixed = append(append(append(fixed, f.Src[:e.Space]...), ' '), f.Src[e.Space:]...)
	g := reparse(p, fixed)
	if len(g.Errors) > 0 {
		return nil
	}
	wrap := func(b []byte) []byte { return b }
	if p.Unit.Snippet {
		wrap = spliced
	}
	if inPodText(p, g, fixed, wrap).Err != nil {
		return nil
	}
	return []lint.Fix{{Message: "Put a space before the '{'", Edits: []lint.Edit{{Start: e.Space, End: e.Space, New: " "}}}}
}

// onlyRunInBraces reports whether dnslint read f's structure as written
// but for tokens run into their "{": then CoreDNS's next errors are the
// file's own, not echoes of unbalanced braces.
func onlyRunInBraces(f *corefile.File) bool {
	for _, e := range f.Errors {
		if !strings.Contains(e.Msg, "runs into its '{'") {
			return false
		}
	}
	return true
}

// maxFurtherErrors bounds how many more errors corefile-invalid looks for
// after CoreDNS's first: each costs a validation.
const maxFurtherErrors = 8

// maxFurtherSize is the largest Corefile searched past its first error:
// real Corefiles are a few kilobytes, and each search validates again.
const maxFurtherSize = 64 << 10

// furtherErrors finds the errors CoreDNS would report once the first is
// fixed: it leaves out the directive (with its block) the error names and
// validates again, as a linter that reports every typo, not only the one
// CoreDNS stops at.
func furtherErrors(p *lint.Pass, first string) []string {
	text := append([]byte(nil), p.Corefile.Text...)
	var out []string
	e := first
	for range maxFurtherErrors {
		line, msg := splitValidateError(e)
		g := reparse(p, text)
		if line == 0 {
			line, _ = g.Lines.Position(offsetFor(g, 0, msg))
		}
		start, end, ok := directiveSpan(g, line)
		if !ok {
			break
		}
		text = blank(text, start, end)
		r := inPodText(p, reparse(p, text), text, func(b []byte) []byte { return b })
		if r.Err == nil || r.Err.Error() == e {
			break
		}
		e = r.Err.Error()
		out = append(out, e)
	}
	return out
}

// directiveSpan is the byte range of the top-level directive of g whose
// lines (its block included) contain line n.
func directiveSpan(g *corefile.File, n int) (start, end int, ok bool) {
	if n <= 0 {
		return 0, 0, false
	}
	for _, sb := range g.Blocks {
		for _, d := range sb.Directives {
			last := d.Name.Line
			end := d.End()
			if d.Close != nil {
				last, end = d.Close.Line, d.Close.End
			}
			if d.Name.Line <= n && n <= last {
				return d.Name.Offset, end, true
			}
		}
	}
	return 0, 0, false
}

var (
	unknownDirectiveMsg = regexp.MustCompile(`^Unknown directive '([^']+)'`)
	unknownPropertyMsg  = regexp.MustCompile(`^plugin/([a-z0-9_]+): unknown property '([^']+)'`)
)

// reportedElsewhere reports whether CoreDNS's error msg at line is the
// one defect a more specific rule reports with its fix: an unknown plugin
// (corefile-unknown-plugin) or a removed plugin or option
// (corefile-removed-option). One defect, one finding.
func reportedElsewhere(p *lint.Pass, line int, msg string) bool {
	if m := unknownDirectiveMsg.FindStringSubmatch(msg); m != nil {
		for _, sb := range p.Corefile.Blocks {
			for _, d := range sb.Directives {
				if d.Name.Line == line && d.Name.Text == m[1] {
					return true
				}
			}
		}
	}
	name, option := "", ""
	if m := unknownDirectiveMsg.FindStringSubmatch(msg); m != nil {
		name = m[1]
	} else if m := unknownPropertyMsg.FindStringSubmatch(msg); m != nil {
		name, option = m[1], m[2]
	}
	if name != "" {
		_, _, removed := removedIn(p.Config.CoreDNSVersion, name, option)
		return removed
	}
	return false
}
