package rules

import "github.com/k8slint/k8slint/internal/lint"

// NotValidated reports a Corefile that dnslint did not hand to CoreDNS's
// setup code because it names a file reading could hang on.
var NotValidated = lint.Rule{
	ID:       "corefile-not-validated",
	Title:    "Corefile names a file dnslint will not read",
	Severity: lint.Warning,
	Scope:    lint.ScopeCorefile,
	Doc: "An `import`, `file`, `hosts` or `tls` line names something that is not a regular file (a device such as " +
		"/dev/zero, a FIFO, a socket; symbolic links are followed) or a file larger than dnslint's input limit " +
		"(8 MiB). CoreDNS reads imported files to their end and the file and tls plugins read theirs while " +
		"parsing the Corefile, so on /dev/zero it never finishes starting and on a FIFO it blocks until a writer " +
		"appears; hosts reads its file at start-up. dnslint therefore does not run CoreDNS's setup code on this " +
		"Corefile (corefile-invalid and corefile-setup-warning stay silent) and reports this instead; imported " +
		"files are followed up to 10 levels. /dev/null, which reads as empty, is read like an empty file. Directories and missing files are left to CoreDNS, which reports them " +
		"itself. A regular file within the limit is validated exactly as CoreDNS would; a larger regular file may " +
		"well be accepted by CoreDNS, but is not validated.",
	Remediation: "Point the line at a regular file (a mounted ConfigMap key is one), or suppress the finding with " +
		"a reason if the special file is intended.",
	Source:   "caddy's import and the file, tls and hosts setups (they read the file while parsing)",
	Silent:   "every file named is a regular file within the input limit",
	Requires: []lint.Requirement{validation},
	Check: func(p *lint.Pass) {
		r := validation.Of(p).Refused
		if r == nil {
			return
		}
		msg := "not validated: " + r.Directive + " " + r.Path + ": " + r.Reason
		p.Report(offsetFor(p.Corefile, r.Line, msg), msg)
	},
}
