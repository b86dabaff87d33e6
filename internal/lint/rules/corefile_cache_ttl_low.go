package rules

import (
	"fmt"
	"strconv"

	"github.com/k8slint/k8slint/internal/lint"
)

// minCacheTTL is the cap below which a cache barely caches.
const minCacheTTL = 5

// CacheTTLLow reports a cache whose maximum TTL is too low to absorb load.
var CacheTTLLow = lint.Rule{
	ID:       "corefile-cache-ttl-low",
	Title:    "cache TTL below 5 seconds",
	Severity: lint.Warning,
	Scope:    lint.ScopeCorefile,
	Doc: "The first argument of cache caps how long answers are kept. Below 5 seconds almost every query from a " +
		"busy cluster goes to the API watch or the upstream again, and the cache protects nothing.",
	Remediation: "Use `cache 30` (the Kubernetes default) or lower TTLs per record type with `success`/`denial`.",
	Source:      "cache README (CAPACITY and TTL); kubeadm's default `cache 30`",
	Silent:      "the cache's TTL is 5 s or more, or cache takes no TTL argument",
	Check: func(p *lint.Pass) {
		for _, c := range directives(p, "cache") {
			if len(c.Args) == 0 {
				continue
			}
			n, err := strconv.Atoi(c.Args[0].Text)
			if err != nil || n >= minCacheTTL {
				continue
			}
			a := c.Args[0]
			p.Report(a.Offset, fmt.Sprintf("cache TTL %d is below %d seconds: the cache barely caches", n, minCacheTTL),
				lint.Fix{Message: "Set the cache TTL to 30", Edits: []lint.Edit{{Start: a.Offset, End: a.End, New: "30"}}})
		}
	},
}
