package rules

import (
	"strings"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/corefile"
)

// MetadataNeedsPodsVerified reports kubernetes/client-* metadata used
// while the kubernetes plugin cannot know the client's pod.
var MetadataNeedsPodsVerified = lint.Rule{
	ID:       "corefile-metadata-needs-pods-verified",
	Title:    "kubernetes client metadata without pods verified",
	Severity: lint.Error,
	Scope:    lint.ScopeCorefile,
	Doc: "The kubernetes plugin fills the `kubernetes/client-namespace`, `kubernetes/client-pod-name` and other " +
		"`kubernetes/client-*` metadata only with `pods verified`, which watches every pod to map a source IP to " +
		"its pod (kubernetes README, \"Metadata\"). Without it the label is empty, so a rewrite to " +
		"`{1}.{kubernetes/client-namespace}.svc.cluster.local` produces a name that does not exist and the lookup " +
		"fails (coredns/coredns#6936).",
	Remediation: "Set `pods verified` in the kubernetes block (it costs memory and API load: every pod is " +
		"watched), or drop the metadata label.",
	Source: "kubernetes README (\"Metadata\"); coredns/coredns#6936",
	Silent: "no kubernetes/client-* label in use, or the kubernetes plugin sets `pods verified`, or the unit has no kubernetes plugin",
	Check: func(p *lint.Pass) {
		ks := directives(p, "kubernetes")
		if len(ks) == 0 {
			return
		}
		for _, k := range ks {
			if pods := k.Child("pods"); pods != nil && len(pods.Args) == 1 && pods.Args[0].Text == "verified" {
				return
			}
		}
		reported := false
		p.Corefile.Walk(func(_ *corefile.ServerBlock, d *corefile.Directive) {
			if reported {
				return
			}
			for _, a := range d.Args {
				if strings.Contains(a.Text, "{kubernetes/client-") {
					p.Report(a.Offset, "the kubernetes/client-* metadata is empty without `pods verified`: "+a.Text+" names nothing")
					reported = true
					return
				}
			}
		})
	},
}
