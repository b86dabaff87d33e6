package rules

import (
	"net/netip"
	"strings"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/corefile"
)

// RewriteToClusterWithoutKubernetes reports a rewrite to a cluster name in
// a block where nothing can answer it.
var RewriteToClusterWithoutKubernetes = lint.Rule{
	ID:       "corefile-rewrite-to-cluster-without-kubernetes",
	Title:    "rewrite to a cluster name nothing answers",
	Severity: lint.Error,
	Scope:    lint.ScopeCorefile,
	Doc: "rewrite changes the question before the next plugins see it; the rewritten name is resolved by the " +
		"same server block. A rewrite to a name under the cluster domain in a block without the kubernetes plugin, " +
		"which forwards to the node's resolv.conf or to public resolvers, sends a cluster name to resolvers that " +
		"do not know it: the lookup fails (NXDOMAIN). Silent when the block forwards to a loopback or private " +
		"address, which may be the cluster DNS itself, and in blocks that do not forward.",
	Remediation: "Put the rewrite in the server block that has the kubernetes plugin, or forward the block to the " +
		"cluster DNS Service.",
	Source: "rewrite README (the rewritten name is resolved by the same block); issue 9 review",
	Silent: "the block has kubernetes, forwards to a private or loopback address, or does not forward",
	Check: func(p *lint.Pass) {
		cd := strings.TrimSuffix(fqdn(p.Config.ClusterDomain), ".")
		for _, sb := range p.Corefile.Blocks {
			if sb.Has("kubernetes") || !forwardsOutside(sb) {
				continue
			}
			for _, r := range sb.Find("rewrite") {
				for _, t := range rewriteTargets(r) {
					name := strings.TrimSuffix(strings.ToLower(t.Text), ".")
					if name == cd || strings.HasSuffix(name, "."+cd) {
						p.Report(t.Offset, "rewrite to "+t.Text+", a cluster name, in a block without kubernetes that forwards outside the cluster: nothing answers it")
					}
				}
			}
		}
	},
}

// rewriteTargets are the replacement names of a rewrite's name rules,
// inline or in its block.
func rewriteTargets(r *corefile.Directive) []corefile.Token {
	var out []corefile.Token
	rule := func(args []corefile.Token) {
		switch {
		case len(args) == 2:
			out = append(out, args[1])
		case len(args) >= 3:
			out = append(out, args[2])
		}
	}
	args := r.Args
	if len(args) > 0 && (args[0].Text == "continue" || args[0].Text == "stop") {
		args = args[1:]
	}
	if len(args) > 0 && args[0].Text == "name" {
		rule(args[1:])
	}
	for _, c := range r.Children {
		if c.Name.Text == "name" {
			rule(c.Args)
		}
	}
	return out
}

// forwardsOutside reports whether sb forwards to the node's resolv.conf
// or a public resolver, and to no loopback or private address.
func forwardsOutside(sb *corefile.ServerBlock) bool {
	outside := false
	for _, f := range append(sb.Find("forward"), sb.Find("proxy")...) {
		for _, a := range f.Args[min(1, len(f.Args)):] {
			if strings.HasPrefix(a.Text, "/") {
				outside = true
				continue
			}
			if _, ok := publicResolver(a.Text); ok {
				outside = true
				continue
			}
			up := a.Text
			if i := strings.Index(up, "://"); i >= 0 {
				up = up[i+3:]
			}
			ip, err := netip.ParseAddr(up)
			if ap, err2 := netip.ParseAddrPort(up); err2 == nil {
				ip, err = ap.Addr(), nil
			}
			if err != nil || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() {
				return false
			}
		}
	}
	return outside
}
