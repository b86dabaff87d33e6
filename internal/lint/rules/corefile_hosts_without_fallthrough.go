package rules

import (
	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/corefile"
)

// HostsWithoutFallthrough reports hosts that answers NXDOMAIN for every
// name it does not list, in a block that must resolve every name.
var HostsWithoutFallthrough = lint.Rule{
	ID:       "corefile-hosts-without-fallthrough",
	Title:    "hosts without fallthrough",
	Severity: lint.Error,
	Scope:    lint.ScopeCorefile,
	Doc: "hosts without fallthrough answers NXDOMAIN for every name in its zones (by default the server block's) " +
		"that its file does not list, so the plugins after it (kubernetes, forward) never see those queries " +
		"(coredns/coredns#3276, hosts README \"fallthrough\"). Where its zones include the root zone or the " +
		"cluster domain, every Service and external name stops resolving: an error. A hosts plugin serving its " +
		"own zone (`test { hosts ... }`, or `hosts FILE example.org` in a `.` block) is authoritative by design and " +
		"stays silent, and so does an *.override snippet given alone (its zones are those of a block dnslint does not see).",
	Remediation: "Add `fallthrough` to the hosts block.",
	Source:      "coredns/coredns#3276; hosts README (fallthrough)",
	Silent:      "hosts has fallthrough, or serves only zones other than the root and the cluster domain",
	Check: func(p *lint.Pass) {
		cd := fqdn(p.Config.ClusterDomain)
		for _, sb := range p.Corefile.Blocks {
			for _, h := range sb.Find("hosts") {
				if h.Child("fallthrough") != nil || !hostsCoversAll(sb, h, cd) {
					continue
				}
				p.Report(h.Name.Offset, "hosts has no fallthrough: every name it does not list gets NXDOMAIN, Services and external names included",
					lint.Fix{Message: "Add fallthrough", Edits: p.Corefile.AddOption(h, "fallthrough")})
			}
		}
	},
}

// hostsCoversAll reports whether hosts directive h answers for the root
// zone or the cluster domain cd: its zone arguments (after the file), or
// the block's keys when it names none.
func hostsCoversAll(sb *corefile.ServerBlock, h *corefile.Directive, cd string) bool {
	var zones []string
	if len(h.Args) > 1 {
		for _, a := range h.Args[1:] {
			zones = append(zones, keyZone(a.Text))
		}
	} else {
		for _, k := range sb.Keys {
			zones = append(zones, keyZone(k.Text))
		}
	}
	for _, z := range zones {
		if z == "." || z == cd || len(cd) > len(z) && cd[len(cd)-len(z)-1:] == "."+z {
			return true
		}
	}
	return false
}
