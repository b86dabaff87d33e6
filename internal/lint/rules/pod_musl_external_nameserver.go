package rules

import (
	"fmt"
	"slices"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/resolvconf"
	"github.com/k8slint/k8slint/internal/resolver"
)

// PodMuslExternalNameserver reports a musl pod given a nameserver besides
// the cluster DNS.
var PodMuslExternalNameserver = lint.Rule{
	ID:       "pod-musl-external-nameserver",
	Title:    "musl pod with a non-cluster nameserver",
	Severity: lint.Error,
	Scope:    lint.ScopeWorkload,
	Doc: "`dnsConfig.nameservers` are appended to the cluster DNS IP under ClusterFirst. glibc asks them in order " +
		"and moves on only when one does not answer, but musl (Alpine) asks every nameserver at once and takes " +
		"the first answer (FACTS.md, musl): when the other server answers NXDOMAIN for `redis.shop.svc.cluster.local` " +
		"before CoreDNS answers, the lookup fails, at random. An error when the pod uses in-cluster names; a " +
		"warning otherwise (names dnslint cannot see may be in-cluster). Only containers whose image says musl " +
		"(alpine, musl) count.",
	Remediation: "Drop the extra nameserver and serve its zone from CoreDNS (a stub block forwarding to it), " +
		"or use a glibc-based image.",
	Source:   "musl src/network/lookup_name.c (all nameservers at once); FACTS.md, musl",
	Silent:   "no container image says musl; every extra nameserver is a cluster DNS IP; dnsPolicy Default or None",
	Requires: []lint.Requirement{podDNS},
	Check: func(p *lint.Pass) {
		w := p.Workload
		if w.DNSConfig == nil || len(w.DNSConfig.Nameservers) == 0 {
			return
		}
		e := podDNS.Of(p)
		if e.Err != nil || e.Result.Policy != resolvconf.ClusterFirst && e.Result.Policy != resolvconf.ClusterFirstWithHostNet {
			return
		}
		musl := -1
		for i, f := range e.Families {
			if f.Known && f.Kind == resolver.Musl && i < len(w.Containers) {
				musl = i
				break
			}
		}
		if musl < 0 {
			return
		}
		for _, ns := range w.DNSConfig.Nameservers {
			if slices.Contains(e.Cluster.Node.ClusterDNS, ns.Value) {
				continue
			}
			c := w.Containers[musl]
			what := fmt.Sprintf("container %s (%s, musl: %s) asks %s and the cluster DNS at once and takes the first answer", c.Name, c.Image.Value, e.Families[musl].Why, ns.Value)
			if in := e.InCluster(); len(in) > 0 {
				p.Report(ns.Offset, what+": "+in[0].Name.Name+" fails whenever "+ns.Value+" answers NXDOMAIN first")
			} else {
				p.ReportAs(lint.Warning, ns.Offset, what+": any in-cluster name fails whenever "+ns.Value+" answers NXDOMAIN first")
			}
			return
		}
	},
}
