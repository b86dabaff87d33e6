package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/rules"
)

// lintCmd is the command line of linting: dnslint [flags] PATH...
type lintCmd struct {
	paths     []string
	format    string
	fix, diff bool
	enable    []string
	disable   []string
	failOn    lint.Severity
	version   lint.Version
	root      string
	k8slint   bool
	settings
}

// lookupOnly are explain-lookup's own flags, which linting refuses with a
// hint.
var lookupOnly = []string{"ndots", "search", "option", "f", "container"}

// parseLint reads linting's command line without side effects.
func parseLint(args []string) (lintCmd, error) {
	c := lintCmd{format: formats[0].name, failOn: lint.Warning, version: lint.DefaultCoreDNSVersion}
	fs := newFlagSet("dnslint")
	fs.StringVar(&c.format, "format", c.format, "")
	fs.BoolVar(&c.fix, "fix", false, "")
	fs.BoolVar(&c.diff, "diff", false, "")
	fs.Var(listFlag{&c.enable}, "enable", "")
	fs.Var(listFlag{&c.disable}, "disable", "")
	fs.Func("fail-on", "", func(v string) (err error) { c.failOn, err = lint.ParseSeverity(v); return err })
	fs.BoolVar(&c.k8slint, "k8slint", false, "")
	fs.Func("coredns-version", "", func(v string) (err error) { c.version, err = lint.ParseVersion(v); return err })
	fs.StringVar(&c.root, "root", "", "")
	c.settings.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		for _, f := range lookupOnly {
			if strings.HasSuffix(err.Error(), "not defined: -"+f) {
				return c, errors.New("--ndots, --search, --option, -f and --container are flags of explain-lookup")
			}
		}
		return c, err
	}
	if err := checkFormat(c.format, formatNames()); err != nil {
		return c, err
	}
	if len(pos) == 0 {
		return c, errors.New("no PATH given")
	}
	if c.root != "" {
		abs, err := filepath.Abs(c.root)
		if err != nil {
			return c, fmt.Errorf("--root: %v", err)
		}
		if st, err := os.Stat(abs); err != nil || !st.IsDir() {
			return c, fmt.Errorf("--root %s: not a directory", c.root)
		}
		c.root = abs
	}
	c.paths = pos
	return c, nil
}

// runLint lints the files, directories and stdin the command line names.
func runLint(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c, err := parseLint(args)
	if err != nil {
		return usageError(err, stdout, stderr)
	}
	opts, err := lintOptions(c.enable, c.disable, &c.settings, c.version)
	if err != nil {
		fmt.Fprintf(stderr, "dnslint: %v\n", err)
		return exitUsage
	}
	opts.Config.Root = c.root
	opts.Config.K8slint = c.k8slint
	// The documents of a file are parsed and its workloads checked
	// concurrently too.
	opts.Workers = runtime.GOMAXPROCS(0)
	files, inputErr := collect(c.paths, stderr)
	// Findings are written file by file as they come, except with --diff:
	// then the diffs come first and the findings after them. Each file's
	// output is flushed at once (not a write per finding).
	buf := bufio.NewWriterSize(stdout, 64<<10)
	stdout = buf
	out := newFormatter(c.format)
	stream := !c.diff
	var held []lint.Finding
	writeErr := error(nil)
	if stream {
		writeErr = out.Begin(stdout, rules.All())
	}
	failed := false
	// Files are linted ahead, one per CPU at a time (more only raised the
	// peak memory), except with --fix: a file is read only after the one
	// before it has been written back, as a path may be given twice (or
	// reached through a directory too).
	window := runtime.GOMAXPROCS(0)
	if c.fix {
		window = 1
	}
	for r := range lintFiles(files, stdin, opts, c.fix || c.diff, window) {
		if r.err != nil {
			fmt.Fprintf(stderr, "dnslint: %v\n", r.err)
			inputErr = true
			continue
		}
		changed := !bytes.Equal(r.fixed, r.src)
		if c.diff && changed {
			io.WriteString(stdout, unifiedDiff(r.path, r.src, r.fixed))
		}
		if c.fix && changed {
			if r.path == "-" {
				fmt.Fprintln(stderr, "dnslint: --fix cannot write back to stdin; use --diff")
				inputErr = true
			} else if err := writeAtomic(r.path, r.fixed); err != nil {
				fmt.Fprintf(stderr, "dnslint: %v\n", err)
				inputErr = true
			}
		}
		for _, f := range r.fs {
			if (c.fix || c.diff) && f.NoFix != "" {
				fmt.Fprintf(stderr, "dnslint: %s:%d:%d: %s: fix not applied: %s\n", f.File, f.Line, f.Col, f.RuleID, f.NoFix)
			}
			failed = failed || f.Severity >= c.failOn
		}
		switch {
		case stream && writeErr == nil:
			writeErr = out.File(stdout, r.fs)
		case !stream:
			held = append(held, r.fs...)
		}
		if err := buf.Flush(); err != nil && writeErr == nil {
			writeErr = err
		}
	}
	switch {
	case stream && writeErr == nil:
		writeErr = out.End(stdout)
	case !stream && c.format != "text":
		// With --diff, text findings would only repeat what the diff shows.
		writeErr = writeAll(out, stdout, held, rules.All())
	}
	if err := buf.Flush(); err != nil && writeErr == nil {
		writeErr = err
	}
	if writeErr != nil {
		fmt.Fprintf(stderr, "dnslint: %v\n", writeErr)
		return exitUsage
	}
	if inputErr {
		return exitUsage
	}
	if failed {
		return exitFindings
	}
	return exitOK
}

