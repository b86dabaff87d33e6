package rules

import "github.com/k8slint/k8slint/internal/lint"

// NoPrometheus reports a resolving server block without metrics.
var NoPrometheus = lint.Rule{
	ID:       "corefile-no-prometheus",
	Title:    "server block without prometheus",
	Severity: lint.Info,
	Scope:    lint.ScopeCorefile,
	Doc: "CoreDNS records metrics only for server blocks that enable prometheus. Without it, that block's " +
		"request rates, latencies, cache hit ratio and forward errors are invisible.",
	Remediation: "Add `prometheus :9153` (the port the kube-dns Service scrapes).",
	Source:      "prometheus README; the kube-dns Service's scrape port 9153",
	Silent:      "the main blocks have prometheus; stubs and snippets",
	Check: func(p *lint.Pass) {
		for _, sb := range mainBlocks(p) {
			if sb.Has("prometheus") || !(sb.Has("forward") || sb.Has("kubernetes")) {
				continue
			}
			p.Report(blockPos(sb), "server block has no prometheus: its traffic is not measured",
				addDirectiveFix(p, sb, "Add prometheus :9153", "prometheus :9153"))
		}
	},
}
