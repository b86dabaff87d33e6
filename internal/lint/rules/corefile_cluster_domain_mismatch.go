package rules

import (
	"fmt"
	"strings"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/corefile"
	"github.com/k8slint/k8slint/plugin/k8slint"
)

// ClusterDomainMismatch reports a cluster Corefile in which no server block
// answers the cluster domain with the kubernetes plugin.
var ClusterDomainMismatch = lint.Rule{
	ID:       "corefile-cluster-domain-mismatch",
	Title:    "the kubernetes plugin does not serve the cluster domain",
	Severity: lint.Error,
	Scope:    lint.ScopeCorefile,
	Doc: "kubelet gives every ClusterFirst pod the search list `<ns>.svc.<domain> svc.<domain> <domain>`, " +
		"where the domain is kubelet's --cluster-domain. Only when dnslint is told that domain (its " +
		"--cluster-domain) can it tell a Corefile serves another one; without the flag the zone the kubernetes " +
		"plugin serves is taken as the cluster domain, and only the k8slint check below applies. The " +
		"Corefile uses the kubernetes plugin, but none of its zones is that domain, or the server block holding " +
		"it does not receive queries for it (its keys name another zone): Service and pod names then do not " +
		"resolve, or go upstream. The kubernetes plugin serves the zones named as its arguments, or its server " +
		"block's keys when it names none; a zone that merely contains the domain (`local`, `.`) does not count, " +
		"because the plugin reads the labels left of its zone as service.namespace.svc. In a block that does " +
		"serve it, the k8slint plugin's `cluster_domain` (default cluster.local) must name it too, or k8slint " +
		"cannot recognise pods' search-path walks (the fix adds it, unless the list already holds the 64 " +
		"domains k8slint takes). Extra server files " +
		"(`*.server`) and `*.override` snippets are imported into another Corefile and are not judged.",
	Remediation: "Name the cluster domain in the kubernetes line (`kubernetes cluster.local in-addr.arpa " +
		"ip6.arpa`) in a server block that receives it (`.:53`), or run dnslint with the cluster's own " +
		"--cluster-domain.",
	Source: "kubelet pkg/kubelet/network/dns/dns.go (the search list); kubernetes plugin README (zones); FACTS.md, kubelet",
	Silent: "a kubernetes block serves the cluster domain; *.server and *.override snippets",
	Check: func(p *lint.Pass) {
		cd := clusterDomain(p)
		if cd == "." || cd == "" || strings.HasSuffix(p.Corefile.Name, ".server") {
			return
		}
		served := false
		for _, sb := range serverBlocks(p) {
			if !servesClusterDomain(sb, cd) {
				continue
			}
			served = true
			for _, k := range sb.Find("k8slint") {
				checkK8slintDomain(p, k, cd)
			}
		}
		if served || !p.Config.ClusterDomainStated {
			// Without --cluster-domain the Corefile's own kubernetes
			// zone is the cluster domain: nothing to compare it with.
			return
		}
		for _, sb := range serverBlocks(p) {
			for _, k := range sb.Find("kubernetes") {
				zones := kubernetesZones(sb, k)
				if containsZone(zones, cd) {
					p.Report(k.Name.Offset, "kubernetes serves "+cd+" but its server block ("+keyTexts(sb)+") does not receive queries for it: Service names will not resolve")
					continue
				}
				p.Report(k.Name.Offset, "kubernetes serves "+strings.Join(forwardZones(zones), " ")+", not the cluster domain "+cd+
					": pods' <ns>.svc."+cd+" names will not resolve (pass --cluster-domain if the cluster uses another domain)")
			}
		}
	},
}

