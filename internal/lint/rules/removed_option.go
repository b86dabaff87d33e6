package rules

import (
	"fmt"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/corefile"
)

// removal is a plugin or option CoreDNS dropped. Option "" means the plugin.
type removal struct {
	plugin, option string
	in             lint.Version
	advice         string
	fix            func(f *corefile.File, d *corefile.Directive) *lint.Fix
}

// removals follows CoreDNS release notes and corefile-migration's tables.
var removals = []removal{
	{"proxy", "", lint.Version{1, 5, 0}, "use forward", fixProxy},
	{"federation", "", lint.Version{1, 7, 0}, "serve federated names with a dedicated stub domain instead", nil},
	{"kubernetes", "upstream", lint.Version{1, 7, 0}, "the kubernetes plugin resolves external names itself; drop the option", fixDrop},
	{"kubernetes", "resyncperiod", lint.Version{1, 7, 0}, "drop the option", fixDrop},
	{"kubernetes", "transfer", lint.Version{1, 8, 0}, "use the transfer plugin", nil},
	{"etcd", "upstream", lint.Version{1, 7, 0}, "drop the option", fixDrop},
	{"file", "upstream", lint.Version{1, 7, 0}, "drop the option", fixDrop},
	{"auto", "upstream", lint.Version{1, 7, 0}, "drop the option", fixDrop},
}

func fixProxy(f *corefile.File, d *corefile.Directive) *lint.Fix {
	if d.Open != nil {
		return nil // proxy's options differ from forward's: a human decides
	}
	return &lint.Fix{Message: "Replace proxy with forward", Edits: []lint.Edit{corefile.Replace(d.Name, "forward")}}
}

func fixDrop(f *corefile.File, d *corefile.Directive) *lint.Fix {
	return &lint.Fix{Message: "Remove " + d.Name.Text, Edits: []lint.Edit{f.DeleteLine(d)}}
}

// RemovedOption reports plugins and options that the target CoreDNS
// release no longer has.
var RemovedOption = lint.Rule{
	ID:       "corefile-removed-option",
	Title:    "plugin or option removed in the target CoreDNS",
	Severity: lint.Error,
	Scope:    lint.ScopeCorefile,
	Doc: "The plugin or option was removed in a CoreDNS release at or before --coredns-version (default: the " +
		"release dnslint links): proxy (1.5.0), federation (1.7.0), kubernetes upstream and resyncperiod " +
		"(1.7.0), kubernetes transfer (moved to the transfer plugin in 1.8.0). CoreDNS refuses to start on them, " +
		"typically after an upgrade that kept the old ConfigMap.",
	Remediation: "Replace proxy with forward, drop upstream and resyncperiod, move transfer to the transfer plugin.",
	Check: func(p *lint.Pass) {
		f := p.Corefile
		f.Walk(func(_ *corefile.ServerBlock, d *corefile.Directive) {
			for _, r := range removals {
				var hit bool
				if r.option == "" {
					hit = d.Parent == nil && d.Name.Text == r.plugin
				} else {
					hit = d.Parent != nil && d.Parent.Parent == nil && d.Parent.Name.Text == r.plugin && d.Name.Text == r.option
				}
				if !hit || p.Config.CoreDNSVersion.Less(r.in) {
					continue
				}
				what := "plugin " + r.plugin
				if r.option != "" {
					what = r.plugin + " option " + r.option
				}
				msg := fmt.Sprintf("%s was removed in CoreDNS %s: %s", what, r.in, r.advice)
				if r.fix != nil {
					if fx := r.fix(f, d); fx != nil {
						p.Report(d.Name.Offset, msg, *fx)
						continue
					}
				}
				p.Report(d.Name.Offset, msg)
			}
		})
	},
}
