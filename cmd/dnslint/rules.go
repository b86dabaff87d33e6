package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/k8slint/k8slint/internal/lint/rules"
)

// rulesFormats are the formats of the rule list, the default first.
var rulesFormats = []string{"text", "markdown"}

// parseRules reads the command line of `dnslint rules`: the format.
func parseRules(args []string) (string, error) {
	format := rulesFormats[0]
	fs := newFlagSet("rules")
	fs.StringVar(&format, "format", format, "")
	pos, err := parse(fs, args)
	if err != nil {
		return "", err
	}
	if len(pos) > 0 {
		return "", fmt.Errorf("rules takes no arguments, got %q", pos[0])
	}
	return format, checkFormat(format, rulesFormats)
}

// runRules lists the rules: one line each, or docs/rules.md.
func runRules(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	format, err := parseRules(args)
	if err != nil {
		return usageError(err, stdout, stderr)
	}
	if format == "markdown" {
		io.WriteString(stdout, markdown(rules.All()))
		return exitOK
	}
	for _, r := range rules.All() {
		fmt.Fprintf(stdout, "%-42s %-8s %s\n", r.ID, r.Severity, r.Title)
	}
	return exitOK
}

// parseExplain reads the command line of `dnslint explain RULE`.
func parseExplain(args []string) (string, error) {
	pos, err := parse(newFlagSet("explain"), args)
	if err != nil {
		return "", err
	}
	if len(pos) != 1 {
		return "", errors.New("explain takes exactly one RULE")
	}
	return pos[0], nil
}

// runExplain prints a rule's documentation.
func runExplain(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	id, err := parseExplain(args)
	if err != nil {
		return usageError(err, stdout, stderr)
	}
	r, ok := rules.ByID(id)
	if !ok {
		fmt.Fprintf(stderr, "dnslint: unknown rule %q; `dnslint rules` lists them\n", id)
		return exitUsage
	}
	fmt.Fprintf(stdout, "%s (%s): %s\n\n%s\n\nRemediation: %s\n", r.ID, r.Severity, r.Title, r.Doc, r.Remediation)
	return exitOK
}
