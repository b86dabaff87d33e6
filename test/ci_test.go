package test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/k8slint/k8slint/internal/testenv"
)

// preCommitHook is a hook of a .pre-commit-hooks.yaml, with every field
// pre-commit's manifest schema has.
type preCommitHook struct {
	ID                      string   `yaml:"id"`
	Name                    string   `yaml:"name"`
	Entry                   string   `yaml:"entry"`
	Language                string   `yaml:"language"`
	Files                   string   `yaml:"files"`
	Exclude                 string   `yaml:"exclude"`
	Types                   []string `yaml:"types"`
	TypesOr                 []string `yaml:"types_or"`
	ExcludeTypes            []string `yaml:"exclude_types"`
	AlwaysRun               bool     `yaml:"always_run"`
	FailFast                bool     `yaml:"fail_fast"`
	Verbose                 bool     `yaml:"verbose"`
	PassFilenames           *bool    `yaml:"pass_filenames"`
	RequireSerial           bool     `yaml:"require_serial"`
	Description             string   `yaml:"description"`
	LanguageVersion         string   `yaml:"language_version"`
	MinimumPreCommitVersion string   `yaml:"minimum_pre_commit_version"`
	Args                    []string `yaml:"args"`
	Stages                  []string `yaml:"stages"`
	AdditionalDependencies  []string `yaml:"additional_dependencies"`
	LogFile                 string   `yaml:"log_file"`
}

// runIn runs name with args in dir, PATH starting with pathDir, and returns
// its combined output and exit code.
func runIn(t *testing.T, dir, pathDir, name string, args ...string) (string, int) {
	t.Helper()
	// exec looks a bare name up in this process's PATH: look in pathDir first.
	if p := filepath.Join(pathDir, name); !strings.Contains(name, "/") {
		if _, err := os.Stat(p); err == nil {
			name = p
		}
	}
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+pathDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return string(out), 0
}

// .pre-commit-hooks.yaml parses with pre-commit's fields only; each hook's
// files pattern takes Corefiles, ConfigMaps and manifests and leaves code;
// its entry is a command of this repository (what `go install ./...`
// installs for language golang) and, run as pre-commit runs it (entry,
// args, file names), passes clean files and fails a manifest with
// findings.
func TestPreCommitHooksParseAndTheirEntryRuns(t *testing.T) {
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, ".pre-commit-hooks.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var hooks []preCommitHook
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&hooks); err != nil {
		t.Fatalf(".pre-commit-hooks.yaml: %v", err)
	}
	if len(hooks) == 0 {
		t.Fatal(".pre-commit-hooks.yaml has no hook")
	}
	list, err := exec.Command("go", "list", "-C", root, "-f", `{{if eq .Name "main"}}{{.ImportPath}}{{end}}`, "./...").Output()
	if err != nil {
		t.Fatal(err)
	}
	bin := docsBin(t)
	for _, h := range hooks {
		if h.ID == "" || h.Name == "" || h.Entry == "" {
			t.Errorf("hook %+v: id, name and entry are required", h)
			continue
		}
		switch h.Language {
		case "golang":
			if !regexp.MustCompile(`(?m)/` + regexp.QuoteMeta(h.Entry) + `$`).Match(list) {
				t.Errorf("hook %s: entry %s is not a command `go install ./...` installs:\n%s", h.ID, h.Entry, list)
			}
		case "system":
		default:
			t.Errorf("hook %s: language %s", h.ID, h.Language)
		}
		files, err := regexp.Compile(h.Files)
		if err != nil {
			t.Errorf("hook %s: files: %v", h.ID, err)
			continue
		}
		for path, want := range map[string]bool{
			"corefiles/kubeadm.Corefile":              true,
			"Corefile":                                true,
			"deploy/coredns-configmap.yaml":           true,
			"docs/examples/checkout.yaml":             true,
			"k8s/base/deployment.yml":                 true,
			"deploy/monitoring/dashboards_out/x.json": true,
			"cmd/dnslint/main.go":                     false,
			"README.md":                               false,
			"corefiles/corefiles.go":                  false,
		} {
			if files.MatchString(path) != want {
				t.Errorf("hook %s: files %q matches %s: %v, want %v", h.ID, h.Files, path, !want, want)
			}
		}
		args := append(append(strings.Fields(h.Entry)[1:], h.Args...), "corefiles/kubeadm.Corefile", "deploy/coredns-configmap.yaml")
		if out, code := runIn(t, root, bin, strings.Fields(h.Entry)[0], args...); code != 0 {
			t.Errorf("hook %s on clean files: exit %d\n%s", h.ID, code, out)
		}
		args = append(append(strings.Fields(h.Entry)[1:], h.Args...), "docs/examples/checkout.yaml")
		if out, code := runIn(t, root, bin, strings.Fields(h.Entry)[0], args...); code != 1 || !strings.Contains(out, "[pod-ndots-high]") {
			t.Errorf("hook %s on a manifest with findings: exit %d\n%s", h.ID, code, out)
		}
	}
}

