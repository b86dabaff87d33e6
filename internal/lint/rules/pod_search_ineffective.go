package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/resolver"
)

// PodSearchIneffective reports search domains that do not do what they
// seem to: ones already on the list, and a search line musl skips.
var PodSearchIneffective = lint.Rule{
	ID:       "pod-search-ineffective",
	Title:    "search domain without effect",
	Severity: lint.Warning,
	Scope:    lint.ScopeWorkload,
	Doc: "A dnsConfig.searches entry that is already on the pod's search list (the cluster's " +
		"`<ns>.svc.<domain>`, `svc.<domain>`, `<domain>`, the node's, or an earlier entry) is dropped by kubelet " +
		"and adds nothing. And musl (Alpine) reads resolv.conf lines into a 256-byte buffer and skips any longer " +
		"line entirely: with a search line over 254 characters, musl containers get no search list at all, so " +
		"in-cluster short names fail for them while glibc containers resolve them.",
	Remediation: "Remove the duplicate entry (the fix does); keep the search line under 255 characters for musl " +
		"images, or use fully qualified names.",
	Source:   "kubelet's search merge; musl resolvconf.c (256-byte lines)",
	Silent:   "search entries that add a domain, lines under 255 characters",
	Requires: []lint.Requirement{podDNS},
	Check: func(p *lint.Pass) {
		w := p.Workload
		e := podDNS.Of(p)
		if e.Err != nil {
			return
		}
		if dc := w.DNSConfig; dc != nil && len(dc.Searches) > 0 {
			spec := w.KubeletPod(e.Namespace)
			spec.DNSConfig.Searches = nil
			base, err := e.Cluster.ResolvConf(spec)
			if err == nil {
				have := slices.Clone(base.Conf.Search)
				for _, s := range dc.Searches {
					if slices.Contains(have, s.Value) {
						p.Report(s.Offset, fmt.Sprintf("search domain %s is already on the pod's search list: kubelet drops it and it adds nothing (%s)", s.Value, sample(e)),
							fix("Remove search domain "+s.Value, w.DeleteItem(s.Node))...)
						continue
					}
					have = append(have, s.Value)
				}
			}
		}
		line := resolver.SearchLine(e.Result.Conf)
		if len(line) <= resolver.MuslMaxLine {
			return
		}
		var musl []string
		for i, ct := range w.Containers {
			if f := e.Families[i]; f.Known && f.Kind == resolver.Musl {
				musl = append(musl, ct.Name)
			}
		}
		if len(musl) == 0 {
			return
		}
		cost := ""
		for _, u := range e.InCluster() {
			if u.Absolute {
				continue
			}
			q, nx := e.Cluster.Cost(resolver.Musl, e.Result.Conf, u.Name)
			cost = fmt.Sprintf("; %s: %d queries per lookup, %d NXDOMAIN, fails", u.Name.Name, q, nx)
			break
		}
		off := anchor(e.Spec, "")
		if w.DNSConfig != nil && len(w.DNSConfig.Searches) > 0 {
			off = w.DNSConfig.Searches[0].KeyOffset
		}
		p.Report(off, fmt.Sprintf("the search line is %d characters; musl skips lines over %d, so musl container %s gets no search list%s",
			len(line), resolver.MuslMaxLine, strings.Join(musl, ", "), cost))
	},
}
