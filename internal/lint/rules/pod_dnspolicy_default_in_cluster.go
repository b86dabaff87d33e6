package rules

import (
	"fmt"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/resolvconf"
	"github.com/k8slint/k8slint/internal/resolver"
)

// PodDNSPolicyDefaultInCluster reports dnsPolicy Default on a pod that uses
// in-cluster names.
var PodDNSPolicyDefaultInCluster = lint.Rule{
	ID:       "pod-dnspolicy-default-in-cluster",
	Title:    "dnsPolicy Default on a pod that uses in-cluster names",
	Severity: lint.Error,
	Scope:    lint.ScopeWorkload,
	Doc: "`dnsPolicy: Default` gives the pod the node's resolv.conf (kubelet --resolv-conf): the node's nameservers " +
		"and search domains, not the cluster DNS Service and not the `<ns>.svc.<domain>` search list (FACTS.md, " +
		"kubelet). A pod that uses a Service name (in env, args, command or a ConfigMap it reads) cannot resolve " +
		"it. Silent for pods that use no in-cluster name (CoreDNS itself, node agents), where Default is the point, " +
		"and when the node's resolv.conf given with --node-resolv-conf does resolve the name.",
	Remediation: "Use `dnsPolicy: ClusterFirst` (`ClusterFirstWithHostNet` for a host-network pod).",
	Source:      "kubelet pkg/kubelet/network/dns/dns.go; FACTS.md, kubelet (Default gives the node's resolv.conf)",
	Silent:      "the pod uses no in-cluster name dnslint can see, or --node-resolv-conf resolves it",
	Requires:    []lint.Requirement{podDNS},
	Check: func(p *lint.Pass) {
		w := p.Workload
		if w.DNSPolicy == nil || w.Policy() != resolvconf.Default {
			return
		}
		e := podDNS.Of(p)
		if e.Err != nil {
			return
		}
		in := e.InCluster()
		if len(in) == 0 {
			return
		}
		u := in[0]
		if e.Cluster.Resolves(u.Kind(), e.Result.Conf, u.Name) {
			return
		}
		target := resolvconf.ClusterFirst
		if w.HostNetworkOn() {
			target = resolvconf.ClusterFirstWithHostNet
		}
		spec := w.KubeletPod(e.Namespace)
		spec.DNSPolicy = target
		with, err := e.Cluster.ResolvConf(spec)
		if err != nil {
			return
		}
		q, nx := resolver.Cost(e.Cluster.Plan(u.Kind(), e.Result.Conf, u.Name.Name, ""))
		q2, _ := e.Cluster.Cost(u.Kind(), with.Conf, u.Name)
		p.Report(w.DNSPolicy.Offset, fmt.Sprintf("dnsPolicy Default gives the pod the node's resolv.conf, which cannot resolve in-cluster names: %s: %d queries to the node's nameserver, %d NXDOMAIN, fails; with %s → %d, resolves%s",
			u.Name.Name, q, nx, target, q2, assumed(u)), fix("Set dnsPolicy to "+target, w.SetPolicy(target))...)
	},
}
