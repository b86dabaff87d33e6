package main

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/rules"
)

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parseArgs(args)
	if err == errHelp {
		fmt.Fprintf(stdout, usage, lint.DefaultCoreDNSVersion)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "dnslint: %v\n", err)
		fmt.Fprintf(stderr, usage, lint.DefaultCoreDNSVersion)
		return exitUsage
	}
	switch o.command {
	case "rules":
		if o.format == "markdown" {
			io.WriteString(stdout, markdown(rules.All()))
		} else {
			for _, r := range rules.All() {
				fmt.Fprintf(stdout, "%-42s %-8s %s\n", r.ID, r.Severity, r.Title)
			}
		}
		return exitOK
	case "explain":
		r, ok := rules.ByID(o.rule)
		if !ok {
			fmt.Fprintf(stderr, "dnslint: unknown rule %q; `dnslint rules` lists them\n", o.rule)
			return exitUsage
		}
		fmt.Fprintf(stdout, "%s (%s): %s\n\n%s\n\nRemediation: %s\n", r.ID, r.Severity, r.Title, r.Doc, r.Remediation)
		return exitOK
	case "explain-lookup":
		return explainLookup(o, stdout, stderr)
	}
	enabled, err := selectRules(o.enable, o.disable)
	if err != nil {
		fmt.Fprintf(stderr, "dnslint: %v\n", err)
		return exitUsage
	}
	cfg, err := config(o)
	if err != nil {
		fmt.Fprintf(stderr, "dnslint: %v\n", err)
		return exitUsage
	}
	opts := lint.Options{
		Config: cfg,
		Rules:  enabled,
		Known:  func(id string) bool { _, ok := rules.ByID(id); return ok },
		// The workloads of a file are checked concurrently too.
		Workers: runtime.GOMAXPROCS(0),
	}
	files, inputErr := collect(o.paths, stderr)
	var all []lint.Finding
	// Files are linted ahead, one per CPU at a time (more only raised the
	// peak memory), except with --fix: a file is read only after the one
	// before it has been written back, as a path may be given twice (or
	// reached through a directory too).
	window := runtime.GOMAXPROCS(0)
	if o.fix {
		window = 1
	}
	for r := range lintFiles(files, stdin, opts, o.fix || o.diff, runtime.GOMAXPROCS(0), window) {
		path, src, fs, fixed, err := r.path, r.src, r.fs, r.fixed, r.err
		if err != nil {
			fmt.Fprintf(stderr, "dnslint: %v\n", err)
			inputErr = true
			continue
		}
		if o.diff && !bytes.Equal(fixed, src) {
			io.WriteString(stdout, unifiedDiff(path, src, fixed))
		}
		if o.fix && !bytes.Equal(fixed, src) {
			if path == "-" {
				fmt.Fprintln(stderr, "dnslint: --fix cannot write back to stdin; use --diff")
				inputErr = true
			} else if err := writeAtomic(path, fixed); err != nil {
				fmt.Fprintf(stderr, "dnslint: %v\n", err)
				inputErr = true
			}
		}
		if o.fix || o.diff {
			for _, f := range fs {
				if f.NoFix != "" {
					fmt.Fprintf(stderr, "dnslint: %s:%d:%d: %s: fix not applied: %s\n", f.File, f.Line, f.Col, f.RuleID, f.NoFix)
				}
			}
		}
		all = append(all, fs...)
	}
	if !o.diff || o.format != "text" {
		if err := formatterFor(o.format).Write(stdout, all, rules.All()); err != nil {
			fmt.Fprintf(stderr, "dnslint: %v\n", err)
			return exitUsage
		}
	}
	if inputErr {
		return exitUsage
	}
	for _, f := range all {
		if f.Severity >= o.failOn {
			return exitFindings
		}
	}
	return exitOK
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
// documents of each are parsed on up to workers goroutines. Stdin ("-") is
// read in order by one goroutine.
func lintFiles(files []string, stdin io.Reader, opts lint.Options, fix bool, workers, window int) iter.Seq[linted] {
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
			ok := yield(<-out[i])
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
		if (len(enable) == 0 || on[r.ID]) && !off[r.ID] {
			out = append(out, r)
		}
	}
	return out, nil
}

// collect expands directories into the Corefiles and manifests they hold.
func collect(paths []string, stderr io.Writer) ([]string, bool) {
	var out []string
	bad := false
	for _, p := range paths {
		if p == "-" {
			out = append(out, p)
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			fmt.Fprintf(stderr, "dnslint: %v\n", err)
			bad = true
			continue
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && q != p && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if !d.IsDir() && lint.KindOf(q) != lint.KindUnknown && regular(q, d) {
				found = append(found, q)
			}
			return nil
		})
		if err != nil {
			fmt.Fprintf(stderr, "dnslint: %v\n", err)
			bad = true
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, bad
}

// regular reports whether a walked entry is a regular file, following a
// symbolic link: a FIFO named Corefile in a directory would block the walk.
func regular(path string, d fs.DirEntry) bool {
	if d.Type().IsRegular() {
		return true
	}
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

func read(path string, stdin io.Reader) ([]byte, error) {
	var r io.Reader = stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, lint.MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(b) > lint.MaxFileSize {
		return nil, fmt.Errorf("%s: file too large (more than %d bytes)", path, lint.MaxFileSize)
	}
	return b, nil
}

// writeAtomic replaces path with data through a temporary file in the same
// directory, keeping the mode, so a failed write leaves the original.
func writeAtomic(path string, data []byte) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".dnslint-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(st.Mode().Perm()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
