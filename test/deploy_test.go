package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/k8slint/k8slint/internal/testenv"
)

// deploy/coredns-configmap.yaml must carry exactly kubeadm's Corefile with
// k8slint (corefiles/kubeadm.Corefile, comments aside), and everything in
// deploy/ must lint clean.
func TestTheDeployConfigMapIsTheShippedKubeadmCorefile(t *testing.T) {
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "deploy", "coredns-configmap.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cm struct {
		Data map[string]string `yaml:"data"`
	}
	if err := yaml.Unmarshal(raw, &cm); err != nil {
		t.Fatal(err)
	}
	shipped, err := os.ReadFile(filepath.Join(root, "corefiles", "kubeadm.Corefile"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := directiveLines(cm.Data["Corefile"]), directiveLines(string(shipped)); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("deploy/coredns-configmap.yaml's Corefile:\n%s\ndiffers from corefiles/kubeadm.Corefile:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	bin, err := testenv.Binary("./cmd/dnslint")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--fail-on", "info", filepath.Join(root, "deploy")).CombinedOutput()
	if err != nil {
		t.Fatalf("dnslint deploy/: %v\n%s", err, out)
	}
}

// directiveLines returns the lines of a Corefile without comments, blank
// lines and indentation.
func directiveLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, l)
	}
	return out
}
