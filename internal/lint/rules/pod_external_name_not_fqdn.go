package rules

import (
	"fmt"

	"github.com/k8slint/k8slint/internal/lint"
)

// PodExternalNameNotFQDN reports each external hostname a pod uses without
// a trailing dot, with what a lookup costs now and as an absolute name.
var PodExternalNameNotFQDN = lint.Rule{
	ID:       "pod-external-name-not-fqdn",
	Title:    "external hostname without a trailing dot",
	Severity: lint.Info,
	Scope:    lint.ScopeWorkload,
	Doc: "A hostname with fewer dots than ndots is tried under every search domain first. Written with a trailing " +
		"dot (`api.stripe.com.`) it is absolute: every resolver asks only that name, one A and one AAAA query. " +
		"The finding gives both costs for the resolver of the container's image. Caveats, which is why dnslint " +
		"offers no automatic fix: the trailing dot travels with the name into the application — HTTP clients may " +
		"send `Host: api.stripe.com.` and TLS clients may put the dot into SNI or compare it against the " +
		"certificate, and some servers, virtual hosts and certificate checks reject it; test each client before " +
		"changing the name. Lowering ndots (pod-ndots-high) has no such caveat.",
	Remediation: "Where the client accepts it, write the name with a trailing dot; otherwise lower ndots for the pod.",
	Source:      "resolv.conf(5); FACTS.md, glibc and musl search walks",
	Silent:      "names with a trailing dot, or with at least ndots dots",
	Requires:    []lint.Requirement{podDNS},
	Check: func(p *lint.Pass) {
		e := podDNS.Of(p)
		if e.Err != nil {
			return
		}
		conf := e.Result.Conf
		for _, u := range e.External() {
			if u.Absolute {
				continue
			}
			q, nx := u.Queries, u.NXDomain
			abs := e.Cluster.Classify(u.Name.Name+".", e.Namespace)
			q2, _ := e.Cluster.Cost(u.Kind(), conf, abs)
			if q2 >= q {
				continue
			}
			p.Report(u.Host.Offset, fmt.Sprintf("%s (%s, container %s): %d queries per lookup, %d NXDOMAIN; as %s → %d%s",
				u.Name.Name, u.Host.Source, u.Host.Container, q, nx, abs.Name, q2, assumed(u)))
		}
	},
}
