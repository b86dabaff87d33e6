package rules

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/corefile"
)

// ZoneOutsideBlock reports a plugin zone its server block never receives.
var ZoneOutsideBlock = lint.Rule{
	ID:       "corefile-zone-outside-block",
	Title:    "plugin zone outside its server block",
	Severity: lint.Warning,
	Scope:    lint.ScopeCorefile,
	Doc: "A server block receives only the names under its keys; on one port CoreDNS hands each query to the " +
		"block with the most specific matching key. A zone a plugin names (`forward FROM`, the zones of " +
		"kubernetes, hosts or file) that lies outside every key of its block, or that a more specific block on the " +
		"same port and bind addresses (one CoreDNS server) takes, never reaches the plugin: `kubernetes cluster.local in-addr.arpa` in a `cluster.local:53` " +
		"block answers no reverse lookup, `forward foo.com ...` in a `bar.com:53` block forwards nothing. Silent " +
		"for a zone that contains a key of the block (`kubernetes .` in a `svc:53` block serves that block's names).",
	Remediation: "Serve the zone in a block keyed by it, or drop it from the plugin (the fix drops it where the " +
		"plugin keeps another zone).",
	Source: "CoreDNS core/dnsserver (a query goes to the most specific matching key on its port); plugin READMEs (zones)",
	Silent: "the zone is a key of the block, lies under one, contains one, or is not a plain name; a more specific block that listens on other bind addresses, or has a view (its filter passes only some queries on)",
	Check: func(p *lint.Pass) {
		if p.Unit.Snippet {
			return
		}
		for _, sb := range p.Corefile.Blocks {
			for _, d := range sb.Directives {
				zones := pluginZones(d)
				var outside []string
				var drop []lint.Edit
				for _, z := range zones {
					other, ok := zoneReaches(p.Corefile.Blocks, sb, zoneName(z.Text))
					if ok {
						continue
					}
					if other != "" {
						outside = append(outside, z.Text+" (served by the more specific block "+other+" on the same port)")
					} else {
						outside = append(outside, z.Text+" (outside the block's keys "+keyTexts(sb)+")")
					}
					drop = append(drop, dropToken(p.Corefile, z))
				}
				if len(outside) == 0 {
					continue
				}
				msg := fmt.Sprintf("%s zone %s: its names never reach this %s", d.Name.Text, strings.Join(outside, ", "), d.Name.Text)
				if d.Name.Text == "forward" || d.Name.Text == "proxy" || len(drop) == len(zones) {
					p.Report(d.Args[0].Offset, msg)
					continue
				}
				p.Report(d.Args[0].Offset, msg, lint.Fix{Message: "Drop the zones that never reach " + d.Name.Text, Edits: drop})
			}
		}
	},
}

// pluginZones are the zone arguments of d: forward's and proxy's FROM,
// the zones kubernetes names, those after the file of hosts and file.
func pluginZones(d *corefile.Directive) []corefile.Token {
	var zs []corefile.Token
	switch d.Name.Text {
	case "forward", "proxy":
		if len(d.Args) > 0 {
			zs = d.Args[:1]
		}
	case "kubernetes":
		zs = d.Args
	case "hosts", "file":
		if len(d.Args) > 1 {
			zs = d.Args[1:]
		}
	}
	var out []corefile.Token
	for _, z := range zs {
		if isZoneText(z.Text) {
			out = append(out, z)
		}
	}
	return out
}

// isZoneText reports whether t reads as a domain name, not a placeholder
// or a path.
func isZoneText(t string) bool {
	if t == "" || t == "." {
		return t == "."
	}
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// zoneName is the zone of a plugin argument: fully qualified, lower case,
// a leading dot dropped (".svc" names svc).
func zoneName(t string) string {
	if t != "." {
		t = strings.TrimPrefix(t, ".")
	}
	return keyZone(t)
}

// under reports whether name is zone or below it.
func under(name, zone string) bool {
	return zone == "." || name == zone || strings.HasSuffix(name, "."+zone)
}

// listenOf is a key's scheme and port: blocks compete for a query only on
// the same one.
func listenOf(k string) string {
	n := normalizeKey(k)
	return n[:strings.Index(n, "://")] + n[strings.LastIndexByte(n, ':'):]
}

// zoneReaches reports whether some names of zone z reach block sb: z
// contains a key of sb, or sb's most specific key containing z is more
// specific than any other block's key on the same port. When another
// block takes z, other names its key.
func zoneReaches(blocks []*corefile.ServerBlock, sb *corefile.ServerBlock, z string) (other string, ok bool) {
	best, bestLen := "", -1
	for _, k := range sb.Keys {
		if normalizeKey(k.Text) == "" {
			return "", true // a snippet or an env placeholder: unknown
		}
		kz := keyZone(k.Text)
		if under(kz, z) {
			return "", true
		}
		if under(z, kz) && len(kz) > bestLen {
			best, bestLen = k.Text, len(kz)
		}
	}
	if bestLen < 0 {
		return "", false
	}
	listen := listenOf(best)
	hosts := listenHosts(sb)
	for _, o := range blocks {
		// Another block takes z from sb only where both listen: CoreDNS
		// makes one server per scheme, bind address and port. A block
		// with a view takes only the queries its filter passes; the rest
		// go on to less specific keys.
		if o == sb || o.Has("view") || !covers(listenHosts(o), hosts) {
			continue
		}
		for _, k := range o.Keys {
			if normalizeKey(k.Text) == "" || listenOf(k.Text) != listen {
				continue
			}
			if kz := keyZone(k.Text); under(z, kz) && len(kz) > bestLen {
				return strings.TrimSuffix(k.Text, ","), false
			}
		}
	}
	return "", true
}

// listenHosts are the addresses sb's bind directives name, sorted; [""]
// (every address) without bind. An interface name or an `except` is kept
// as text: two blocks are taken to share a listener only when the texts
// match.
func listenHosts(sb *corefile.ServerBlock) []string {
	var hs []string
	for _, d := range sb.Find("bind") {
		hs = append(hs, d.ArgTexts()...)
	}
	if len(hs) == 0 {
		return []string{""}
	}
	sort.Strings(hs)
	return hs
}

// covers reports whether every host of want is in have.
func covers(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// dropToken removes token t and the blanks before it.
func dropToken(f *corefile.File, t corefile.Token) lint.Edit {
	s := t.Offset
	for s > 0 && (f.Src[s-1] == ' ' || f.Src[s-1] == '\t') {
		s--
	}
	return lint.Edit{Start: s, End: t.End}
}