// checkK8slintDomain reports k8slint directive k when its cluster_domain
// list lacks cd.
func checkK8slintDomain(p *lint.Pass, k *corefile.Directive, cd string) {
	doms := []string{"cluster.local."}
	opt := k.Child("cluster_domain")
	if opt != nil {
		doms = doms[:0]
		for _, a := range opt.Args {
			doms = append(doms, fqdn(a.Text))
		}
	}
	if containsZone(doms, cd) {
		return
	}
	msg := "k8slint's cluster_domain (" + strings.Join(doms, " ") + ") lacks the cluster domain " + cd +
		": it cannot recognise pods' search-path walks"
	name := strings.TrimSuffix(cd, ".")
	if opt == nil {
		p.Report(k.Name.Offset, msg, lint.Fix{Message: "Set cluster_domain to " + name, Edits: p.Corefile.AddOption(k, "cluster_domain "+name)})
		return
	}
	if len(opt.Args) >= k8slint.MaxClusterDomains {
		// One more, and k8slint's setup refuses the Corefile.
		p.Report(opt.Name.Offset, msg+fmt.Sprintf(" (the list is full: k8slint takes at most %d)", k8slint.MaxClusterDomains))
		return
	}
	p.Report(opt.Name.Offset, msg, lint.Fix{Message: "Add " + name + " to cluster_domain", Edits: []lint.Edit{{Start: opt.End(), End: opt.End(), New: " " + name}}})
}

// clusterDomain is the cluster domain Corefile rules judge a unit by,
// fully qualified: the one the user stated (--cluster-domain), or else the
// first forward zone of the unit's first kubernetes plugin (a cluster
// with a custom domain configures it there), or else the default. It is
// "" when the kubernetes plugin serves only the root zone.
func clusterDomain(p *lint.Pass) string {
	if p.Config.ClusterDomainStated {
		return fqdn(p.Config.ClusterDomain)
	}
	for _, sb := range serverBlocks(p) {
		for _, k := range sb.Find("kubernetes") {
			for _, z := range forwardZones(kubernetesZones(sb, k)) {
				if strings.HasSuffix(z, "in-addr.arpa.") || strings.HasSuffix(z, "ip6.arpa.") || strings.Contains(z, "/") {
					continue
				}
				if z == "." {
					return ""
				}
				return z
			}
		}
	}
	return fqdn(p.Config.ClusterDomain)
}

// fqdn lower-cases a domain and gives it a trailing dot.
func fqdn(s string) string {
	s = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), "."))
	return s + "."
}

// kubernetesZones are the zones kubernetes directive k serves: its
// arguments, or the block's keys when it names none.
func kubernetesZones(sb *corefile.ServerBlock, k *corefile.Directive) []string {
	var out []string
	for _, a := range k.Args {
		out = append(out, keyZone(a.Text))
	}
	if len(out) == 0 {
		for _, key := range sb.Keys {
			out = append(out, keyZone(key.Text))
		}
	}
	return out
}

// forwardZones drops reverse zones and CIDRs, which say nothing about the
// cluster domain.
func forwardZones(zs []string) []string {
	var out []string
	for _, z := range zs {
		if !strings.HasSuffix(z, "in-addr.arpa.") && !strings.HasSuffix(z, "ip6.arpa.") && !strings.Contains(z, "/") {
			out = append(out, z)
		}
	}
	if len(out) == 0 {
		return zs
	}
	return out
}

func containsZone(zs []string, z string) bool {
	for _, x := range zs {
		if x == z {
			return true
		}
	}
	return false
}

func keyTexts(sb *corefile.ServerBlock) string {
	var out []string
	for _, k := range sb.Keys {
		out = append(out, strings.TrimSuffix(k.Text, ","))
	}
	return strings.Join(out, " ")
}

// receives reports whether a server block keyed sb receives queries for
// domain cd: some key is cd or one of its parents.
func receives(sb *corefile.ServerBlock, cd string) bool {
	for _, k := range sb.Keys {
		z := keyZone(k.Text)
		if z == "." || z == cd || strings.HasSuffix(cd, "."+z) {
			return true
		}
	}
	return false
}

// servesClusterDomain reports whether sb answers cluster domain cd (a
// fully qualified name) with the kubernetes plugin.
func servesClusterDomain(sb *corefile.ServerBlock, cd string) bool {
	if !receives(sb, cd) {
		return false
	}
	for _, k := range sb.Find("kubernetes") {
		if containsZone(kubernetesZones(sb, k), cd) {
			return true
		}
	}
	return false
}
