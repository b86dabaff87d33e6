package rules

import "github.com/k8slint/k8slint/internal/lint"

// NoLoop reports a block forwarding to resolv.conf without loop detection.
var NoLoop = lint.Rule{
	ID:       "corefile-no-loop",
	Title:    "forward to resolv.conf without loop",
	Severity: lint.Info,
	Scope:    lint.ScopeCorefile,
	Doc: "A block that forwards to the node's resolv.conf can forward to itself (systemd-resolved's 127.0.0.53 " +
		"is CoreDNS's own loopback). The loop plugin detects that at start-up and stops CoreDNS with a clear " +
		"message; without it, each query circles until it times out and CoreDNS's memory climbs. `proxy` (removed " +
		"in 1.5.0, still in old ConfigMaps) is looked at like forward. Best practice (info): the loop needs a node " +
		"whose resolv.conf points back at CoreDNS.",
	Remediation: "Add `loop` to the server block.",
	Source:      "loop README; FACTS.md, CoreDNS loop",
	Silent:      "forward/proxy do not read a resolv.conf file, loop is on, or the block is a stub or snippet",
	Check: func(p *lint.Pass) {
		for _, sb := range mainBlocks(p) {
			if sb.Has("loop") {
				continue
			}
			// proxy, removed in 1.5.0, loops the same way on the releases
			// that still have it.
			for _, f := range append(sb.Find("forward"), sb.Find("proxy")...) {
				if forwardsToFile(f) {
					p.Report(f.Name.Offset, f.Name.Text+" to a resolv.conf file without the loop plugin: a forwarding loop goes undetected",
						addDirectiveFix(p, sb, "Add loop", "loop"))
					break
				}
			}
		}
	},
}