// lintOptions are the options of a run with the rules --enable and
// --disable leave on, the settings and the target CoreDNS version.
func lintOptions(enable, disable []string, s *settings, version lint.Version) (lint.Options, error) {
	enabled, err := selectRules(enable, disable)
	if err != nil {
		return lint.Options{}, err
	}
	cfg, err := s.config(version)
	if err != nil {
		return lint.Options{}, err
	}
	return lint.Options{
		Config: cfg,
		Rules:  enabled,
		Known:  func(id string) bool { _, ok := rules.ByID(id); return ok },
	}, nil
}

// selectRules returns the rules --enable and --disable leave on.
func selectRules(enable, disable []string) ([]lint.Rule, error) {
	for _, id := range append(append([]string{}, enable...), disable...) {
		if _, ok := rules.ByID(id); !ok {
			return nil, fmt.Errorf("unknown rule %q; `dnslint rules` lists them", id)
		}
	}
	on := map[string]bool{}
	for _, id := range enable {
		on[id] = true
	}
	off := map[string]bool{}
	for _, id := range disable {
		off[id] = true
	}
	var out []lint.Rule
	for _, r := range rules.All() {
		if (len(enable) == 0 && !r.OptIn || on[r.ID]) && !off[r.ID] {
			out = append(out, r)
		}
	}
	return out, nil
}

// linted is one file's outcome: its text, findings and fixed text, or the
// error that stopped reading or linting it.
type linted struct {
	path       string
	src, fixed []byte
	fs         []lint.Finding
	err        error
}

// lintFiles reads and lints files and yields the outcomes in the order of
// files, so that output does not depend on timing. Up to window files are
// read, linted or waiting to be yielded at once (a file is read only after
// the one window places before it has been handled by yield); the
// documents of each are parsed on up to opts.Workers goroutines. Stdin
// ("-") is read in order by one goroutine.
func lintFiles(files []string, stdin io.Reader, opts lint.Options, fix bool, window int) iter.Seq[linted] {
	return func(yield func(linted) bool) {
		out := make([]chan linted, len(files))
		for i := range out {
			out[i] = make(chan linted, 1)
		}
		slots := make(chan struct{}, max(window, 1))
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			for i, path := range files {
				select {
				case slots <- struct{}{}:
				case <-stop:
					return
				}
				var src []byte
				var err error
				if path == "-" {
					src, err = read(path, stdin)
				}
				go func() {
					r := linted{path: path, src: src, err: err}
					if path != "-" {
						r.src, r.err = read(path, nil)
					}
					if r.err == nil {
						r.fs, r.fixed, r.err = lintFile(path, r.src, opts, fix)
					}
					out[i] <- r
				}()
			}
		}()
		for i := range files {
			r := <-out[i]
			out[i] = nil
			ok := yield(r)
			<-slots
			if !ok {
				return
			}
		}
	}
}

// lintFile lints src; when fixing, it applies fixes until none is left and
// returns the findings that remain with the fixed text.
func lintFile(path string, src []byte, opts lint.Options, fix bool) ([]lint.Finding, []byte, error) {
	if !fix {
		fs, err := lint.Lint(path, src, opts)
		return fs, src, err
	}
	r, err := lint.FixAll(path, src, opts)
	return r.Findings, r.Src, err
}
