package rules

import (
	"strings"

	"github.com/k8slint/k8slint/internal/lint"
)

// K8slintMissing reports a cluster server block without the k8slint plugin.
var K8slintMissing = lint.Rule{
	ID:       "corefile-k8slint-missing",
	Title:    "kubernetes server block without k8slint",
	Severity: lint.Info,
	Scope:    lint.ScopeCorefile,
	Doc: "k8slint watches the queries CoreDNS receives and reports clients whose resolver configuration wastes " +
		"queries (search-path walks, missing trailing dots, A/AAAA races). A server block that serves the cluster " +
		"domain without it is blind to them. Its place in the plugin chain is fixed at build time (before cache), " +
		"so where the line stands in the block does not matter; it needs coredns-custom. Only blocks whose " +
		"kubernetes plugin serves the cluster domain (--cluster-domain, default cluster.local) are reported: " +
		"k8slint judges pods' search-path walks under that domain (corefile-cluster-domain-mismatch reports a " +
		"Corefile where no block serves it). The fix names the domain in k8slint's `cluster_domain` when it is " +
		"not cluster.local, k8slint's own default.",
	Remediation: "Add a `k8slint` line to the server block and run the coredns-custom build.",
	Check: func(p *lint.Pass) {
		cd := fqdn(p.Config.ClusterDomain)
		for _, sb := range serverBlocks(p) {
			ks := sb.Find("kubernetes")
			if len(ks) == 0 || sb.Has("k8slint") || !servesClusterDomain(sb, cd) {
				continue
			}
			line := "k8slint"
			if cd != "cluster.local." {
				line = "k8slint {\n" + p.Corefile.Indent(ks[0].Name.Line) + "    cluster_domain " + strings.TrimSuffix(cd, ".") + "\n" + p.Corefile.Indent(ks[0].Name.Line) + "}"
			}
			p.Report(ks[0].Name.Offset, "server block serves the cluster domain with kubernetes but not k8slint",
				addDirectiveFix(p, sb, "Add k8slint", line))
		}
	},
}
