package rules

import (
	"fmt"
	"strings"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/corefile"
)

// DuplicateZone reports a zone and port served by two server blocks.
var DuplicateZone = lint.Rule{
	ID:       "corefile-duplicate-zone",
	Title:    "zone served twice on one port",
	Severity: lint.Error,
	Scope:    lint.ScopeCorefile,
	Doc: "Two server blocks (or two keys of one block) name the same zone on the same port and transport, and " +
		"listen on a common address. CoreDNS refuses to start: it cannot decide which block answers. Blocks " +
		"whose `bind` addresses differ are separate servers (AKS LocalDNS serves `.:53` twice, on 169.254.10.10 " +
		"and 169.254.10.11): CoreDNS accepts them and the rule is silent.",
	Remediation: "Merge the blocks, or serve the zone on different ports.",
	Source:      "CoreDNS core/dnsserver register.go (\"cannot serve ... it is already defined\")",
	Silent:      "the blocks differ in transport, port or bind addresses (AKS LocalDNS)",
	Check: func(p *lint.Pass) {
		seen := map[string]bool{}
		for _, sb := range serverBlocks(p) {
			binds := bindAddresses(sb)
			for _, k := range sb.Keys {
				n := normalizeKey(k.Text)
				if n == "" {
					continue
				}
				dup := false
				for _, b := range binds {
					dup = dup || seen[n+"@"+b]
					seen[n+"@"+b] = true
				}
				if dup {
					p.Report(k.Offset, fmt.Sprintf("zone %s is already served by an earlier server block", k.Text))
				}
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

// bindAddresses are the addresses block sb listens on, as its bind
// plugin names them; "" (every address) without bind.
func bindAddresses(sb *corefile.ServerBlock) []string {
	var out []string
	for _, b := range sb.Find("bind") {
		for _, a := range b.Args {
			out = append(out, strings.ToLower(a.Text))
		}
	}
	if len(out) == 0 {
		out = []string{""}
	}
	return out
}
