package rules

import (
	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/resolvconf"
)

// PodDNSPolicyNoneWithoutNameservers reports dnsPolicy None without a
// nameserver, which the API server rejects.
var PodDNSPolicyNoneWithoutNameservers = lint.Rule{
	ID:       "pod-dnspolicy-none-without-nameservers",
	Title:    "dnsPolicy None without dnsConfig.nameservers",
	Severity: lint.Error,
	Scope:    lint.ScopeWorkload,
	Doc: "With `dnsPolicy: None` the pod's resolv.conf is made from `dnsConfig` alone, and the API server " +
		"requires at least one nameserver there. Without one the pod (or the Deployment's pods) is rejected and " +
		"never starts.",
	Remediation: "Add `dnsConfig.nameservers` (for example the cluster DNS Service IP), or use another dnsPolicy.",
	Source:      "Kubernetes API validation; FACTS.md, kubelet",
	Silent:      "dnsPolicy None with at least one nameserver",
	Check: func(p *lint.Pass) {
		w := p.Workload
		if w.Policy() != resolvconf.None || w.DNSConfig != nil && len(w.DNSConfig.Nameservers) > 0 {
			return
		}
		p.Report(w.DNSPolicy.Offset, "dnsPolicy None without dnsConfig.nameservers: "+rejected)
	},
}
