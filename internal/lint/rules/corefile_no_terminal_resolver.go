package rules

import (
	"fmt"
	"strings"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/corefile"
)

// NoTerminalResolver reports a server block in which some names reach the
// end of the plugin chain unanswered.
var NoTerminalResolver = lint.Rule{
	ID:       "corefile-no-terminal-resolver",
	Title:    "names no plugin answers",
	Severity: lint.Error,
	Scope:    lint.ScopeCorefile,
	Doc: "Every query a server block receives must be answered by some plugin. kubernetes, hosts and forward " +
		"answer only their zones, and kubernetes or hosts with `fallthrough` pass the names they do not know " +
		"on; a name that no plugin answers reaches the end of the chain and CoreDNS answers SERVFAIL (\"no next " +
		"plugin found\", coredns/coredns#6855). glibc moves on to the next search domain after a SERVFAIL, musl " +
		"gives up the whole lookup (FACTS.md). The rule knows only what kubernetes, hosts, forward, proxy and " +
		"k8s_external answer: a block with any other plugin that may answer (file, template, etcd, whoami, an " +
		"import, chaos, ...) is not judged, nor is an *.override snippet, a Corefile CoreDNS refuses, " +
		"or a block whose keys are not plain zones (placeholders, a top-level import).",
	Remediation: "Add `forward . /etc/resolv.conf` (or your upstreams) behind the plugins that fall through, or " +
		"drop `fallthrough`.",
	Source:   "coredns/coredns#6855 (\"no next plugin found\"); FACTS.md, musl stops at SERVFAIL",
	Silent:   "every key of the block is answered; a block with a plugin whose answers dnslint cannot tell (file, template, import, ...); Corefiles CoreDNS refuses; *.override snippets",
	Requires: []lint.Requirement{validation},
	Check: func(p *lint.Pass) {
		if p.Unit.Snippet || len(p.Corefile.Errors) > 0 || validation.Of(p).Err != nil {
			return // corefile-invalid speaks for a Corefile CoreDNS refuses
		}
		for _, sb := range p.Corefile.Blocks {
			if !zoneKeys(sb) || keyPlaceholder(p.Corefile, sb) {
				continue
			}
			covered, known := answeredZones(sb)
			if !known {
				continue
			}
			for _, k := range sb.Keys {
				if normalizeKey(k.Text) == "" {
					continue
				}
				kz := keyZone(k.Text)
				ok := false
				for _, z := range covered {
					ok = ok || under(kz, z)
				}
				if ok {
					continue
				}
				what := "nothing"
				if len(covered) > 0 {
					what = strings.Join(covered, " ")
				}
				p.Report(k.Offset, fmt.Sprintf("no plugin answers the names of %s outside %s: they reach the end of the chain and get SERVFAIL", strings.TrimSuffix(k.Text, ","), what))
				break
			}
		}
	},
}

// passThrough are plugins that never answer an ordinary query for every
// name themselves: they observe, rewrite, filter or answer only special
// names and call the next plugin.
var passThrough = map[string]bool{
	"acl": true, "any": true, "autopath": true, "bind": true, "bufsize": true, "cache": true, "cancel": true,
	"debug": true, "dns64": true, "dnssec": true, "dnstap": true, "errors": true, "geoip": true,
	"header": true, "health": true, "k8slint": true, "loadbalance": true, "local": true, "log": true, "loop": true,
	"metadata": true, "minimal": true, "multisocket": true, "nsid": true, "pprof": true, "prometheus": true,
	"ready": true, "reload": true, "rewrite": true, "root": true, "timeouts": true, "tls": true, "trace": true,
	"transfer": true, "view": true,
}

// answeredZones are the zones whose every name some plugin of sb answers;
// known is false when sb has a plugin whose answers the rule cannot tell.
func answeredZones(sb *corefile.ServerBlock) (zones []string, known bool) {
	keys := func() []string {
		var out []string
		for _, k := range sb.Keys {
			out = append(out, keyZone(k.Text))
		}
		return out
	}
	for _, d := range sb.Directives {
		name := d.Name.Text
		switch {
		case passThrough[name]:
		case name == "forward" || name == "proxy":
			if len(d.Args) == 0 || !isZoneText(d.Args[0].Text) {
				return nil, false
			}
			zones = append(zones, zoneName(d.Args[0].Text))
		case name == "kubernetes" || name == "hosts" || name == "k8s_external":
			args := d.Args
			if name == "hosts" && len(args) > 0 {
				args = args[1:]
			}
			var zs []string
			for _, a := range args {
				if !isZoneText(a.Text) {
					return nil, false
				}
				zs = append(zs, zoneName(a.Text))
			}
			if len(zs) == 0 {
				zs = keys()
			}
			ft := d.Child("fallthrough")
			if ft != nil && len(ft.Args) == 0 {
				continue // passes every name it does not know on
			}
			for _, z := range zs {
				through := false
				for _, a := range argsOf(ft) {
					through = through || under(z, zoneName(a))
				}
				if !through {
					zones = append(zones, z)
				}
			}
		default:
			return nil, false
		}
	}
	return zones, true
}

func argsOf(d *corefile.Directive) []string {
	if d == nil {
		return nil
	}
	return d.ArgTexts()
}

// zoneKeys reports whether sb is a braced server block keyed by plain
// zones (with an optional scheme and port), not a placeholder or a
// top-level import read as keys.
func zoneKeys(sb *corefile.ServerBlock) bool {
	if sb.Open == nil || len(sb.Keys) == 0 {
		return false
	}
	for _, k := range sb.Keys {
		t := strings.TrimSuffix(k.Text, ",")
		if i := strings.Index(t, "://"); i >= 0 {
			t = t[i+3:]
		}
		if i := strings.LastIndexByte(t, ':'); i >= 0 {
			t = t[:i]
		}
		if !isZoneText(t) {
			return false
		}
	}
	return true
}

// keyPlaceholder reports whether a key of sb holds a placeholder: the
// zone the block will serve is not known until it is filled in.
func keyPlaceholder(f *corefile.File, sb *corefile.ServerBlock) bool {
	for _, k := range sb.Keys {
		for _, x := range f.Placeholders {
			if x.Offset >= k.Offset && x.Offset < k.End {
				return true
			}
		}
	}
	return false
}
