package rules

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
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
		"k8s_external answer, and reads a block's `import` of a file the input gives (another key of the ConfigMap, " +
		"the coredns-custom ConfigMap given alongside) or --root holds as CoreDNS in the pod would. An import of a " +
		"file given by neither lives in the pod: the finding then names it and says the names fail unless that " +
		"file adds a resolver, and is a warning, not an error: it is right only if the file adds none, which dnslint " +
		"cannot see (coredns/coredns#6855 is such a block, and its file added none). A block with any other plugin " +
		"that may answer (file, template, etcd, whoami, an import of a snippet of the same Corefile, chaos, ...) is " +
		"not judged, nor is an *.override snippet, a Corefile CoreDNS refuses, or a block whose keys are not plain " +
		"zones (placeholders, a top-level import).",
	Remediation: "Add `forward . /etc/resolv.conf` (or your upstreams) behind the plugins that fall through, or " +
		"drop `fallthrough`; where the warning names an imported file that does add a resolver, give that file " +
		"with the input (the coredns-custom ConfigMap) or pass --root.",
	Source:   "coredns/coredns#6855 (\"no next plugin found\"); FACTS.md, musl stops at SERVFAIL",
	Silent:   "every key of the block is answered, by its own plugins or by the files it imports that the input or --root gives; a block with a plugin whose answers dnslint cannot tell (file, template, a snippet import, ...); Corefiles CoreDNS refuses; *.override snippets. A block that answers only because of an import nobody gave is a warning, not silence",
	Requires: []lint.Requirement{validation},
	Check: func(p *lint.Pass) {
		if p.Unit.Snippet || len(p.Corefile.Errors) > 0 || validation.Of(p).Err != nil {
			return // corefile-invalid speaks for a Corefile CoreDNS refuses
		}
		imp := newImports(p)
		for _, sb := range p.Corefile.Blocks {
			if !zoneKeys(sb) || keyPlaceholder(p.Corefile, sb) {
				continue
			}
			imp.notGiven = nil
			covered, known := imp.answeredZones(sb, sb.Directives, 0)
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
				key := strings.TrimSuffix(k.Text, ",")
				if len(imp.notGiven) == 0 {
					p.Report(k.Offset, fmt.Sprintf("no plugin answers the names of %s outside %s: they reach the end of the chain and get SERVFAIL", key, what))
					break
				}
				// The block imports a file that lives in the pod and that
				// neither the input nor --root gives: the finding holds
				// unless that file adds a resolver, which dnslint cannot
				// see. Right or wrong depends on it, so not an error.
				p.ReportAs(lint.Warning, k.Offset, fmt.Sprintf("no plugin answers the names of %s outside %s unless %s, which lives in the CoreDNS pod and was not given (add it to the input or pass --root), adds one: otherwise they reach the end of the chain and get SERVFAIL", key, what, strings.Join(imp.notGiven, " or ")))
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

// imports says what a block's `import` of a file adds to its chain: the
// directives of the files the input (lint.Unit.PodFiles) or --root gives,
// read as CoreDNS reads them in the pod (podfs.go); an import of a file
// given by neither adds what dnslint cannot see, recorded in notGiven.
type imports struct {
	pass     *lint.Pass
	cfPath   string
	files    map[string][]byte
	root     string
	snippets map[string]bool
	notGiven []string // pod paths of the current block's imports not given
}

func newImports(p *lint.Pass) *imports {
	cfPath, files := p.Unit.PodFiles()
	return &imports{pass: p, cfPath: cfPath, files: files, root: p.Config.Root, snippets: snippetNames(p.Corefile)}
}

// read returns the directives the import d adds, and false when dnslint
// cannot tell what it imports (a snippet of the file, an environment
// variable, a file it cannot read). An import neither the input nor
// --root gives adds nothing known and is recorded in notGiven.
func (imp *imports) read(d *corefile.Directive) ([]*corefile.Directive, bool) {
	if len(d.Args) != 1 {
		return nil, false
	}
	a := d.Args[0]
	if a.Quoted || strings.Contains(a.Text, "{$") || imp.snippets[a.Text] || tokenPlaceholder(imp.pass.Corefile, a) {
		return nil, false
	}
	pp := pathRef{directive: "import", tok: a}.podPath(imp.cfPath)
	var bodies [][]byte
	switch {
	case provides(imp.files, pp):
		for name, body := range imp.files {
			if ok, _ := path.Match(pp, name); ok || name == pp {
				bodies = append(bodies, body)
			}
		}
	case imp.root != "":
		// A glob that matches nothing imports nothing, as in CoreDNS; a
		// missing plain file is refused by validation before this rule runs.
		names, err := filepath.Glob(filepath.Join(imp.root, filepath.FromSlash(pp)))
		if err != nil {
			return nil, false
		}
		for _, n := range names {
			// Only a regular file: a FIFO or a device is
			// corefile-not-validated's, and reading it may never end.
			fi, err := os.Stat(n)
			if err != nil || !fi.Mode().IsRegular() {
				return nil, false
			}
			body, err := os.ReadFile(n)
			if err != nil {
				return nil, false
			}
			bodies = append(bodies, body)
		}
	default:
		imp.notGiven = append(imp.notGiven, pp)
		return nil, true
	}
	var out []*corefile.Directive
	for _, body := range bodies {
		f := corefile.ParseSnippet(pp, body)
		if len(f.Errors) > 0 || len(f.Placeholders) > 0 {
			return nil, false
		}
		out = append(out, f.Blocks[0].Directives...)
	}
	return out, true
}

// answeredZones are the zones whose every name some plugin of sb (its
// directives ds, with what its imports add) answers; known is false when
// sb has a plugin whose answers the rule cannot tell.
func (imp *imports) answeredZones(sb *corefile.ServerBlock, ds []*corefile.Directive, depth int) (zones []string, known bool) {
	keys := func() []string {
		var out []string
		for _, k := range sb.Keys {
			out = append(out, keyZone(k.Text))
		}
		return out
	}
	for _, d := range ds {
		name := d.Name.Text
		switch {
		case passThrough[name]:
		case name == "import":
			if depth >= 8 { // CoreDNS refuses deeper import cycles itself
				return nil, false
			}
			more, ok := imp.read(d)
			if !ok {
				return nil, false
			}
			zs, ok := imp.answeredZones(sb, more, depth+1)
			if !ok {
				return nil, false
			}
			zones = append(zones, zs...)
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