// workflowStep is a step of a GitHub Actions job.
type workflowStep struct {
	Name string `yaml:"name"`
	Run  string `yaml:"run"`
	If   string `yaml:"if"`
}

// The dnslint steps of the GitHub Actions example run as written against
// the built dnslint, in a copy of the repository: on deploy/ as it is, the
// lint step passes and writes SARIF without results; with a manifest with
// findings added, it fails (exit 1) and the SARIF names the rule and the
// file, and the step that runs on failure prints the findings.
func TestTheGitHubActionsExampleStepsRunAsWritten(t *testing.T) {
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "deploy/ci/github-actions.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			Steps []workflowStep `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(raw, &wf); err != nil {
		t.Fatal(err)
	}
	steps := map[string]workflowStep{}
	for _, s := range wf.Jobs["dnslint"].Steps {
		steps[s.Name] = s
	}
	lint, show := steps["Lint"], steps["Show the findings"]
	if !strings.HasPrefix(lint.Run, "dnslint ") || !strings.HasPrefix(show.Run, "dnslint ") || show.If != "failure()" {
		t.Fatalf("the workflow's dnslint steps changed: %+v %+v", lint, show)
	}
	bin := docsBin(t)
	dir := copyRepo(t, root)
	sarif := func() (results []map[string]any) {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, "dnslint.sarif"))
		if err != nil {
			t.Fatal(err)
		}
		var log struct {
			Runs []struct {
				Tool struct {
					Driver struct{ Name string } `json:"driver"`
				} `json:"tool"`
				Results []map[string]any `json:"results"`
			} `json:"runs"`
		}
		if err := json.Unmarshal(b, &log); err != nil || len(log.Runs) != 1 || log.Runs[0].Tool.Driver.Name != "dnslint" {
			t.Fatalf("dnslint.sarif is not dnslint's SARIF (%v):\n%.300s", err, b)
		}
		return log.Runs[0].Results
	}
	if out, code := runIn(t, dir, bin, "bash", "-e", "-c", lint.Run); code != 0 {
		t.Fatalf("Lint on deploy/: exit %d\n%s", code, out)
	}
	if r := sarif(); len(r) != 0 {
		t.Errorf("Lint on deploy/: %d results, want none", len(r))
	}
	example, err := os.ReadFile(filepath.Join(root, "docs/examples/checkout.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "deploy/checkout.yaml"), example, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := runIn(t, dir, bin, "bash", "-e", "-c", lint.Run); code != 1 {
		t.Fatalf("Lint with a finding: exit %d, want 1\n%s", code, out)
	}
	results := sarif()
	text, _ := json.Marshal(results)
	if !strings.Contains(string(text), `"ruleId":"pod-ndots-high"`) || !strings.Contains(string(text), "deploy/checkout.yaml") {
		t.Errorf("the SARIF results do not hold the finding:\n%s", text)
	}
	out, code := runIn(t, dir, bin, "bash", "-e", "-c", show.Run)
	if code != 1 || !strings.Contains(out, "deploy/checkout.yaml:17:7: warning: ndots:5") {
		t.Errorf("Show the findings: exit %d\n%s", code, out)
	}
}
