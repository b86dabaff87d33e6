// Package docstest runs the shell examples of the project's Markdown pages
// and compares what they print with what the page shows, so a page never
// shows a command that does not run or an output it does not print.
//
// A shell example is a fenced block whose language is sh, shell, console or
// bash, right after the marker line
//
//	<!-- docs-test -->
//
// or, for examples that need something a test provides (a cluster, say),
// <!-- docs-test needs=cluster -->. A page may hold no shell example
// without a marker: Parse reports it. In a block, a line starting with "$ "
// is a command (a line ending in a backslash continues it) and the lines
// up to the next command are its output, stdout and stderr as a terminal
// shows them. A line "..." in the output stands for any number of lines.
// A command that exits non-zero fails the test unless the next command is
// `echo $?`, which shows the exit code.
package docstest

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// Block is one shell example.
type Block struct {
	File  string
	Line  int      // line of the opening fence, from 1
	Needs []string // what the marker says the example needs
	Steps []Step
}

// Step is one command and the output the page shows for it.
type Step struct {
	Line    int    // line of the command
	Command string // the command, continuation lines joined with newlines
	Want    string // the output shown, lines joined with newlines
}

var (
	marker   = regexp.MustCompile(`^<!--\s*docs-test((?:\s+needs=[a-z0-9,-]+)?)\s*-->\s*$`)
	fence    = regexp.MustCompile("^(```+|~~~+)\\s*([A-Za-z0-9_-]*)")
	shellish = map[string]bool{"sh": true, "shell": true, "console": true, "bash": true}
)

// Parse returns the shell examples of a Markdown page. It fails on a shell
// block without a marker, a marker not followed by a shell block, a marked
// block without a command, and an unclosed fence.
func Parse(file string, src []byte) ([]Block, error) {
	var blocks []Block
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	var marked *[]string // needs of a marker on the line before
	markedLine := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if m := marker.FindStringSubmatch(line); m != nil {
			if marked != nil {
				return nil, fmt.Errorf("%s:%d: docs-test marker not followed by a shell block", file, markedLine)
			}
			needs := []string{}
			if v := strings.TrimSpace(m[1]); v != "" {
				needs = strings.Split(strings.TrimPrefix(v, "needs="), ",")
			}
			marked, markedLine = &needs, n
			continue
		}
		f := fence.FindStringSubmatch(line)
		if f == nil {
			if marked != nil {
				return nil, fmt.Errorf("%s:%d: docs-test marker not followed by a shell block", file, markedLine)
			}
			continue
		}
		open, lang, start := f[1], f[2], n
		var body []string
		closed := false
		for sc.Scan() {
			n++
			if strings.HasPrefix(strings.TrimSpace(sc.Text()), open) {
				closed = true
				break
			}
			body = append(body, sc.Text())
		}
		if !closed {
			return nil, fmt.Errorf("%s:%d: fence never closed", file, start)
		}
		switch {
		case shellish[lang] && marked == nil:
			return nil, fmt.Errorf("%s:%d: %s block without a <!-- docs-test --> marker: every command shown must run in a test", file, start, lang)
		case !shellish[lang] && marked != nil:
			return nil, fmt.Errorf("%s:%d: docs-test marker before a %q block, not a shell one", file, markedLine, lang)
		case shellish[lang]:
			b := Block{File: file, Line: start, Needs: *marked}
			steps, err := parseSteps(file, start+1, body)
			if err != nil {
				return nil, err
			}
			b.Steps = steps
			blocks = append(blocks, b)
		}
		marked = nil
	}
	if marked != nil {
		return nil, fmt.Errorf("%s:%d: docs-test marker not followed by a shell block", file, markedLine)
	}
	return blocks, sc.Err()
}

// parseSteps splits a block's lines (the first at line first) into
// commands and their output.
func parseSteps(file string, first int, lines []string) ([]Step, error) {
	var steps []Step
	var want []string
	flush := func() {
		if len(steps) > 0 {
			steps[len(steps)-1].Want = strings.Join(want, "\n")
		}
		want = nil
	}
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if !strings.HasPrefix(line, "$ ") {
			if len(steps) == 0 {
				if strings.TrimSpace(line) == "" {
					continue
				}
				return nil, fmt.Errorf("%s:%d: output before the first command (commands start with \"$ \")", file, first+i)
			}
			want = append(want, line)
			continue
		}
		flush()
		st := Step{Line: first + i, Command: strings.TrimPrefix(line, "$ ")}
		for strings.HasSuffix(st.Command, "\\") && i+1 < len(lines) {
			i++
			st.Command += "\n" + lines[i]
		}
		steps = append(steps, st)
	}
	flush()
	if len(steps) == 0 {
		return nil, fmt.Errorf("%s:%d: a docs-test block without a command", file, first-1)
	}
	return steps, nil
}
