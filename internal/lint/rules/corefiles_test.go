package rules

import (
	"sort"
	"strings"
	"testing"

	"github.com/k8slint/k8slint/corefiles"
	"github.com/k8slint/k8slint/internal/lint"
)

// shippedFindings documents the findings the project's own Corefiles are
// allowed to carry, with the reason; everything else must lint clean. These
// belong as `# dnslint:ignore` comments in the files themselves
// (corefiles/ is owned by the lead); until then they are listed here.
var shippedFindings = map[string]string{
	"demo.Corefile:corefile-forward-no-max-concurrent":         "loopback stub upstreams in a demo; no memory risk",
	"kubeadm.Corefile:corefile-pods-insecure":                  "kubeadm's default, kept verbatim",
	"kubeadm.Corefile:corefile-forward-resolv-conf":            "kubeadm's default, kept verbatim; loop is enabled",
	"nodelocaldns.Corefile:corefile-forward-no-max-concurrent": "NodeLocal DNSCache's upstream manifest, kept verbatim",
	"nodelocaldns.Corefile:corefile-forward-resolv-conf":       "NodeLocal DNSCache's upstream manifest, kept verbatim; loop is enabled",
	"nodelocaldns.Corefile:corefile-health-without-lameduck":   "a node-local DaemonSet behind no Service: lameduck would not keep queries flowing",
}

func TestShippedCorefilesLintCleanOrCarryDocumentedFindings(t *testing.T) {
	opts := lint.Options{Config: lint.Config{CoreDNSVersion: lint.DefaultCoreDNSVersion, ClusterDomain: "cluster.local"}, Rules: All(),
		Known: func(id string) bool { _, ok := ByID(id); return ok }}
	used := map[string]bool{}
	for _, name := range corefiles.Names() {
		body, err := corefiles.Read(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range lintBytes(t, name, []byte(body), opts) {
			key := name + ":" + f.RuleID
			if _, ok := shippedFindings[key]; !ok {
				t.Errorf("%s:%d:%d: %s [%s]", name, f.Line, f.Col, f.Message, f.RuleID)
			}
			used[key] = true
		}
	}
	var stale []string
	for k := range shippedFindings {
		if !used[k] {
			stale = append(stale, k)
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		t.Errorf("documented findings that no longer occur: %s", strings.Join(stale, ", "))
	}
}
