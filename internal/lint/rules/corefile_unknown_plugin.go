package rules

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/coredns/coredns/core/dnsserver"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/corefile"
	"github.com/k8slint/k8slint/plugin/k8slint"
)

// UnknownPlugin reports directives CoreDNS does not know, with a guess.
var UnknownPlugin = lint.Rule{
	ID:       "corefile-unknown-plugin",
	Title:    "unknown plugin",
	Severity: lint.Error,
	Scope:    lint.ScopeCorefile,
	Doc: "The directive is not a plugin of the CoreDNS build dnslint links (every stock plugin plus k8slint). " +
		"Directive names are case-sensitive (`Forward` is not `forward`) and must be separated from `{` and from " +
		"their first argument by a space (`forward.` is `forward .`, `cache.30` is `cache 30`). CoreDNS refuses " +
		"to start at the first one; dnslint reports every one with its correction. A removed plugin (proxy, " +
		"federation) is corefile-removed-option's finding. In an unrendered template, a directive with no close " +
		"name that the template emits only under `{{ if }}` or `{{ with }}` (OpenShift's `ocp_dnsnameresolver`) " +
		"is taken to be the distribution's own plugin and not reported, and a directive named by a placeholder " +
		"(`{{ .name }}`) is whatever the value says.",
	Remediation: "Correct the name (dnslint suggests the closest plugin), or use a CoreDNS build that includes the plugin.",
	Source:      "CoreDNS plugin.cfg (the directive list) plus k8slint",
	Silent:      "known directives, imports, env placeholders, removed plugins (corefile-removed-option), a directive named by a placeholder, and a plugin with no close name inside a template's {{ if }} or {{ with }} (a distribution's own build)",
	Requires:    []lint.Requirement{removedOptions},
	Check: func(p *lint.Pass) {
		known := knownPlugins()
		for _, sb := range p.Corefile.Blocks {
			if len(sb.Keys) > 0 && strings.HasPrefix(sb.Keys[0].Text, "(") {
				continue // a snippet definition: checked where imported
			}
			for _, d := range sb.Directives {
				name := d.Name.Text
				if known[name] || name == "import" || strings.Contains(name, "{$") || removedOn(p, d.Name.Line) || tokenPlaceholder(p.Corefile, d.Name) {
					continue
				}
				if plugin, repl := runIn(name, known); plugin != "" {
					p.Report(d.Name.Offset, fmt.Sprintf("unknown plugin %q; did you mean %q?", name, repl),
						lint.Fix{Message: fmt.Sprintf("Replace %s with %s", name, repl), Edits: []lint.Edit{corefile.Replace(d.Name, repl)}})
					continue
				}
				guess := suggest(name, known)
				if guess == "" {
					if inTemplateCondition(p.Corefile, d.Name.Offset) {
						continue // the template emits it only for an image that has it
					}
					p.Reportf(d.Name, "unknown plugin %q", name)
					continue
				}
				p.Report(d.Name.Offset, fmt.Sprintf("unknown plugin %q; did you mean %q?", name, guess),
					lint.Fix{Message: fmt.Sprintf("Replace %s with %s", name, guess), Edits: []lint.Edit{fixName(d, guess)}})
			}
		}
	},
}

// templateOpen is a template action that opens a block its {{ end }}
// closes; templateCond one whose block is emitted only on a condition.
var (
	templateOpen = regexp.MustCompile(`^\{\{-?\s*(?:if|with|range|define|block)\b`)
	templateCond = regexp.MustCompile(`^\{\{-?\s*(?:if|with)\b`)
	templateEnd  = regexp.MustCompile(`^\{\{-?\s*end\b`)
)

// inTemplateCondition reports whether offset off of f lies inside a
// template's {{ if }} or {{ with }} block: text the template emits only
// when a value says so, such as a plugin of a distribution's own build
// (OpenShift's ocp_dnsnameresolver).
func inTemplateCondition(f *corefile.File, off int) bool {
	var open []bool
	for _, x := range f.Placeholders {
		if x.Offset >= off {
			break
		}
		switch {
		case templateEnd.MatchString(x.Text):
			if len(open) > 0 {
				open = open[:len(open)-1]
			}
		case templateOpen.MatchString(x.Text):
			open = append(open, templateCond.MatchString(x.Text))
		}
	}
	for _, c := range open {
		if c {
			return true
		}
	}
	return false
}

// tokenPlaceholder reports whether t holds a placeholder: a directive
// named by a template (Helm's {{ .name }}) is whatever the value says.
func tokenPlaceholder(f *corefile.File, t corefile.Token) bool {
	for _, x := range f.Placeholders {
		if x.Offset >= t.Offset && x.Offset < t.End {
			return true
		}
	}
	return false
}

// fixName renames d; "forward{" becomes "forward {".
func fixName(d *corefile.Directive, guess string) lint.Edit {
	if strings.HasSuffix(d.Name.Text, "{") {
		guess += " {"
	}
	return corefile.Replace(d.Name, guess)
}

var (
	knownOnce sync.Once
	known     map[string]bool
)

func knownPlugins() map[string]bool {
	knownOnce.Do(func() {
		known = map[string]bool{k8slint.Name: true}
		for _, d := range dnsserver.Directives {
			known[d] = true
		}
	})
	return known
}

// suggest returns the known plugin closest to name: a case-insensitive
// match, a name glued to "{", or one within edit distance 2.
func suggest(name string, known map[string]bool) string {
	base := strings.TrimSuffix(name, "{")
	if base != name && known[base] {
		return base
	}
	best, bestD := "", 3
	lower := strings.ToLower(base)
	for k := range known {
		if strings.EqualFold(k, base) {
			return k
		}
		// Within distance 2 only if the lengths are too.
		if len(lower) > len(k)+2 || len(k) > len(lower)+2 {
			continue
		}
		if d := distance(lower, k); d < bestD || d == bestD && k < best {
			best, bestD = k, d
		}
	}
	if bestD > 2 || len(base) < 4 {
		return ""
	}
	return best
}

// runIn splits a plugin name run into its argument: `forward.` is
// `forward .`, `cache30` is `cache 30`, and `cache.30` (a dot where a space
// belongs) is `cache 30`. It returns the plugin and the corrected text,
// or "" when name does not start with a known plugin.
func runIn(name string, known map[string]bool) (string, string) {
	best := ""
	for k := range known {
		if len(k) > len(best) && len(name) > len(k) && strings.HasPrefix(name, k) {
			best = k
		}
	}
	if best == "" {
		return "", ""
	}
	rest := name[len(best):]
	switch c := rest[0]; {
	case rest == ".":
		return best, best + " ."
	case c == '.' && len(rest) > 1 && (rest[1] >= '0' && rest[1] <= '9' || rest[1] == '/'):
		return best, best + " " + rest[1:]
	case c >= '0' && c <= '9', c == '/', c == ':', c == '.':
		return best, best + " " + rest
	}
	return "", ""
}

// distance is the Levenshtein distance.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
