package rules

import "github.com/k8slint/k8slint/internal/lint"

// NoReload reports a deployed Corefile that does not pick up changes.
var NoReload = lint.Rule{
	ID:       "corefile-no-reload",
	Title:    "Corefile without reload",
	Severity: lint.Info,
	Scope:    lint.ScopeCorefile,
	Doc: "A Corefile delivered by a ConfigMap, or serving a cluster, changes while CoreDNS runs. Without reload " +
		"the change takes effect only when every pod restarts, so replicas run different configurations.",
	Remediation: "Add `reload` to a server block.",
	Source:      "reload README",
	Silent:      "some block enables reload (process-wide: once counts); Corefiles neither in a ConfigMap nor serving a cluster; snippets",
	Check: func(p *lint.Pass) {
		if p.Unit.Snippet || len(directives(p, "reload")) > 0 || !(isCluster(p) || p.Unit.Object != nil) {
			return
		}
		if bs := mainBlocks(p); len(bs) > 0 {
			p.Report(blockPos(bs[0]), "no server block enables reload: Corefile changes need a restart",
				addDirectiveFix(p, bs[0], "Add reload", "reload"))
		}
	},
}
