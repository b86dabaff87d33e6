package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/resolvconf"
)

// PodTooManyNameservers reports more nameservers than a pod can have.
var PodTooManyNameservers = lint.Rule{
	ID:       "pod-too-many-nameservers",
	Title:    "more than 3 nameservers",
	Severity: lint.Error,
	Scope:    lint.ScopeWorkload,
	Doc: "Resolvers use at most 3 nameservers. The API server rejects a dnsConfig with more than 3 (an error: " +
		"the pod never starts). Fewer in dnsConfig can still add up to more than 3 with the cluster DNS IP " +
		"(ClusterFirst) or the node's nameservers (Default): kubelet then keeps the first 3, drops the rest and " +
		"records a DNSConfigForming event (a warning: the dropped servers are never asked).",
	Remediation: "List at most 3 nameservers in total, the ones that matter first.",
	Source:      "Kubernetes API validation and kubelet (3 nameservers); FACTS.md, kubelet",
	Silent:      "3 nameservers or fewer in total",
	Requires:    []lint.Requirement{podDNS},
	Check: func(p *lint.Pass) {
		w := p.Workload
		if w.DNSConfig == nil || len(w.DNSConfig.Nameservers) == 0 {
			return
		}
		ns := w.DNSConfig.Nameservers
		if len(ns) > resolvconf.MaxNameservers {
			p.Report(ns[resolvconf.MaxNameservers].Offset, fmt.Sprintf("dnsConfig lists %d nameservers, at most %d are allowed: %s", len(ns), resolvconf.MaxNameservers, rejected))
			return
		}
		e := podDNS.Of(p)
		if e.Err != nil {
			return
		}
		for _, wn := range e.Result.Warnings {
			if !strings.HasPrefix(wn.Message, "Nameserver") {
				continue
			}
			off := w.DNSConfig.Key.KeyOffset
			for _, s := range ns {
				if slices.Contains(wn.Dropped, s.Value) {
					off = s.Offset
					break
				}
			}
			p.ReportAs(lint.Warning, off, fmt.Sprintf("with dnsPolicy %s the pod has %d nameservers; kubelet keeps %s and drops %s, which is never asked (%s)",
				e.Result.Policy, len(e.Result.Conf.Nameservers)+len(wn.Dropped), strings.Join(e.Result.Conf.Nameservers, " "), strings.Join(wn.Dropped, " "), sample(e)))
		}
	},
}
