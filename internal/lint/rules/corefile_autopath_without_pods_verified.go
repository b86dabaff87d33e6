package rules

import "github.com/k8slint/k8slint/internal/lint"

// AutopathWithoutPodsVerified reports autopath @kubernetes in a block whose
// kubernetes plugin does not verify pods.
var AutopathWithoutPodsVerified = lint.Rule{
	ID:       "corefile-autopath-without-pods-verified",
	Title:    "autopath @kubernetes needs pods verified",
	Severity: lint.Warning,
	Scope:    lint.ScopeCorefile,
	Doc: "autopath @kubernetes answers a client's search-path walk on the server side, which needs to know the " +
		"client's namespace from its source IP. The kubernetes plugin only knows that with `pods verified` (a watch " +
		"on all pods); without it autopath cannot work. It also breaks behind NodeLocal DNSCache and for " +
		"host-network pods, whose source IP is not the pod's. A warning, not an error: names still resolve " +
		"through the client's own search list, autopath just saves nothing.",
	Remediation: "Set `pods verified` in the kubernetes block, accepting the memory and API cost of watching all " +
		"pods, or drop autopath.",
	Source: "autopath README (\"@kubernetes ... needs pods verified\"); FACTS.md, CoreDNS autopath",
	Silent: "autopath names another plugin, or a kubernetes block of the same server block sets `pods verified`",
	Check: func(p *lint.Pass) {
		for _, sb := range serverBlocks(p) {
			for _, ap := range sb.Find("autopath") {
				if len(ap.Args) == 0 || ap.Args[0].Text != "@kubernetes" {
					continue
				}
				for _, k := range sb.Find("kubernetes") {
					pods := k.Child("pods")
					if pods != nil && len(pods.Args) == 1 && pods.Args[0].Text == "verified" {
						continue
					}
					fix := lint.Fix{Message: "Set pods to verified"}
					if pods != nil && len(pods.Args) == 1 {
						fix.Edits = []lint.Edit{{Start: pods.Args[0].Offset, End: pods.Args[0].End, New: "verified"}}
					} else if pods == nil {
						fix.Edits = p.Corefile.AddOption(k, "pods verified")
					}
					var fixes []lint.Fix
					if fix.Edits != nil {
						fixes = append(fixes, fix)
					}
					p.Report(ap.Name.Offset, "autopath @kubernetes without pods verified in the kubernetes block: autopath cannot find the client's namespace", fixes...)
				}
			}
		}
	},
}
