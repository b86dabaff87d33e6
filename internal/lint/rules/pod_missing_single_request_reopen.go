package rules

import (
	"fmt"
	"strings"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/resolvconf"
	"github.com/k8slint/k8slint/internal/resolver"
)

// PodMissingSingleRequestReopen reports glibc pods on cluster DNS that
// send A and AAAA in parallel from one socket, and musl pods that set the
// option for nothing.
var PodMissingSingleRequestReopen = lint.Rule{
	ID:       "pod-missing-single-request-reopen",
	Title:    "glibc pod sends A and AAAA in parallel from one socket",
	Severity: lint.Info,
	Scope:    lint.ScopeWorkload,
	Doc: "glibc's getaddrinfo sends the A and AAAA queries at the same moment from one UDP socket. Through the " +
		"DNAT of the cluster DNS Service, one of the pair can be dropped by the conntrack insertion race; the " +
		"client then waits its timeout (5 s by default) and sends again. `options single-request-reopen` makes " +
		"glibc send them one after the other, the second from a new socket. The rule looks only at containers " +
		"whose image is glibc-based (see the image heuristic in the README; `--resolver` overrides it). musl " +
		"(Alpine) ignores single-request, single-request-reopen and use-vc and always sends the pair in parallel: " +
		"for musl containers the option does nothing, and the rule says so where a pod sets it; NodeLocal " +
		"DNSCache (no DNAT towards the node-local cache, TCP to CoreDNS) is the mitigation that works for every " +
		"resolver.",
	Remediation: "Add `dnsConfig.options: [{name: single-request-reopen}]` for glibc images (the fix does), or " +
		"deploy NodeLocal DNSCache, which helps musl and glibc alike.",
	Source:   "kubernetes#56903, weave#3287; FACTS.md, the A/AAAA conntrack race",
	Silent:   "musl and Go images, unknown images, pods that set the option or use-vc",
	Requires: []lint.Requirement{podDNS},
	Check: func(p *lint.Pass) {
		e := podDNS.Of(p)
		if e.Err != nil || e.Result.Policy != resolvconf.ClusterFirst && e.Result.Policy != resolvconf.ClusterFirstWithHostNet {
			return
		}
		conf := e.Result.Conf
		var glibc, musl []string
		for i, ct := range e.Spec.Containers {
			f := e.Families[i]
			switch {
			case f.Known && f.Kind == resolver.GLibc:
				glibc = append(glibc, ct.Name)
			case f.Known && f.Kind == resolver.Musl:
				musl = append(musl, ct.Name)
			}
		}
		if option(e.Spec, "single-request-reopen") != nil && len(musl) > 0 {
			p.Report(anchor(e.Spec, "single-request-reopen"), fmt.Sprintf("single-request-reopen does nothing for musl container %s: musl always sends A and AAAA in parallel from one socket (%s); NodeLocal DNSCache avoids the conntrack race for them",
				strings.Join(musl, ", "), sample(e)))
		}
		if len(glibc) == 0 || conf.Has("single-request-reopen") || conf.Has("single-request") || conf.Has("use-vc") {
			return
		}
		s := resolver.Effective(resolver.GLibc, conf)
		msg := fmt.Sprintf("glibc container %s sends A and AAAA in parallel from one socket: a query lost to the conntrack race costs a %d s timeout and 2 more queries (%s)",
			strings.Join(glibc, ", "), s.Timeout, sample(e))
		if len(musl) > 0 {
			msg += fmt.Sprintf("; musl container %s ignores the option", strings.Join(musl, ", "))
		}
		p.Report(anchor(e.Spec, "single-request-reopen"), msg, fix("Add option single-request-reopen", e.Spec.SetOption("single-request-reopen", nil))...)
	},
}
