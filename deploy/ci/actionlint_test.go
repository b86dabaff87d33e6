// Package ci holds the CI examples of the project (github-actions.yaml)
// and checks them with actionlint, a Go module kept out of the project's
// go.mod.
package ci

import (
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
)

// lint runs actionlint on a workflow, with shellcheck on the run: scripts
// when it is installed.
func lint(t *testing.T, name string, src []byte) []*actionlint.Error {
	t.Helper()
	opts := &actionlint.LinterOptions{}
	if p, err := exec.LookPath("shellcheck"); err == nil {
		opts.Shellcheck = p
	} else if os.Getenv("CI") != "" {
		t.Fatal("shellcheck not found: .ci/run installs it")
	} else {
		t.Log("shellcheck not found: run: scripts are not checked")
	}
	l, err := actionlint.NewLinter(io.Discard, opts)
	if err != nil {
		t.Fatal(err)
	}
	errs, err := l.Lint(name, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	return errs
}

// The example workflow passes actionlint: syntax, expressions, the inputs
// of the actions it uses, permissions, and (with shellcheck) its scripts.
func TestTheGitHubActionsExamplePassesActionlint(t *testing.T) {
	src, err := os.ReadFile("github-actions.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range lint(t, "github-actions.yaml", src) {
		t.Errorf("%s", e.Error())
	}
	// A wrong input name of setup-go, and a wrong expression, are caught:
	// the check above can fail.
	bads := map[string]string{
		"go-version:":   "go-versions:",
		"success() || ": "sucess() || ",
	}
	if _, err := exec.LookPath("shellcheck"); err == nil {
		bads["run: dnslint deploy/"] = "run: dnslint $(ls deploy)" // SC2046
	}
	for old, new := range bads {
		bad := strings.Replace(string(src), old, new, 1)
		if errs := lint(t, "bad.yaml", []byte(bad)); len(errs) == 0 {
			t.Errorf("actionlint accepts the workflow with %q", new)
		}
	}
}
