package rules

import "github.com/k8slint/k8slint/internal/lint"

// SuppressionInvalid reports a dnslint:ignore comment or annotation that
// lacks a reason or names an unknown rule (an input rule: the driver
// reports it).
var SuppressionInvalid = lint.Rule{
	ID:          lint.SuppressionInvalid,
	Title:       "malformed suppression",
	Severity:    lint.Warning,
	Scope:       lint.ScopeInput,
	Doc:         "A `# dnslint:ignore RULE reason` comment or a `dnslint.io/ignore: \"RULE[,RULE]: reason\"` annotation must name known rules and say why. A suppression without a reason hides a finding from the next reader without telling them why.",
	Remediation: "Name the rule ID exactly as `dnslint rules` lists it and add a reason after it.",
	Source:      "dnslint's suppression syntax (`# dnslint:ignore RULE reason`)",
	Silent:      "well-formed suppressions naming known rules with a reason",
}
