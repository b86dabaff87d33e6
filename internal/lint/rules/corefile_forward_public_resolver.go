package rules

import (
	"net/netip"
	"strings"

	"github.com/k8slint/k8slint/internal/lint"
)

// ForwardPublicResolver reports upstreams hard-coded to well-known public
// resolvers.
var ForwardPublicResolver = lint.Rule{
	ID:       "corefile-forward-public-resolver",
	Title:    "forward to a public resolver",
	Severity: lint.Info,
	Scope:    lint.ScopeCorefile,
	Doc: "forward (or proxy) sends names to a well-known public resolver (Google 8.8.8.8/8.8.4.4, Cloudflare " +
		"1.1.1.1/1.0.0.1, Quad9 9.9.9.9/149.112.112.112, OpenDNS, 114DNS, AliDNS 223.5.5.5/223.6.6.6, Yandex " +
		"77.88.8.8, and their IPv6 and tls:// forms) instead of the node's resolvers: the private zones and " +
		"split-horizon names of the node's network stop resolving, and the cluster's DNS depends on a third party " +
		"reached over the Internet. Best practice (info): some clusters mean it. Documentation and private " +
		"addresses are not reported.",
	Remediation: "Forward to /etc/resolv.conf (the node's resolvers) or to your network's own resolvers.",
	Source:      "issue 9 review (split-horizon and third-party dependency); the operators' published addresses",
	Silent:      "upstreams are the node's resolv.conf, private, loopback or documentation addresses",
	Check: func(p *lint.Pass) {
		for _, sb := range p.Corefile.Blocks {
			for _, d := range append(sb.Find("forward"), sb.Find("proxy")...) {
				for _, a := range d.Args[min(1, len(d.Args)):] {
					if name, ok := publicResolver(a.Text); ok {
						p.Report(a.Offset, d.Name.Text+" to "+a.Text+" ("+name+"), a public resolver: names of the node's own network do not resolve")
						break
					}
				}
			}
		}
	},
}

// publicResolvers maps well-known public resolver addresses to their
// operator.
var publicResolvers = map[string]string{
	"8.8.8.8": "Google", "8.8.4.4": "Google", "2001:4860:4860::8888": "Google", "2001:4860:4860::8844": "Google",
	"1.1.1.1": "Cloudflare", "1.0.0.1": "Cloudflare", "2606:4700:4700::1111": "Cloudflare", "2606:4700:4700::1001": "Cloudflare",
	"9.9.9.9": "Quad9", "149.112.112.112": "Quad9", "2620:fe::fe": "Quad9", "2620:fe::9": "Quad9",
	"208.67.222.222": "OpenDNS", "208.67.220.220": "OpenDNS",
	"114.114.114.114": "114DNS", "114.114.115.115": "114DNS",
	"223.5.5.5": "AliDNS", "223.6.6.6": "AliDNS",
	"77.88.8.8": "Yandex", "77.88.8.1": "Yandex",
}

// publicResolver reads an upstream (`tls://1.1.1.1`, `8.8.8.8:53`,
// `[2001:4860:4860::8888]:53`) and names its operator when it is a
// well-known public resolver.
func publicResolver(up string) (string, bool) {
	if i := strings.Index(up, "://"); i >= 0 {
		up = up[i+3:]
	}
	if ap, err := netip.ParseAddrPort(up); err == nil {
		up = ap.Addr().String()
	} else if a, err := netip.ParseAddr(up); err == nil {
		up = a.String()
	} else {
		return "", false
	}
	n, ok := publicResolvers[up]
	return n, ok
}
