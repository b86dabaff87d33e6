package rules

import (
	"fmt"
	"strings"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/workload"
	"github.com/k8slint/k8slint/internal/poddns"
)

// The pod-* rules see a pod through package poddns: the resolv.conf
// kubelet writes for it, the resolver of each container, and the cost of
// each hostname it uses in queries. explain-lookup uses the same model.

// cluster is the pod-DNS model of the input's cluster, made once per input
// and shared by its pods.
var cluster = lint.NewFact("pod-dns-cluster", lint.ScopeInput, func(p *lint.Pass) *poddns.Cluster {
	return poddns.NewCluster(p.Config.ClusterDomain, p.Config.Pods)
})

// podDNS is a pod's DNS, computed once per pod for the pod rules.
var podDNS = lint.NewFact("pod-dns", lint.ScopeWorkload, func(p *lint.Pass) *poddns.Pod {
	return cluster.Of(p).Pod(p.Workload)
}, cluster)

// sample states the cost of lookups for the pod as it is: its first
// external name, else its first in-cluster name, else a typical external
// name: "api.stripe.com: 8 queries per lookup, 6 NXDOMAIN".
func sample(e *poddns.Pod) string {
	var u poddns.Use
	prefix := ""
	switch ext, in := e.External(), e.InCluster(); {
	case len(ext) > 0:
		u = ext[0]
	case len(in) > 0:
		u = in[0]
	default:
		// The pod names no host dnslint can see: cost a typical one.
		prefix = "e.g. "
		u = poddns.Use{Name: e.Cluster.Classify("api.example.com", e.Namespace)}
		if len(e.Families) > 0 {
			u.Family = e.Families[0]
		}
		u.Queries, u.NXDomain = e.Cluster.Cost(u.Kind(), e.Result.Conf, u.Name)
	}
	return fmt.Sprintf("%s%s: %d queries per lookup, %d NXDOMAIN%s", prefix, u.Name.Name, u.Queries, u.NXDomain, assumed(u))
}

// assumed notes when a cost was computed for glibc for want of a known
// resolver.
func assumed(u poddns.Use) string {
	if u.Family.Known {
		return ""
	}
	return " (glibc assumed: " + u.Family.Why + ")"
}

// option returns the pod's last dnsConfig option called name, or nil.
func option(w *workload.Pod, name string) *workload.Option {
	if w.DNSConfig == nil {
		return nil
	}
	for i := len(w.DNSConfig.Options) - 1; i >= 0; i-- {
		if w.DNSConfig.Options[i].Name.Value == name {
			return &w.DNSConfig.Options[i]
		}
	}
	return nil
}

// anchor is where pod-level findings point: the given option's value or
// name, else dnsConfig, else dnsPolicy, else the pod spec.
func anchor(w *workload.Pod, name string) int {
	if o := option(w, name); o != nil {
		if o.Value != nil {
			return o.Value.Offset
		}
		return o.Name.Offset
	}
	if w.DNSConfig != nil {
		return w.DNSConfig.Key.KeyOffset
	}
	if w.DNSPolicy != nil {
		return w.DNSPolicy.Offset
	}
	return w.SpecOffset
}

// fix wraps edits into a fix, or none when the YAML cannot be edited.
func fix(msg string, edits []lint.Edit) []lint.Fix {
	if len(edits) == 0 {
		return nil
	}
	return []lint.Fix{{Message: msg, Edits: edits}}
}

// list joins up to max items and says how many more there are.
func list(items []string, max int) string {
	if len(items) <= max {
		return strings.Join(items, "; ")
	}
	return strings.Join(items[:max], "; ") + fmt.Sprintf("; and %d more", len(items)-max)
}

// rejected is the cost statement of a spec the API server refuses.
const rejected = "the API server rejects the pod, so it never starts and sends no query"
