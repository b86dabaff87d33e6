package rules

import "github.com/k8slint/k8slint/internal/lint"

// The input rules are reported by the loaders and the driver, not by a
// check of their own; they are in the table so they can be documented,
// enabled, disabled and suppressed like any other.

// ManifestInvalid reports a manifest document that does not parse.
var ManifestInvalid = lint.Rule{
	ID:          lint.ManifestInvalid,
	Title:       "manifest does not parse",
	Severity:    lint.Error,
	Scope:       lint.ScopeInput,
	Doc:         "A YAML or JSON document could not be read, so nothing in it was linted. Other documents of the file still are. Templated files (Helm, Go templates) are the usual cause.",
	Remediation: "Render templates first (helm template, kustomize build) and lint the output, or fix the YAML at the line given.",
}

// SuppressionInvalid reports a dnslint:ignore comment or annotation that
// lacks a reason or names an unknown rule.
var SuppressionInvalid = lint.Rule{
	ID:          lint.SuppressionInvalid,
	Title:       "malformed suppression",
	Severity:    lint.Warning,
	Scope:       lint.ScopeInput,
	Doc:         "A `# dnslint:ignore RULE reason` comment or a `dnslint.io/ignore: \"RULE[,RULE]: reason\"` annotation must name known rules and say why. A suppression without a reason hides a finding from the next reader without telling them why.",
	Remediation: "Name the rule ID exactly as `dnslint rules` lists it and add a reason after it.",
}

// SuppressionUnused reports a suppression that suppresses nothing.
var SuppressionUnused = lint.Rule{
	ID:          lint.SuppressionUnused,
	Title:       "suppression matches no finding",
	Severity:    lint.Warning,
	Scope:       lint.ScopeInput,
	Doc:         "The suppressed rule reports nothing on the line below the comment (or in the annotated object). Stale suppressions hide the next real finding.",
	Remediation: "Remove the suppression, or move it directly above the line the finding points at.",
}
