package rules

import "github.com/k8slint/k8slint/internal/lint"

// ForwardResolvConf reports forwarding to the node's resolv.conf.
var ForwardResolvConf = lint.Rule{
	ID:       "corefile-forward-resolv-conf",
	Title:    "forward to the node's resolv.conf",
	Severity: lint.Info,
	Scope:    lint.ScopeCorefile,
	OptIn:    true,
	Doc: "forward . /etc/resolv.conf sends non-cluster names to whatever the node's resolv.conf names. On nodes " +
		"running systemd-resolved that is 127.0.0.53, which inside the CoreDNS pod is CoreDNS itself: a forwarding " +
		"loop that the loop plugin detects only at start-up, by crashing. " +
		"It is opt-in (--enable corefile-forward-resolv-conf): every distribution's default forwards to the node's resolv.conf, and the loop itself is the loop plugin's business (corefile-no-loop).",
	Remediation: "Point kubelet's --resolv-conf at /run/systemd/resolve/resolv.conf on systemd-resolved nodes, or " +
		"forward to explicit upstream addresses; keep the loop plugin enabled.",
	Source: "FACTS.md, CoreDNS loop (systemd-resolved's 127.0.0.53)",
	Silent: "unless enabled with --enable; upstreams that are addresses",
	Check: func(p *lint.Pass) {
		for _, f := range append(directives(p, "forward"), directives(p, "proxy")...) {
			if forwardsToFile(f) {
				p.Report(f.Name.Offset, f.Name.Text+" reads upstreams from a resolv.conf file: on systemd-resolved nodes this loops back to CoreDNS")
			}
		}
	},
}
