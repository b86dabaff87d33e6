package manifest

import (
	"strings"
	"testing"

	"github.com/k8slint/k8slint/internal/lint/textedit"
)

const foldedConfigMap = `apiVersion: v1
kind: ConfigMap
metadata:
  name: coredns
data:
  Corefile: >
    .:53 {
        errors
    }
`

func TestAFoldedFixThatYAMLWouldJoinIsRefused(t *testing.T) {
	f := Load([]byte(foldedConfigMap))
	e := &f.Objects[0].Corefiles[0]
	if !e.Exact || e.NoFix != "" {
		t.Fatalf("a folded scalar whose lines are all kept maps exactly; got exact=%v nofix=%q", e.Exact, e.NoFix)
	}
	// After "}\n": a second server block at the keys' indentation would
	// be folded into the line before it.
	end := len(e.Text)
	joined := []textedit.Edit{{Start: end, End: end, New: "example.org {\n    whoami\n}\n"}}
	if got := e.MapEdits(joined); got != nil {
		t.Errorf("an edit that YAML folding would change was mapped: %+v", got)
	}
	kept := []textedit.Edit{{Start: len(".:53 {\n    errors"), End: len(".:53 {\n    errors"), New: "\n    cache 30"}}
	if got := e.MapEdits(kept); got == nil {
		t.Error("an edit adding a more-indented line was refused")
	}
}

func TestAKindlessFragmentWithACorefileKeyIsRead(t *testing.T) {
	for name, src := range map[string]string{
		"data only (kubectl edit)": "data:\n  Corefile: |\n    .:53 {\n        errors\n    }\n",
		"the data mapping alone":   "  Corefile: |\n    .:53 {\n        errors\n    }\n",
	} {
		f := Load([]byte(src))
		if len(f.Objects) != 1 || len(f.Objects[0].Corefiles) != 1 {
			t.Errorf("%s: got %d objects, want one with its Corefile", name, len(f.Objects))
			continue
		}
		if got := f.Objects[0].Corefiles[0].Text; got != ".:53 {\n    errors\n}\n" {
			t.Errorf("%s: Corefile %q", name, got)
		}
	}
	// A kind-less mapping without a Corefile key is not a ConfigMap.
	if f := Load([]byte("data:\n  other: x\n")); len(f.Objects) == 1 && len(f.Objects[0].Corefiles) != 0 {
		t.Error("a kind-less mapping without Corefile key was read as a Corefile")
	}
}

func TestAHelmTemplateIsReadWithItsActionsMasked(t *testing.T) {
	src := "{{- if .Values.enabled }}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ template \"coredns.fullname\" . }}\ndata:\n  Corefile: |\n    .:53 {\n        kubernetes {{ .Values.domain }}\n    }\n{{- end }}\n"
	f := Load([]byte(src))
	if len(f.Errors) != 0 || len(f.Objects) != 1 || len(f.Objects[0].Corefiles) != 1 {
		t.Fatalf("errors %v, %d objects", f.Errors, len(f.Objects))
	}
	if len(f.Templates) != 4 || f.Templates[0] != 0 {
		t.Errorf("template offsets %v, want 4 starting at 0", f.Templates)
	}
	// Same length: every offset of the file stays where it was (the
	// {{- end }} line, a comment now, is YAML's, outside the Corefile).
	if got := strings.TrimSpace(f.Objects[0].Corefiles[0].Text); got != ".:53 {\n    kubernetes __VALUESDOMAINXXXX__\n}" {
		t.Errorf("Corefile %q", got)
	}
	// An action-only line before a block scalar's first line (kops) is
	// a comment indented as that line: its blanks would be more indented
	// than the scalar, which YAML refuses.
	kops := "data:\n  Corefile: |\n  {{- if .External }}  # x\n{{ .External | indent 4 }}\n  {{- else }}\n    .:53 {\n        errors\n    }\n  {{- end }}\n"
	if f := Load([]byte(kops)); len(f.Errors) != 0 || len(f.Objects) != 1 || len(f.Objects[0].Corefiles) != 1 || len(f.Templates) != 4 {
		t.Fatalf("kops: errors %v, %d objects, templates %v", f.Errors, len(f.Objects), f.Templates)
	} else if got := f.Objects[0].Corefiles[0].Text; !strings.Contains(got, ".:53 {\n    errors\n}") {
		t.Errorf("kops: Corefile %q", got)
	}
	// A control action leading other text (Helm's server key) is masked
	// as a word: as blanks it would set the block scalar's indentation.
	helm := "data:\n  Corefile: |-\n    {{- range .zones }}{{ .zone }}{{ end -}}\n    {{- if .port }}:{{ .port }}{{ end }} {\n      errors\n    }\n"
	if f := Load([]byte(helm)); len(f.Errors) != 0 || len(f.Objects) != 1 || len(f.Objects[0].Corefiles) != 1 {
		t.Errorf("helm: errors %v, %d objects", f.Errors, len(f.Objects))
	}
	// YAML that parses is read as it is.
	if f := Load([]byte("data:\n  Corefile: |\n    {{ .X }}\n")); len(f.Templates) != 0 {
		t.Errorf("a parsing file was masked: %v", f.Templates)
	}
}
