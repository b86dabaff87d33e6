package rules

import "github.com/k8slint/k8slint/internal/lint"

// NoCache reports a server block that resolves names without caching.
var NoCache = lint.Rule{
	ID:       "corefile-no-cache",
	Title:    "server block without cache",
	Severity: lint.Warning,
	Scope:    lint.ScopeCorefile,
	Doc: "A server block that forwards or serves the cluster without cache sends every query upstream or to the " +
		"kubernetes plugin's indexes; with ndots:5 search walks that multiplies upstream load several times.",
	Remediation: "Add `cache 30`.",
	Source:      "cache README; kubeadm's `cache 30`",
	Silent:      "blocks other than the main ones (stubs for other zones, local answers, *.server and *.override snippets)",
	Check: func(p *lint.Pass) {
		for _, sb := range mainBlocks(p) {
			if sb.Has("cache") || !(sb.Has("forward") || sb.Has("kubernetes")) {
				continue
			}
			p.Report(blockPos(sb), "server block resolves names but has no cache", addDirectiveFix(p, sb, "Add cache 30", "cache 30"))
		}
	},
}
