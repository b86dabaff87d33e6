package rules

import "github.com/k8slint/k8slint/internal/lint"

// K8slintMissing reports a cluster server block without the k8slint plugin.
var K8slintMissing = lint.Rule{
	ID:       "corefile-k8slint-missing",
	Title:    "kubernetes server block without k8slint",
	Severity: lint.Info,
	Scope:    lint.ScopeCorefile,
	Doc: "k8slint watches the queries CoreDNS receives and reports clients whose resolver configuration wastes " +
		"queries (search-path walks, missing trailing dots, A/AAAA races). A server block that serves the cluster " +
		"domain without it is blind to them. Its place in the plugin chain is fixed at build time (before cache), " +
		"so where the line stands in the block does not matter; it needs coredns-custom.",
	Remediation: "Add a `k8slint` line to the server block and run the coredns-custom build.",
	Check: func(p *lint.Pass) {
		for _, sb := range serverBlocks(p) {
			ks := sb.Find("kubernetes")
			if len(ks) == 0 || sb.Has("k8slint") {
				continue
			}
			p.Report(ks[0].Name.Offset, "server block uses kubernetes but not k8slint",
				addDirectiveFix(p, sb, "Add k8slint", "k8slint"))
		}
	},
}
