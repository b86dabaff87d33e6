package poddns

import (
	"strings"

	"github.com/k8slint/k8slint/internal/lint/workload"
	"github.com/k8slint/k8slint/internal/resolvconf"
	"github.com/k8slint/k8slint/internal/resolver"
)

// The policy: a lookup of a name is costed as if the name the pod means
// (its FQDN) exists, with A and AAAA records, and every other name is
// NXDOMAIN. That is what CoreDNS answers for names under the cluster
// domain that are no Service, and what the search-list expansions of an
// external name get upstream.

// Plan returns the queries one lookup of name by kind sends with conf
// (resolver.Plan) when fqdn exists and nothing else does; fqdn "" means
// nothing exists. (A cache of plans shared by an input's pods was tried:
// 30% of the plans of the workload benchmark were asked twice, and it
// saved no measurable time.)
func (c *Cluster) Plan(kind resolver.Kind, conf resolvconf.Conf, name, fqdn string) []resolver.Query {
	return resolver.Plan(kind, conf, name, func(n string, _ uint16) resolver.Answer {
		if fqdn != "" && strings.EqualFold(n, fqdn) {
			return resolver.Data
		}
		return resolver.NXDomain
	})
}

// Cost returns how many queries a lookup of n sends and how many of them
// are answered NXDOMAIN.
func (c *Cluster) Cost(kind resolver.Kind, conf resolvconf.Conf, n workload.Name) (queries, nxdomain int) {
	return resolver.Cost(c.Plan(kind, conf, n.Name, n.FQDN))
}

// Resolves reports whether a lookup of n ends with its FQDN's records.
func (c *Cluster) Resolves(kind resolver.Kind, conf resolvconf.Conf, n workload.Name) bool {
	plan := c.Plan(kind, conf, n.Name, n.FQDN)
	return len(plan) > 0 && plan[len(plan)-1].Answer == resolver.Data
}

// Resolvable reports whether kind resolves in-cluster name n with conf to
// its FQDN without asking any name outside the cluster domain first: such
// a name could exist on the Internet (service.dev is a public name) and
// would win. Every name before the FQDN is NXDOMAIN, so every resolver
// walks its candidates in order up to it.
func (c *Cluster) Resolvable(kind resolver.Kind, conf resolvconf.Conf, n workload.Name) bool {
	suffix := "." + c.Domain + "."
	for _, q := range resolver.Candidates(kind, conf, n.Name) {
		if strings.EqualFold(q, n.FQDN) {
			return true
		}
		if len(q) < len(suffix) || !strings.EqualFold(q[len(q)-len(suffix):], suffix) {
			return false
		}
	}
	return false
}

// ProposeNdots returns the ndots to propose for a pod that uses names:
// the lowest, from 1 up, with which every in-cluster name of names that is
// not absolute is Resolvable for every resolver of kinds; false when no
// ndots up to 15 does. Among the settings that keep the in-cluster names
// resolvable it is also the cheapest: those names walk the same search
// list first whatever the setting, and external names are asked as they
// are the sooner the lower it is.
func (c *Cluster) ProposeNdots(kinds []resolver.Kind, conf resolvconf.Conf, names []workload.Name) (int, bool) {
	for n := 1; n <= 15; n++ {
		wc := conf.WithNdots(n)
		ok := true
		for _, nm := range names {
			if !nm.InCluster || nm.Absolute {
				continue
			}
			for _, k := range kinds {
				ok = ok && c.Resolvable(k, wc, nm)
			}
		}
		if ok {
			return n, true
		}
	}
	return 0, false
}
