package rules

import (
	"fmt"
	"strconv"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/resolver"
)

// PodNdotsHigh reports a pod whose ndots sends the external names it uses
// through the whole search list before asking them as they are.
var PodNdotsHigh = lint.Rule{
	ID:       "pod-ndots-high",
	Title:    "ndots sends external names through the search list",
	Severity: lint.Warning,
	Scope:    lint.ScopeWorkload,
	Doc: "With `dnsPolicy: ClusterFirst` kubelet writes `options ndots:5`: every name with fewer than 5 dots is " +
		"first tried under each search domain (`<ns>.svc.cluster.local`, `svc.cluster.local`, `cluster.local` and " +
		"the node's), each an A and an AAAA query answered NXDOMAIN, before the name itself is asked. dnslint finds " +
		"the external hostnames the pod is given (env values, command/args, ConfigMaps it consumes) and states what " +
		"one lookup of each costs with the resolver of the container's image, and with the ndots it proposes. The " +
		"proposal is computed, not guessed: the lowest ndots (at least 1) with which every in-cluster name the pod " +
		"uses (service, service.namespace, service.namespace.svc) is still resolved through the search list, for " +
		"every resolver the pod's images may use, without first asking the name outside the cluster (musl does not " +
		"search names with ndots or more dots at all; glibc would ask `service.namespace.` upstream first).",
	Remediation: "Set `dnsConfig.options: [{name: ndots, value: \"N\"}]` to the value given (the fix does), or use " +
		"fully qualified names with a trailing dot for external hosts.",
	Source:   "kubelet's ndots:5; FACTS.md, glibc and musl search walks",
	Silent:   "the pod uses no external name dnslint can see, or its ndots is already the one proposed",
	Requires: []lint.Requirement{podDNS},
	Check: func(p *lint.Pass) {
		e := podDNS.Of(p)
		if e.Err != nil {
			return
		}
		conf := e.Result.Conf
		cur := resolver.Effective(resolver.GLibc, conf).Ndots
		if cur <= 1 {
			return
		}
		n, ok := e.Cluster.ProposeNdots(e.Kinds(), conf, e.NameList())
		if !ok || n >= cur {
			return
		}
		lower := conf.WithNdots(n)
		var parts []string
		for _, u := range e.External() {
			if u.Absolute {
				continue
			}
			q, nx := u.Queries, u.NXDomain
			q2, _ := e.Cluster.Cost(u.Kind(), lower, u.Name)
			if q2 < q {
				parts = append(parts, fmt.Sprintf("%s: %d queries per lookup, %d NXDOMAIN; with ndots:%d → %d%s", u.Name.Name, q, nx, n, q2, assumed(u)))
			}
		}
		if len(parts) == 0 {
			return
		}
		v := strconv.Itoa(n)
		p.Report(anchor(e.Spec, "ndots"), fmt.Sprintf("ndots:%d walks the search list for external names: %s", cur, list(parts, 4)),
			fix(fmt.Sprintf("Set ndots to %d", n), e.Spec.SetOption("ndots", &v))...)
	},
}
