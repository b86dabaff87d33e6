package docstest

import (
	"strings"
	"testing"
)

const page = "# A page\n\n" +
	"<!-- docs-test -->\n" +
	"```sh\n" +
	"$ printf 'a\\nb\\n'\n" +
	"a\n" +
	"b\n" +
	"$ echo one \\\n" +
	"  two\n" +
	"one two\n" +
	"$ (exit 3)\n" +
	"$ echo $?\n" +
	"3\n" +
	"```\n\n" +
	"```yaml\nnot: a command\n```\n\n" +
	"<!-- docs-test needs=cluster -->\n" +
	"~~~console\n" +
	"$ kubectl get nodes\n" +
	"~~~\n"

func TestParseSplitsCommandsContinuationsAndOutputs(t *testing.T) {
	blocks, err := Parse("page.md", []byte(page))
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 2 {
		t.Fatalf("got %d blocks, want 2", len(blocks))
	}
	b := blocks[0]
	if b.Line != 4 || len(b.Steps) != 4 {
		t.Fatalf("block at line %d with %d steps, want line 4 with 4: %+v", b.Line, len(b.Steps), b)
	}
	if b.Steps[1].Command != "echo one \\\n  two" || b.Steps[1].Want != "one two" || b.Steps[1].Line != 8 {
		t.Errorf("continued command parsed as %+v", b.Steps[1])
	}
	if b.Steps[0].Want != "a\nb" || b.Steps[2].Want != "" {
		t.Errorf("outputs parsed as %q and %q", b.Steps[0].Want, b.Steps[2].Want)
	}
	if got := strings.Join(blocks[1].Needs, ","); got != "cluster" {
		t.Errorf("needs = %q, want cluster", got)
	}
}

func TestParseRejectsAShellBlockWithoutMarker(t *testing.T) {
	for name, src := range map[string]string{
		"unmarked sh":        "text\n```sh\n$ ls\n```\n",
		"unmarked console":   "```console\n$ ls\n```\n",
		"marker before yaml": "<!-- docs-test -->\n```yaml\na: 1\n```\n",
		"marker before text": "<!-- docs-test -->\nsome text\n",
		"marker at the end":  "text\n<!-- docs-test -->\n",
		"output first":       "<!-- docs-test -->\n```sh\noutput\n$ ls\n```\n",
		"no command":         "<!-- docs-test -->\n```sh\n```\n",
		"fence never closed": "<!-- docs-test -->\n```sh\n$ ls\n",
		"two markers":        "<!-- docs-test -->\n<!-- docs-test needs=x -->\n```sh\n$ ls\n```\n",
	} {
		if _, err := Parse("bad.md", []byte(src)); err == nil {
			t.Errorf("%s: parsed without error", name)
		} else if !strings.Contains(err.Error(), "bad.md:") {
			t.Errorf("%s: error %q does not name the file and line", name, err)
		}
	}
}

func TestExecRunsThePageAndCheckFindsNoDifference(t *testing.T) {
	blocks, err := Parse("page.md", []byte(page))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Exec(blocks[0], Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if res[2].Code != 3 || res[3].Output != "3\n" {
		t.Fatalf("exit code not carried to echo $?: %+v", res)
	}
	if msgs := Check(blocks[0], res, nil); len(msgs) != 0 {
		t.Errorf("differences on a page that is right: %v", msgs)
	}
}

func TestCheckReportsAWrongOutputAndAnUnshownFailure(t *testing.T) {
	src := "<!-- docs-test -->\n```sh\n$ echo actual\nshown\n$ false\n$ echo after\nafter\n```\n"
	blocks, err := Parse("wrong.md", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Exec(blocks[0], Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	msgs := Check(blocks[0], res, nil)
	if len(msgs) != 2 || !strings.Contains(msgs[0], "wrong.md:3") || !strings.Contains(msgs[1], "exit code 1") {
		t.Errorf("want the wrong output at line 3 and the exit code of false, got %q", msgs)
	}
}

func TestExecPutsPATHFirstAndAddsEnv(t *testing.T) {
	dir := t.TempDir()
	b := Block{File: "p.md", Steps: []Step{{Command: "echo $DOCSTEST_X; echo ${PATH%%:*}"}}}
	res, err := Exec(b, Options{Dir: dir, PATH: []string{"/nonexistent/bin"}, Env: []string{"DOCSTEST_X=y"}})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Output != "y\n/nonexistent/bin\n" {
		t.Errorf("got %q", res[0].Output)
	}
}

func TestMatchTakesDotsForAnyLines(t *testing.T) {
	for _, c := range []struct {
		want, got string
		ok        bool
	}{
		{"a\n...\nd", "a\nb\nc\nd", true},
		{"a\n...\nd", "a\nd", true},
		{"...", "", true},
		{"a\n...", "a\nb", true},
		{"a\n...\nd", "a\nb\nc", false},
		{"a", "a\nb", false},
		{"a\nb", "a", false},
	} {
		if Match(c.want, c.got) != c.ok {
			t.Errorf("Match(%q, %q) = %v", c.want, c.got, !c.ok)
		}
	}
}
