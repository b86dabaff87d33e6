package rules

import (
	"strings"

	"github.com/k8slint/k8slint/internal/lint"
)

// quicSince is the first CoreDNS release whose forward speaks DNS over QUIC
// to upstreams (coredns/coredns#8474).
var quicSince = lint.Version{1, 15, 0}

// ForwardQUICUnsupported reports quic:// upstreams for a CoreDNS release
// that does not have them.
var ForwardQUICUnsupported = lint.Rule{
	ID:       "corefile-forward-quic-unsupported",
	Title:    "quic:// upstream before CoreDNS 1.15.0",
	Severity: lint.Error,
	Scope:    lint.ScopeCorefile,
	Doc: "forward learned DNS-over-QUIC upstreams (`quic://9.9.9.9`) in CoreDNS 1.15.0 (coredns/coredns#8474); " +
		"earlier releases refuse the Corefile at start-up. dnslint's own validation links 1.15.0 and accepts it, " +
		"so this rule judges the release given with --coredns-version; it is silent from 1.15.0 on.",
	Remediation: "Upgrade CoreDNS to 1.15.0 or later, or forward over `tls://` (DNS over TLS) instead.",
	Source:      "coredns/coredns#8474 (DoQ upstreams in forward, 1.15.0)",
	Silent:      "--coredns-version is 1.15.0 or later (the default)",
	Check: func(p *lint.Pass) {
		if !p.Config.CoreDNSVersion.Less(quicSince) {
			return
		}
		for _, d := range directives(p, "forward") {
			for _, a := range d.Args[min(1, len(d.Args)):] {
				if strings.HasPrefix(strings.ToLower(a.Text), "quic://") {
					p.Report(a.Offset, "quic:// upstreams need CoreDNS "+quicSince.String()+"; "+p.Config.CoreDNSVersion.String()+" refuses this forward")
					break
				}
			}
		}
	},
}
