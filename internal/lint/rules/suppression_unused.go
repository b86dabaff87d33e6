package rules

import "github.com/k8slint/k8slint/internal/lint"

// SuppressionUnused reports a suppression that suppresses nothing (an
// input rule: the driver reports it).
var SuppressionUnused = lint.Rule{
	ID:          lint.SuppressionUnused,
	Title:       "suppression matches no finding",
	Severity:    lint.Warning,
	Scope:       lint.ScopeInput,
	Doc:         "The suppressed rule reports nothing on the line below the comment (or in the annotated object). Stale suppressions hide the next real finding.",
	Remediation: "Remove the suppression, or move it directly above the line the finding points at.",
	Source:      "dnslint (a suppression that matches nothing hides nothing, as staticcheck reports)",
	Silent:      "suppressions that match a finding, or name a rule that is not enabled",
}
