package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/k8slint/k8slint/internal/lint"
)

// Exit codes, fixed and documented in the package comment.
const (
	exitOK       = 0
	exitFindings = 1
	exitUsage    = 2
)

// options is a parsed command line.
type options struct {
	command       string // "lint", "rules" or "explain"
	paths         []string
	format        string
	fix, diff     bool
	enable        []string
	disable       []string
	failOn        lint.Severity
	version       lint.Version
	clusterDomain string
	rule          string // for explain
}

// listFlag collects a repeatable, comma-separated flag.
type listFlag struct{ v *[]string }

func (l listFlag) String() string { return "" }
func (l listFlag) Set(s string) error {
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l.v = append(*l.v, p)
		}
	}
	return nil
}

const usage = `usage: dnslint [flags] PATH...   (files, directories, - for stdin)
       dnslint rules [--format text|markdown]
       dnslint explain RULE

flags:
  --format text|json|sarif   output format (default text)
  --fix                      apply fixes in place (atomic write)
  --diff                     print the fixes as a unified diff
  --enable RULE[,RULE]       run only these rules (repeatable)
  --disable RULE[,RULE]      skip these rules (repeatable)
  --fail-on error|warning|info   lowest severity that fails (default warning)
  --coredns-version V        target CoreDNS release (default ` + "%s" + `): what
                             corefile-removed-option counts as removed
  --cluster-domain D         kubelet's --cluster-domain (default cluster.local):
                             the zone the kubernetes plugin and k8slint must serve

exit codes: 0 no finding at or above --fail-on, 1 findings, 2 usage or input error
`

// parseArgs turns arguments into options without side effects. Flags may
// come before or after paths; "--" ends flags.
func parseArgs(args []string) (options, error) {
	o := options{command: "lint", format: "text", failOn: lint.Warning, version: lint.DefaultCoreDNSVersion, clusterDomain: "cluster.local"}
	if len(args) > 0 && (args[0] == "rules" || args[0] == "explain") {
		o.command, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("dnslint", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.format, "format", o.format, "")
	fs.BoolVar(&o.fix, "fix", false, "")
	fs.BoolVar(&o.diff, "diff", false, "")
	fs.Var(listFlag{&o.enable}, "enable", "")
	fs.Var(listFlag{&o.disable}, "disable", "")
	failOn := fs.String("fail-on", "warning", "")
	version := fs.String("coredns-version", lint.DefaultCoreDNSVersion.String(), "")
	fs.StringVar(&o.clusterDomain, "cluster-domain", o.clusterDomain, "")
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return o, errHelp
			}
			return o, err
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		if args[0] == "--" {
			pos = append(pos, args[1:]...)
			break
		}
		pos, args = append(pos, args[0]), args[1:]
	}
	var err error
	if o.failOn, err = lint.ParseSeverity(*failOn); err != nil {
		return o, fmt.Errorf("--fail-on: %v", err)
	}
	if o.version, err = lint.ParseVersion(*version); err != nil {
		return o, fmt.Errorf("--coredns-version: %v", err)
	}
	switch o.command {
	case "lint":
		if o.format != "text" && o.format != "json" && o.format != "sarif" {
			return o, fmt.Errorf("--format: unknown format %q (want text, json or sarif)", o.format)
		}
		if len(pos) == 0 {
			return o, errors.New("no PATH given")
		}
		o.paths = pos
	case "rules":
		if o.format != "text" && o.format != "markdown" {
			return o, fmt.Errorf("--format: rules are listed as text or markdown, not %q", o.format)
		}
		if len(pos) > 0 {
			return o, fmt.Errorf("rules takes no arguments, got %q", pos[0])
		}
	case "explain":
		if len(pos) != 1 {
			return o, errors.New("explain takes exactly one RULE")
		}
		o.rule = pos[0]
	}
	return o, nil
}

var errHelp = errors.New("help requested")
