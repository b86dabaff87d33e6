package rules

import (
	"strings"

	"github.com/k8slint/k8slint/internal/lint"
)

// SetupWarning reports what a plugin's setup logs as a warning or error
// while CoreDNS still starts.
var SetupWarning = lint.Rule{
	ID:       "corefile-setup-warning",
	Title:    "a plugin warns while setting up",
	Severity: lint.Warning,
	Scope:    lint.ScopeCorefile,
	Doc: "CoreDNS accepts the Corefile, but a plugin's own setup code logs a warning or an error, such as " +
		"`hosts` naming a file that does not exist (it answers nothing until the file appears) or `file` " +
		"failing to open its zone file (it serves SERVFAIL and retries at its reload interval). Paths are " +
		"resolved as CoreDNS resolves them in its pod (imports relative to /etc/coredns, hosts and zone files " +
		"relative to /), never on the machine dnslint runs on: a file the input provides (another key of the " +
		"ConfigMap, a coredns-custom ConfigMap given alongside) is checked, one under --root DIR is checked " +
		"there, any other is not checked. An import glob that matches nothing is legal and not reported.",
	Remediation: "Fix the path or the option the message names, or pass --root with a copy of the files the " +
		"CoreDNS container holds.",
	Source:   "the plugins' setup code in CoreDNS v1.15.0 (what they log)",
	Silent:   "the setups log nothing; a file neither the input nor --root provides; an import glob matching nothing",
	Requires: []lint.Requirement{validation},
	Check: func(p *lint.Pass) {
		f := p.Corefile
		for _, l := range validation.Of(p).Logs {
			line, msg := splitValidateError(l)
			msg = strings.TrimPrefix(strings.TrimPrefix(msg, "[WARNING] "), "[ERROR] ")
			if strings.HasPrefix(msg, "No files matching import glob pattern") {
				continue // legal: k3s and AKS import *.server globs that often match nothing
			}
			p.Report(offsetFor(f, line, msg), "CoreDNS logs: "+msg)
		}
	},
}
