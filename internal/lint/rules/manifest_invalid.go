package rules

import "github.com/k8slint/k8slint/internal/lint"

// ManifestInvalid reports a manifest document that does not parse. Like
// the other input rules it has no check of its own (the driver reports
// it); it is in the table to be documented, enabled, disabled and
// suppressed like any other.
var ManifestInvalid = lint.Rule{
	ID:          lint.ManifestInvalid,
	Title:       "manifest does not parse",
	Severity:    lint.Error,
	Scope:       lint.ScopeInput,
	Doc:         "A YAML or JSON document could not be read, so nothing in it was linted. Other documents of the file still are. Templated files (Helm, Go templates) are the usual cause.",
	Remediation: "Render templates first (helm template, kustomize build) and lint the output, or fix the YAML at the line given.",
	Source:      "the YAML and JSON parsers dnslint reads manifests with",
	Silent:      "the file parses",
}
