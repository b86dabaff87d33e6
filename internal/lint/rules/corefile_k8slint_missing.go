package rules

import (
	"path"
	"strings"

	"github.com/k8slint/k8slint/internal/lint"
)

// K8slintMissing reports a cluster server block without the k8slint plugin,
// when the target image has it.
var K8slintMissing = lint.Rule{
	ID:       "corefile-k8slint-missing",
	Title:    "kubernetes server block without k8slint",
	Severity: lint.Info,
	Scope:    lint.ScopeCorefile,
	Doc: "k8slint watches the queries CoreDNS receives and reports clients whose resolver configuration wastes " +
		"queries (search-path walks, missing trailing dots, A/AAAA races). A server block that serves the cluster " +
		"domain without it is blind to them. Its place in the plugin chain is fixed at build time (before cache), " +
		"so where the line stands in the block does not matter. The stock CoreDNS image has no k8slint and " +
		"refuses to start on a Corefile naming it, so the rule is silent unless the target image is known to " +
		"have it: `--k8slint` (coredns-custom), a workload of the same input running a `coredns-custom` image, " +
		"or another server block of the Corefile already using k8slint. Only blocks whose kubernetes plugin " +
		"serves the cluster domain are reported. The fix names the domain in k8slint's `cluster_domain` when " +
		"it is not cluster.local, k8slint's own default.",
	Remediation: "Add a `k8slint` line to the server block and run the coredns-custom build.",
	Source:      "plugin/k8slint README; issue 9 item 6 (a stock image refuses k8slint)",
	Silent:      "without --k8slint, a coredns-custom workload in the input or k8slint already in the Corefile; blocks not serving the cluster domain",
	Check: func(p *lint.Pass) {
		if !hasK8slint(p) {
			return
		}
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

// hasK8slint reports whether the target CoreDNS image has the k8slint
// plugin: the user says so (--k8slint), the Corefile already uses it, or
// a workload of the same input runs the coredns-custom image.
func hasK8slint(p *lint.Pass) bool {
	if p.Config.K8slint || len(directives(p, "k8slint")) > 0 {
		return true
	}
	for _, w := range p.Input.Workloads {
		for _, c := range w.Containers {
			ref := c.Image.Value
			if i := strings.LastIndexByte(ref, '@'); i >= 0 {
				ref = ref[:i]
			}
			if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
				ref = ref[:i]
			}
			if path.Base(ref) == "coredns-custom" {
				return true
			}
		}
	}
	return false
}
