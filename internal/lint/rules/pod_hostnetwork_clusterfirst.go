package rules

import (
	"fmt"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/resolvconf"
	"github.com/k8slint/k8slint/internal/resolver"
)

// PodHostNetworkClusterFirst reports a host-network pod whose dnsPolicy is
// ClusterFirst, written or by default: kubelet gives it the node's
// resolv.conf.
var PodHostNetworkClusterFirst = lint.Rule{
	ID:       "pod-hostnetwork-clusterfirst",
	Title:    "host-network pod with dnsPolicy ClusterFirst gets the node's resolv.conf",
	Severity: lint.Error,
	Scope:    lint.ScopeWorkload,
	Doc: "kubelet silently turns `ClusterFirst` (the default) into `Default` for a pod with `hostNetwork: true`: " +
		"the pod gets the node's resolv.conf and cannot resolve Services. Many Helm charts shipped this bug. When " +
		"the pod uses in-cluster names this is an error, and the finding shows what a lookup costs against the " +
		"node's resolv.conf (it fails) and with `ClusterFirstWithHostNet`. When the pod uses no in-cluster name it " +
		"is a note: datapath components (CNI agents, kube-proxy, node-local caches) must not depend on CoreDNS, " +
		"and an explicit `dnsPolicy: Default` says that the node's resolver is intended.",
	Remediation: "Set `dnsPolicy: ClusterFirstWithHostNet` when the pod needs cluster names; otherwise write " +
		"`dnsPolicy: Default` explicitly.",
	Source:   "kubelet pkg/kubelet/network/dns/dns.go; FACTS.md, kubelet",
	Silent:   "hostNetwork off, or dnsPolicy ClusterFirstWithHostNet, Default or None",
	Requires: []lint.Requirement{podDNS},
	Check: func(p *lint.Pass) {
		w := p.Workload
		if !w.HostNetworkOn() || w.Policy() != "" && w.Policy() != resolvconf.ClusterFirst {
			return
		}
		e := podDNS.Of(p)
		if e.Err != nil {
			return
		}
		off := w.HostNetwork.Offset
		if w.DNSPolicy != nil {
			off = w.DNSPolicy.Offset
		}
		written := "ClusterFirst (the default)"
		if w.DNSPolicy != nil {
			written = "ClusterFirst"
		}
		in := e.InCluster()
		if len(in) == 0 {
			p.ReportAs(lint.Info, off, fmt.Sprintf("host-network pod with dnsPolicy %s gets the node's resolv.conf and uses no in-cluster name (%s with the node's resolv.conf): say dnsPolicy Default so it stays independent of cluster DNS",
				written, sample(e)), fix("Set dnsPolicy to Default", w.SetPolicy(resolvconf.Default))...)
			return
		}
		spec := w.KubeletPod(e.Namespace)
		spec.DNSPolicy = resolvconf.ClusterFirstWithHostNet
		with, err := e.Cluster.ResolvConf(spec)
		if err != nil {
			return
		}
		u := in[0]
		// With the node's resolv.conf no candidate is the Service's name.
		q, nx := resolver.Cost(e.Cluster.Plan(u.Kind(), e.Result.Conf, u.Name.Name, ""))
		q2, _ := e.Cluster.Cost(u.Kind(), with.Conf, u.Name)
		p.ReportAs(lint.Error, off, fmt.Sprintf("host-network pod with dnsPolicy %s gets the node's resolv.conf and cannot resolve in-cluster names: %s: %d queries to the node's nameserver, %d NXDOMAIN, fails; with ClusterFirstWithHostNet → %d, resolves%s",
			written, u.Name.Name, q, nx, q2, assumed(u)), fix("Set dnsPolicy to ClusterFirstWithHostNet", w.SetPolicy(resolvconf.ClusterFirstWithHostNet))...)
	},
}
