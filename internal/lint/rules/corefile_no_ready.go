package rules

import "github.com/k8slint/k8slint/internal/lint"

// NoReady reports a cluster Corefile without the ready plugin.
var NoReady = lint.Rule{
	ID:       "corefile-no-ready",
	Title:    "cluster Corefile without ready",
	Severity: lint.Info,
	Scope:    lint.ScopeCorefile,
	Doc: "The CoreDNS Deployment's readiness probe asks the ready plugin (:8181/ready), which answers 200 only " +
		"once the kubernetes plugin has synced with the API. Without ready the probe fails, or points elsewhere " +
		"and lets a CoreDNS that cannot yet answer cluster names receive traffic.",
	Remediation: "Add `ready` to the server block that uses kubernetes.",
	Source:      "ready README; kubeadm's readiness probe on :8181/ready",
	Silent:      "some block enables ready (process-wide: once counts); Corefiles without kubernetes; snippets",
	Check: func(p *lint.Pass) {
		if p.Unit.Snippet || !isCluster(p) || len(directives(p, "ready")) > 0 {
			return
		}
		for _, sb := range mainBlocks(p) {
			if ks := sb.Find("kubernetes"); len(ks) > 0 {
				p.Report(ks[0].Name.Offset, "no server block enables ready: the readiness probe has nothing to ask",
					addDirectiveFix(p, sb, "Add ready", "ready"))
				return
			}
		}
	},
}
