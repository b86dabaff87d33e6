package test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/k8slint/k8slint/internal/testenv"
)

// `make build` links bin/dnslint as bin/kubectl-dnslint; kubectl finds a
// kubectl-NAME executable on PATH and runs it for `kubectl NAME`, with the
// arguments after NAME and its exit code. This runs a real kubectl on a
// PATH holding only the plugin (a link to the built dnslint, as make build
// makes) and kubectl itself, with no kubeconfig.
func TestDnslintRunsAsTheKubectlPluginKubectlDnslint(t *testing.T) {
	kubectl := kubectlBinary(t)
	bin, err := testenv.Binary("./cmd/dnslint")
	if err != nil {
		t.Fatal(err)
	}
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	plugins := t.TempDir()
	plugin := filepath.Join(plugins, "kubectl-dnslint")
	if err := os.Link(bin, plugin); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	env := append(os.Environ(),
		"PATH="+plugins+string(os.PathListSeparator)+filepath.Dir(kubectl),
		"HOME="+home,
		"KUBECONFIG="+filepath.Join(home, "no-kubeconfig"),
	)
	run := func(name string, args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Env = env
		cmd.Dir = root
		var out bytes.Buffer
		cmd.Stdout = &out
		cmd.Stderr = &out
		done := make(chan error, 1)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return out.String(), ee.ExitCode()
			}
			if err != nil {
				t.Fatalf("%s %v: %v", name, args, err)
			}
			return out.String(), 0
		case <-time.After(time.Minute):
			_ = cmd.Process.Kill()
			<-done
			t.Fatalf("%s %v: no exit within a minute; printed:\n%s", name, args, out.String())
			return "", 0
		}
	}
	version, _ := run(kubectl, "version", "--client")
	t.Logf("kubectl %s: %s", kubectl, strings.TrimSpace(strings.SplitN(version, "\n", 2)[0]))

	out, code := run(kubectl, "plugin", "list")
	if code != 0 || !strings.Contains(out, plugin+"\n") {
		t.Errorf("kubectl plugin list (exit %d) does not list %s:\n%s", code, plugin, out)
	}
	out, code = run(kubectl, "dnslint", "--help")
	if code != 0 || !strings.HasPrefix(out, "usage: kubectl dnslint [flags] PATH...") || !strings.Contains(out, "\n       kubectl dnslint explain RULE\n") {
		t.Errorf("kubectl dnslint --help (exit %d) does not show the plugin's name in its usage:\n%s", code, out)
	}
	direct, directCode := run(bin, "rules")
	out, code = run(kubectl, "dnslint", "rules")
	if code != 0 || out != direct || directCode != 0 {
		t.Errorf("kubectl dnslint rules (exit %d) differs from dnslint rules (exit %d):\n%s\n---\n%s", code, directCode, out, direct)
	}
	// A finding: the same report and exit code 1 through kubectl.
	bad := filepath.Join(t.TempDir(), "Corefile")
	if err := os.WriteFile(bad, []byte(".:53 {\n    forward . 127.0.0.1:5300\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	direct, directCode = run(bin, bad)
	out, code = run(kubectl, "dnslint", bad)
	if directCode != 1 || code != 1 || out != direct {
		t.Errorf("kubectl dnslint FILE exits %d and prints\n%s\nwhere dnslint FILE exits %d and prints\n%s", code, out, directCode, direct)
	}
	// A usage error: exit code 2, usage under the plugin's name.
	out, code = run(kubectl, "dnslint", "--fail-on", "nonsense", bad)
	if code != 2 || !strings.Contains(out, "usage: kubectl dnslint [flags]") {
		t.Errorf("kubectl dnslint --fail-on nonsense exits %d and prints:\n%s", code, out)
	}
}
