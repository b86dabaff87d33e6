package rules

import (
	"fmt"
	"strings"

	"github.com/k8slint/k8slint/internal/lint"
)

// PodSearchLimits reports search lists over Kubernetes' limits.
var PodSearchLimits = lint.Rule{
	ID:       "pod-search-limits",
	Title:    "search list over Kubernetes' limits",
	Severity: lint.Error,
	Scope:    lint.ScopeWorkload,
	Doc: "Kubernetes allows at most 32 search domains and 2048 characters in the search line (6 and 256 before " +
		"1.28; give `--k8s-version`). The API server rejects a dnsConfig.searches over the limit (an error: the " +
		"pod never starts). Below it, the cluster domains (ClusterFirst) or the node's search list (Default) can " +
		"push the merged list over: kubelet then drops domains from the end and records a DNSConfigForming event " +
		"(a warning: names that only resolve under the dropped domains fail).",
	Remediation: "Shorten dnsConfig.searches; prefer fully qualified names over long search lists, which cost " +
		"queries for every short name.",
	Source:   "Kubernetes API validation and kubelet (32 domains / 2048 characters; 6 / 256 before 1.28)",
	Silent:   "search lists within the limits of --k8s-version",
	Requires: []lint.Requirement{podDNS},
	Check: func(p *lint.Pass) {
		w := p.Workload
		if w.DNSConfig == nil || len(w.DNSConfig.Searches) == 0 {
			return
		}
		e := podDNS.Of(p)
		lim := e.Cluster.Node.Limits
		var ss []string
		for _, s := range w.DNSConfig.Searches {
			ss = append(ss, s.Value)
		}
		if n, l := len(ss), len(strings.Join(ss, " ")); n > lim.SearchDomains || l > lim.SearchChars {
			p.Report(w.DNSConfig.Searches[0].KeyOffset, fmt.Sprintf("dnsConfig.searches has %d domains, %d characters; at most %d and %d are allowed: %s",
				n, l, lim.SearchDomains, lim.SearchChars, rejected))
			return
		}
		if e.Err != nil {
			return
		}
		for _, wn := range e.Result.Warnings {
			if !strings.HasPrefix(wn.Message, "Search") {
				continue
			}
			p.ReportAs(lint.Warning, w.DNSConfig.Searches[0].KeyOffset, fmt.Sprintf("with dnsPolicy %s the search list exceeds %d domains or %d characters; kubelet drops %s (%s)",
				e.Result.Policy, lim.SearchDomains, lim.SearchChars, strings.Join(wn.Dropped, " "), sample(e)))
		}
	},
}
