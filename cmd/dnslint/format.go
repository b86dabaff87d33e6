package main

import (
	"io"

	"github.com/k8slint/k8slint/internal/lint"
)

// A formatter writes the findings of a run in one output format, file by
// file as they come (Begin once, File for each file in order, End once),
// so that the command keeps no more than a file's findings. Each format
// is one file.
type formatter interface {
	Begin(w io.Writer, rules []lint.Rule) error
	File(w io.Writer, findings []lint.Finding) error
	End(w io.Writer) error
}

// formats are the output formats of linting, the default first: the one
// list --format is checked against.
var formats = []struct {
	name string
	new  func() formatter
}{
	{"text", func() formatter { return textFormat{} }},
	{"json", func() formatter { return &jsonFormat{} }},
	{"sarif", func() formatter { return &sarifFormat{} }},
}

// formatNames lists formats by name.
func formatNames() []string {
	var out []string
	for _, f := range formats {
		out = append(out, f.name)
	}
	return out
}

// newFormatter returns the formatter of a format formatNames lists.
func newFormatter(name string) formatter {
	for _, f := range formats {
		if f.name == name {
			return f.new()
		}
	}
	panic("dnslint: no format " + name)
}

// writeAll writes findings as one file would be.
func writeAll(f formatter, w io.Writer, findings []lint.Finding, rules []lint.Rule) error {
	if err := f.Begin(w, rules); err != nil {
		return err
	}
	if err := f.File(w, findings); err != nil {
		return err
	}
	return f.End(w)
}
