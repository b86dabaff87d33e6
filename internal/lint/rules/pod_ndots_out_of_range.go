package rules

import (
	"fmt"
	"strconv"

	"github.com/k8slint/k8slint/internal/lint"
)

// maxNdots is the cap glibc, musl and Go put on ndots.
const maxNdots = 15

// PodNdotsOutOfRange reports an ndots value resolvers cap or cannot read.
var PodNdotsOutOfRange = lint.Rule{
	ID:       "pod-ndots-out-of-range",
	Title:    "ndots not a number from 0 to 15",
	Severity: lint.Warning,
	Scope:    lint.ScopeWorkload,
	Doc: "glibc, musl and Go cap ndots at 15: a larger value means 15, and every name with fewer dots walks the " +
		"whole search list. A value that is not a number, or is negative, is not read the same way by glibc, musl " +
		"and Go: the setting does not say what the pod " +
		"gets.",
	Remediation: "Use a number from 0 to 15; usually the lowest that keeps in-cluster short names working " +
		"(pod-ndots-high computes it). The fix writes 15 for larger values, which is what resolvers use.",
	Source:   "resolv.conf(5), musl resolvconf.c, Go net/dnsconfig_unix.go (ndots capped at 15)",
	Silent:   "ndots from 0 to 15",
	Requires: []lint.Requirement{podDNS},
	Check: func(p *lint.Pass) {
		e := podDNS.Of(p)
		o := option(e.Spec, "ndots")
		if o == nil || o.Value == nil {
			return
		}
		v := o.Value
		n, err := strconv.Atoi(v.Value)
		switch {
		case err != nil || n < 0:
			p.Report(v.Offset, fmt.Sprintf("ndots %q is not a number from 0 to %d: resolvers do not agree on what it means", v.Value, maxNdots))
		case n > maxNdots:
			cost := ""
			if e.Err == nil {
				cost = " (" + sample(e) + ")"
			}
			p.Report(v.Offset, fmt.Sprintf("ndots:%d is capped at %d by glibc, musl and Go%s", n, maxNdots, cost),
				fix(fmt.Sprintf("Set ndots to %d", maxNdots), e.Spec.ReplaceScalar(*v, strconv.Quote(strconv.Itoa(maxNdots))))...)
		}
	},
}
