package docstest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Options says where and how the examples of a page run.
type Options struct {
	// Dir is the working directory of every example of the page; the
	// examples run one after the other in it, as a reader would, so one
	// may use what an earlier one wrote.
	Dir string
	// PATH is put before $PATH (the built binaries, say).
	PATH []string
	// Env is added to the environment (KEY=value).
	Env []string
	// Have lists what the test provides; an example whose marker needs
	// something missing here is skipped, saying so.
	Have map[string]bool
	// Normalize, if set, is applied to both the output shown and the
	// output printed before they are compared (to mask a temporary path
	// or an age).
	Normalize func(string) string
	// Timeout bounds each example (default 2 minutes).
	Timeout time.Duration
}

// Result is what one command of an example printed and returned.
type Result struct {
	Output string
	Code   int
}

// Run runs every shell example of the Markdown page at path, one subtest
// per example, and fails where a command's output differs from the page
// or a command fails unexpectedly.
func Run(t *testing.T, path string, opts Options) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := Parse(filepath.Base(path), src)
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) == 0 {
		t.Fatalf("%s: no docs-test example", path)
	}
	for _, b := range blocks {
		t.Run(fmt.Sprintf("line-%d", b.Line), func(t *testing.T) {
			for _, need := range b.Needs {
				if !opts.Have[need] {
					t.Skipf("%s:%d needs %s, which this test does not provide", b.File, b.Line, need)
				}
			}
			results, err := Exec(b, opts)
			if err != nil {
				t.Fatalf("%s:%d: %v", b.File, b.Line, err)
			}
			for _, msg := range Check(b, results, opts.Normalize) {
				t.Error(msg)
			}
		})
	}
}

// Check compares the results of an example's commands with the page and
// returns a message for each difference.
func Check(b Block, results []Result, normalize func(string) string) []string {
	var msgs []string
	if normalize == nil {
		normalize = func(s string) string { return s }
	}
	for i, st := range b.Steps {
		if i >= len(results) {
			msgs = append(msgs, fmt.Sprintf("%s:%d: $ %s: did not run", b.File, st.Line, st.Command))
			continue
		}
		r := results[i]
		if r.Code != 0 && (i+1 >= len(b.Steps) || strings.TrimSpace(b.Steps[i+1].Command) != "echo $?") {
			msgs = append(msgs, fmt.Sprintf("%s:%d: $ %s: exit code %d (show it with `echo $?` as the next command if it is meant)\n%s", b.File, st.Line, st.Command, r.Code, r.Output))
		}
		got, want := clean(normalize(r.Output)), clean(normalize(st.Want))
		if !Match(want, got) {
			msgs = append(msgs, fmt.Sprintf("%s:%d: $ %s: the page shows\n%s\n--- but it printed\n%s", b.File, st.Line, st.Command, want, got))
		}
	}
	return msgs
}

// clean drops trailing spaces of each line and trailing empty lines.
func clean(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t\r")
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n")
}

// Match reports whether got equals want, where a line "..." in want
// matches any number of lines.
func Match(want, got string) bool {
	var w, g []string
	if want != "" {
		w = strings.Split(want, "\n")
	}
	if got != "" {
		g = strings.Split(got, "\n")
	}
	return match(w, g)
}

func match(w, g []string) bool {
	for len(w) > 0 {
		if w[0] == "..." {
			for k := 0; k <= len(g); k++ {
				if match(w[1:], g[k:]) {
					return true
				}
			}
			return false
		}
		if len(g) == 0 || w[0] != g[0] {
			return false
		}
		w, g = w[1:], g[1:]
	}
	return len(g) == 0
}

// Separators the script prints around each command's output; control
// characters no example prints.
const (
	sepStart = "\x1e"
	sepEnd   = "\x1f"
)

var sepRE = regexp.MustCompile(`(?s)` + sepStart + `\n(.*?)\n` + sepEnd + `(\d+)\n`)

// Exec runs the commands of one example in one bash process, in order,
// and returns each one's output and exit code. $? carries over from one
// command to the next, so `echo $?` shows the previous command's code.
func Exec(b Block, opts Options) ([]Result, error) {
	var script strings.Builder
	script.WriteString("exec 2>&1\n__docstest_rc=0\n")
	for _, st := range b.Steps {
		fmt.Fprintf(&script, "printf '%s\\n'\n(exit $__docstest_rc)\n%s\n__docstest_rc=$?\nprintf '\\n%s%%d\\n' \"$__docstest_rc\"\n", sepStart, st.Command, sepEnd)
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", "-c", script.String())
	cmd.Dir = opts.Dir
	env := os.Environ()
	if len(opts.PATH) > 0 {
		env = append(env, "PATH="+strings.Join(opts.PATH, string(os.PathListSeparator))+string(os.PathListSeparator)+os.Getenv("PATH"))
	}
	cmd.Env = append(env, opts.Env...)
	// Its own process group, killed whole on timeout.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.Output()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("timed out after %s; printed:\n%s", timeout, out)
	}
	if err != nil {
		return nil, fmt.Errorf("bash: %v; printed:\n%s", err, out)
	}
	var results []Result
	for _, m := range sepRE.FindAllStringSubmatch(string(out), -1) {
		code, _ := strconv.Atoi(m[2])
		results = append(results, Result{Output: m[1], Code: code})
	}
	if len(results) != len(b.Steps) {
		return results, fmt.Errorf("%d of %d commands finished; printed:\n%s", len(results), len(b.Steps), out)
	}
	return results, nil
}
