package rules

import (
	"fmt"
	"strings"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/corefile"
)

// MultisocketIgnored reports multisocket in a server block that is not the
// first on its address.
var MultisocketIgnored = lint.Rule{
	ID:       "corefile-multisocket-ignored",
	Title:    "multisocket ignored in a later block",
	Severity: lint.Warning,
	Scope:    lint.ScopeCorefile,
	Doc: "The number of sockets multisocket opens for a listen address is taken from the first server block that " +
		"binds to that address; a `multisocket` in a later block on the same port and address changes nothing " +
		"(multisocket README, \"Limitations\"; coredns/coredns#7621). The server then runs with the first " +
		"block's setting (one socket when it has none), which is not what the later line asks for. Silent when " +
		"the later block asks for what the first one already sets.",
	Remediation: "Move the `multisocket` line into the first server block on that address.",
	Source:      "multisocket README (\"Limitations\"); coredns/coredns#7621",
	Silent:      "multisocket stands in the first block on its address, or a later block asks for what the first sets",
	Check: func(p *lint.Pass) {
		first := map[string]*corefile.ServerBlock{} // listen address → first block
		for _, sb := range p.Corefile.Blocks {
			for _, addr := range listenAddresses(sb) {
				f, ok := first[addr]
				if !ok {
					first[addr] = sb
					continue
				}
				ms := sb.Find("multisocket")
				if f == sb || len(ms) == 0 || multisocketValue(f) == multisocketValue(sb) {
					continue
				}
				p.Report(ms[0].Name.Offset, fmt.Sprintf("multisocket is ignored: the first server block on %s (%s) decides the sockets of that address", addr, keyTexts(f)))
				break
			}
		}
	},
}

// listenAddresses are the transport, port and bind addresses sb listens on.
func listenAddresses(sb *corefile.ServerBlock) []string {
	var out []string
	seen := map[string]bool{}
	for _, k := range sb.Keys {
		if normalizeKey(k.Text) == "" {
			continue
		}
		for _, b := range bindAddresses(sb) {
			a := listenOf(k.Text)
			if b != "" {
				a += " on " + b
			}
			if !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	return out
}

// multisocketValue is what sb's multisocket line sets: "" without one.
func multisocketValue(sb *corefile.ServerBlock) string {
	ms := sb.Find("multisocket")
	if len(ms) == 0 {
		return ""
	}
	return "multisocket " + strings.Join(ms[0].ArgTexts(), " ")
}
