package rules

import (
	"regexp"
	"testing"

	"github.com/k8slint/k8slint/corefiles"
	"github.com/k8slint/k8slint/internal/lint"
)

// shippedFindings lints a shipped Corefile with every rule at every
// severity; suppressions in the file itself say why a finding stands.
func shippedFindings(t *testing.T, name string, body []byte) []lint.Finding {
	opts := lint.Options{Config: lint.Config{CoreDNSVersion: lint.DefaultCoreDNSVersion, ClusterDomain: "cluster.local"}, Rules: All(),
		Known: func(id string) bool { _, ok := ByID(id); return ok }}
	return lintBytes(t, name, body, opts)
}

func TestShippedCorefilesLintCleanWithDocumentedSuppressions(t *testing.T) {
	for _, name := range corefiles.Names() {
		body, err := corefiles.Read(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range shippedFindings(t, name, []byte(body)) {
			t.Errorf("%s:%d:%d: %s [%s]", name, f.Line, f.Col, f.Message, f.RuleID)
		}
	}
}

func TestTheShippedCorefilesCheckFailsOnAFinding(t *testing.T) {
	body, err := corefiles.Read("kubeadm.Corefile")
	if err != nil {
		t.Fatal(err)
	}
	// Without its suppression the kubeadm default's pods insecure shows.
	stripped := []byte(regexpIgnore.ReplaceAllString(body, ""))
	found := false
	for _, f := range shippedFindings(t, "kubeadm.Corefile", stripped) {
		found = found || f.RuleID == PodsInsecure.ID
	}
	if !found {
		t.Fatal("kubeadm.Corefile without its suppressions lints clean: the shipped-Corefiles test cannot fail")
	}
}

var regexpIgnore = regexp.MustCompile(`(?m)^\s*# dnslint:ignore .*\n`)
