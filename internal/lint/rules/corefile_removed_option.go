package rules

import (
	"fmt"
	"regexp"
	"sync"

	"github.com/coredns/corefile-migration/migration"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/corefile"
)

// removal is what dnslint adds to corefile-migration's tables for one
// removed plugin or option (option "" means the plugin): advice, a fix, and
// for what those tables lack, the release that removed it.
type removal struct {
	plugin, option string
	// in is the release that removed it; zero when corefile-migration's
	// tables name the release (a test pins that they do).
	in     lint.Version
	advice string
	fix    func(f *corefile.File, d *corefile.Directive) *lint.Fix
}

// removals lists advice and fixes for what corefile-migration knows, and
// the removals it lacks: its tables hold only the plugins of the default
// Kubernetes Corefile (CoreDNS release notes 1.7.0 for the others).
var removals = []removal{
	{"proxy", "", lint.Version{}, "use forward", fixProxy},
	{"kubernetes", "upstream", lint.Version{}, "the kubernetes plugin resolves external names itself; drop the option", fixDrop},
	{"kubernetes", "resyncperiod", lint.Version{}, "drop the option", fixDrop},
	{"kubernetes", "transfer", lint.Version{}, "use the transfer plugin", nil},

	{"federation", "", lint.Version{1, 7, 0}, "serve federated names with a dedicated stub domain instead", nil},
	{"etcd", "upstream", lint.Version{1, 7, 0}, "drop the option", fixDrop},
	{"file", "upstream", lint.Version{1, 7, 0}, "drop the option", fixDrop},
	{"auto", "upstream", lint.Version{1, 7, 0}, "drop the option", fixDrop},
}

// valueSpecific lists removals corefile-migration records for a whole
// option although only one value went away: proxy's `protocol https_google`.
var valueSpecific = map[[2]string]string{{"proxy", "protocol"}: "https_google"}

func fixProxy(f *corefile.File, d *corefile.Directive) *lint.Fix {
	if d.Open != nil {
		return nil // proxy's options differ from forward's: a human decides
	}
	return &lint.Fix{Message: "Replace proxy with forward", Edits: []lint.Edit{corefile.Replace(d.Name, "forward")}}
}

func fixDrop(f *corefile.File, d *corefile.Directive) *lint.Fix {
	return &lint.Fix{Message: "Remove " + d.Name.Text, Edits: []lint.Edit{f.DeleteLine(d)}}
}

// migrationAnswer is what corefile-migration's tables say about one
// plugin or option for one target release.
type migrationAnswer struct {
	removed    bool
	in         lint.Version
	replacedBy string
}

var (
	migrationCache sync.Map // migrationKey → migrationAnswer
	migrationName  = regexp.MustCompile(`^[a-z0-9_]+$`)
	migrationOnce  sync.Once
	migrationVers  []lint.Version // the releases its tables know, oldest first
)

// migrationRelease is the newest release corefile-migration knows at or
// before target; ok is false when target predates all of them. A target
// newer than its newest release gets the newest (removals stay removed;
// later ones are dnslint's table's business).
func migrationRelease(target lint.Version) (lint.Version, bool) {
	migrationOnce.Do(func() {
		for _, s := range migration.ValidVersions() {
			if v, err := lint.ParseVersion(s); err == nil {
				migrationVers = append(migrationVers, v)
			}
		}
	})
	var best lint.Version
	ok := false
	for _, v := range migrationVers {
		if !target.Less(v) {
			best, ok = v, true
		}
	}
	return best, ok
}

// migrationRemoval asks corefile-migration whether plugin (option "") or
// an option of plugin is removed in target: it walks the tables from their
// oldest release up to target over a Corefile holding only that name, so
// no user text reaches its parser. Answers are cached.
func migrationRemoval(target lint.Version, plugin, option string) migrationAnswer {
	key := migrationKey{target, plugin, option}
	if a, ok := migrationCache.Load(key); ok {
		return a.(migrationAnswer)
	}
	a := askMigration(target, plugin, option)
	migrationCache.Store(key, a)
	return a
}

type migrationKey struct {
	target         lint.Version
	plugin, option string
}

