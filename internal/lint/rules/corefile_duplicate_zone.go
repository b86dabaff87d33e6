package rules

import (
	"fmt"
	"strings"

	"github.com/k8slint/k8slint/internal/lint"
)

// DuplicateZone reports a zone and port served by two server blocks.
var DuplicateZone = lint.Rule{
	ID:       "corefile-duplicate-zone",
	Title:    "zone served twice on one port",
	Severity: lint.Error,
	Scope:    lint.ScopeCorefile,
	Doc: "Two server blocks (or two keys of one block) name the same zone on the same port and transport. " +
		"CoreDNS refuses to start: it cannot decide which block answers.",
	Remediation: "Merge the blocks, or serve the zone on different ports.",
	Check: func(p *lint.Pass) {
		seen := map[string]bool{}
		for _, sb := range serverBlocks(p) {
			for _, k := range sb.Keys {
				n := normalizeKey(k.Text)
				if n == "" {
					continue
				}
				if seen[n] {
					p.Report(k.Offset, fmt.Sprintf("zone %s is already served by an earlier server block", k.Text))
				}
				seen[n] = true
			}
		}
	},
}

// normalizeKey turns a server key into scheme://zone.:port.
func normalizeKey(k string) string {
	k = strings.TrimSuffix(k, ",")
	if strings.HasPrefix(k, "(") || strings.Contains(k, "{$") {
		return "" // snippet definitions and env placeholders
	}
	scheme := "dns"
	if i := strings.Index(k, "://"); i >= 0 {
		scheme, k = k[:i], k[i+3:]
	}
	port := map[string]string{"dns": "53", "tls": "853", "grpc": "443", "https": "443", "quic": "853"}[scheme]
	if i := strings.LastIndexByte(k, ':'); i >= 0 && !strings.Contains(k[i:], "]") {
		k, port = k[:i], k[i+1:]
	}
	k = strings.ToLower(k)
	if !strings.HasSuffix(k, ".") {
		k += "."
	}
	return scheme + "://" + k + ":" + port
}
