package rules

import (
	"fmt"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/workload"
)

// PodDuplicateDNSOption reports a dnsConfig option given more than once.
var PodDuplicateDNSOption = lint.Rule{
	ID:       "pod-duplicate-dns-option",
	Title:    "dnsConfig option given twice",
	Severity: lint.Warning,
	Scope:    lint.ScopeWorkload,
	Doc: "kubelet merges dnsConfig.options by name: of two entries with one name only the last reaches the " +
		"resolv.conf. The earlier entry does nothing but mislead its reader.",
	Remediation: "Keep one entry per option (the fix removes the earlier ones).",
	Source:      "kubelet's dnsConfig merge; FACTS.md, kubelet",
	Silent:      "each option named once",
	Requires:    []lint.Requirement{podDNS},
	Check: func(p *lint.Pass) {
		w := p.Workload
		if w.DNSConfig == nil {
			return
		}
		opts := w.DNSConfig.Options
		for i, o := range opts {
			later := -1
			for j := i + 1; j < len(opts); j++ {
				if opts[j].Name.Value == o.Name.Value {
					later = j
				}
			}
			if later < 0 {
				continue
			}
			e := podDNS.Of(p)
			cost := ""
			if e.Err == nil {
				cost = "; " + sample(e)
			}
			p.Report(o.Name.Offset, fmt.Sprintf("option %s is given again later; kubelet keeps %s and drops %s%s",
				o.Name.Value, optText(opts[later].Name.Value, opts[later].Value), optText(o.Name.Value, o.Value), cost),
				fix("Remove the earlier "+o.Name.Value, w.DeleteItem(o.Item))...)
		}
	},
}

// optText writes an option as resolv.conf does: "ndots:2", "rotate".
func optText(name string, v *workload.Scalar) string {
	if v == nil {
		return name
	}
	return name + ":" + v.Value
}
