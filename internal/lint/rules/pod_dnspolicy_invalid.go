package rules

import (
	"fmt"
	"strings"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/resolvconf"
)

var policies = []string{resolvconf.ClusterFirst, resolvconf.ClusterFirstWithHostNet, resolvconf.Default, resolvconf.None}

// PodDNSPolicyInvalid reports a dnsPolicy the API server rejects, and a
// dnsPolicy key given twice.
var PodDNSPolicyInvalid = lint.Rule{
	ID:       "pod-dnspolicy-invalid",
	Title:    "unknown or repeated dnsPolicy",
	Severity: lint.Error,
	Scope:    lint.ScopeWorkload,
	Doc: "dnsPolicy is one of ClusterFirst, ClusterFirstWithHostNet, Default and None, spelled exactly so; the " +
		"API server rejects anything else and the pod never starts. A dnsPolicy key given twice in one pod spec " +
		"(common in templated manifests) is a warning: the API server's decoder keeps the last one, so the first " +
		"one, which a reader may take for the policy, does nothing.",
	Remediation: "Use one of the four policies, exactly spelled (the fix corrects the case); keep one dnsPolicy key.",
	Source:      "Kubernetes API validation (the four dnsPolicy values)",
	Silent:      "one of the four values, once",
	Requires:    []lint.Requirement{podDNS},
	Check: func(p *lint.Pass) {
		w := p.Workload
		if w.DNSPolicy == nil {
			return
		}
		v := w.Policy()
		for _, d := range w.DNSPolicyDups {
			e := podDNS.Of(p)
			cost := rejected
			if e.Err == nil {
				cost = "the pod gets " + e.Result.Policy + "'s resolv.conf: " + sample(e)
			}
			p.ReportAs(lint.Warning, d.KeyOffset, fmt.Sprintf("dnsPolicy %q is overridden by a later dnsPolicy %q in the same spec; %s", d.Value, v, cost))
		}
		if v == "" && w.DNSPolicy.Node.Kind != 8 { // yaml.ScalarNode
			p.Report(w.DNSPolicy.KeyOffset, "dnsPolicy is not a string: "+rejected)
			return
		}
		for _, pol := range policies {
			if v == pol {
				return
			}
		}
		for _, pol := range policies {
			if strings.EqualFold(v, pol) {
				p.Report(w.DNSPolicy.Offset, fmt.Sprintf("dnsPolicy %q is spelled %q: %s", v, pol, rejected),
					fix("Write dnsPolicy "+pol, w.ReplaceScalar(*w.DNSPolicy, pol))...)
				return
			}
		}
		p.Report(w.DNSPolicy.Offset, fmt.Sprintf("dnsPolicy %q is not one of %s: %s", v, strings.Join(policies, ", "), rejected))
	},
}