func askMigration(target lint.Version, plugin, option string) migrationAnswer {
	if !migrationName.MatchString(plugin) || (option != "" && !migrationName.MatchString(option)) {
		return migrationAnswer{}
	}
	to, ok := migrationRelease(target)
	if !ok || len(migrationVers) == 0 {
		return migrationAnswer{}
	}
	cf := ". {\n" + plugin + "\n}\n"
	if option != "" {
		cf = ". {\n" + plugin + " {\n" + option + "\n}\n}\n"
	}
	notices, err := migration.Deprecated(migrationVers[0].String(), to.String(), cf)
	if err != nil {
		return migrationAnswer{}
	}
	for _, n := range notices {
		if n.Severity != migration.SevRemoved || n.Plugin != plugin || n.Option != option {
			continue
		}
		if v, err := lint.ParseVersion(n.Version); err == nil {
			return migrationAnswer{removed: true, in: v, replacedBy: n.ReplacedBy}
		}
	}
	return migrationAnswer{}
}

// ours returns dnslint's entry for plugin and option.
func ours(plugin, option string) (removal, bool) {
	for _, r := range removals {
		if r.plugin == plugin && r.option == option {
			return r, true
		}
	}
	return removal{}, false
}

// removedIn reports whether plugin/option is gone in target, the release
// that removed it and what to do instead.
func removedIn(target lint.Version, plugin, option string) (lint.Version, string, bool) {
	r, known := ours(plugin, option)
	if a := migrationRemoval(target, plugin, option); a.removed {
		advice := r.advice
		switch {
		case advice != "":
		case a.replacedBy != "":
			advice = "use " + a.replacedBy
		default:
			advice = "remove it"
		}
		return a.in, advice, true
	}
	if known && r.in != (lint.Version{}) && !target.Less(r.in) {
		return r.in, r.advice, true
	}
	return lint.Version{}, "", false
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
		"typically after an upgrade that kept the old ConfigMap. The releases come from the tables of " +
		"github.com/coredns/corefile-migration (the library kubeadm uses to migrate CoreDNS ConfigMaps) for the " +
		"plugins it covers, those of the default Kubernetes Corefile, and for a --coredns-version newer than its " +
		"newest release, from that release; dnslint's own table adds what it lacks (federation, the upstream " +
		"option of etcd, file and auto). Only removals count: options its tables call deprecated or ignored still " +
		"start.",
	Remediation: "Replace proxy with forward, drop upstream and resyncperiod, move transfer to the transfer plugin.",
	Source:      "CoreDNS release notes 1.5.0, 1.7.0, 1.8.0; github.com/coredns/corefile-migration",
	Silent:      "--coredns-version predates the removal",
	Requires:    []lint.Requirement{removedOptions},
	Check: func(p *lint.Pass) {
		for _, h := range removedOptions.Of(p) {
			if h.fix != nil {
				p.Report(h.d.Name.Offset, h.msg, *h.fix)
			} else {
				p.Report(h.d.Name.Offset, h.msg)
			}
		}
	},
}

// removedHit is one removed plugin or option in a Corefile.
type removedHit struct {
	d   *corefile.Directive
	msg string
	fix *lint.Fix
}

// removedOptions are the removed plugins and options of a unit, computed
// once: corefile-removed-option reports them, and corefile-invalid and
// corefile-unknown-plugin stay silent on their lines (one defect, one
// finding: the most specific, with its fix).
var removedOptions = lint.NewFact("removed-options", lint.ScopeCorefile, func(p *lint.Pass) []removedHit {
	var out []removedHit
	f := p.Corefile
	f.Walk(func(_ *corefile.ServerBlock, d *corefile.Directive) {
		var plugin, option string
		switch {
		case d.Parent == nil:
			plugin = d.Name.Text
		case d.Parent.Parent == nil:
			plugin, option = d.Parent.Name.Text, d.Name.Text
		default:
			return
		}
		if v, ok := valueSpecific[[2]string{plugin, option}]; ok && (len(d.Args) == 0 || d.Args[0].Text != v) {
			return
		}
		in, advice, ok := removedIn(p.Config.CoreDNSVersion, plugin, option)
		if !ok {
			return
		}
		what := "plugin " + plugin
		if option != "" {
			what = plugin + " option " + option
		}
		h := removedHit{d: d, msg: fmt.Sprintf("%s was removed in CoreDNS %s: %s", what, in, advice)}
		if r, ok := ours(plugin, option); ok && r.fix != nil {
			h.fix = r.fix(f, d)
		}
		out = append(out, h)
	})
	return out
})

// removedOn reports whether a removed plugin or option stands on line.
func removedOn(p *lint.Pass, line int) bool {
	for _, h := range removedOptions.Of(p) {
		if h.d.Name.Line == line {
			return true
		}
	}
	return false
}
