package rules

import "github.com/k8slint/k8slint/internal/lint"

// PodsInsecure reports kubernetes pods insecure.
var PodsInsecure = lint.Rule{
	ID:       "corefile-pods-insecure",
	Title:    "kubernetes pods insecure",
	Severity: lint.Info,
	Scope:    lint.ScopeCorefile,
	OptIn:    true,
	Doc: "`pods insecure` answers any 1-2-3-4.ns.pod.cluster.local query with the IP in the name, whether or " +
		"not such a pod exists. It exists for kube-dns compatibility and a proposal exists to deprecate it; " +
		"kubeadm still writes it. " +
		"It is opt-in (--enable corefile-pods-insecure): kubeadm and most distributions write it, and a reviewer of a stock Corefile does not change it.",
	Remediation: "Use `pods disabled` if nothing resolves pod A records, or `pods verified` (watches all pods) " +
		"if something does.",
	Source: "kubernetes README (pods insecure, kube-dns compatibility)",
	Silent: "unless enabled with --enable; pods disabled or verified",
	Check: func(p *lint.Pass) {
		for _, k := range directives(p, "kubernetes") {
			if pods := k.Child("pods"); pods != nil && len(pods.Args) == 1 && pods.Args[0].Text == "insecure" {
				p.Report(pods.Name.Offset, "pods insecure answers pod-name queries without checking that the pod exists")
			}
		}
	},
}
