package rules

import "github.com/k8slint/k8slint/internal/lint"

// ManifestDuplicateKey reports a key given twice in one YAML mapping. An
// input rule: the driver reports it from the loader's model.
var ManifestDuplicateKey = lint.Rule{
	ID:       lint.ManifestDuplicateKey,
	Title:    "a YAML key is given twice",
	Severity: lint.Warning,
	Scope:    lint.ScopeInput,
	Doc: "A mapping holds the same key twice, such as two `Corefile:` keys in a ConfigMap's data after a " +
		"copy and paste. YAML forbids it, but kubectl and most readers accept it and keep the last value: the " +
		"first is dropped without a word, so the configuration applied is not the one a reviewer reads first. " +
		"dnslint lints what kubectl applies (the last value) and names both lines.",
	Remediation: "Keep one of the two keys: merge what the first held into the one that is applied, or delete it.",
	Source:      "YAML 1.2 (mapping keys are unique); kubectl's decoder keeps the last value",
	Silent:      "every mapping's keys are distinct",
}
