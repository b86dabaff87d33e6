package main

import (
	"fmt"
	"io"

	"github.com/k8slint/k8slint/internal/lint"
)

// textFormat writes one line per finding, compiler style.
type textFormat struct{}

func (textFormat) Begin(io.Writer, []lint.Rule) error { return nil }
func (textFormat) End(io.Writer) error                { return nil }

func (textFormat) File(w io.Writer, fs []lint.Finding) error {
	for _, f := range fs {
		ctx := ""
		if f.Context != "" {
			ctx = " (" + f.Context + ")"
		}
		fixable := ""
		if len(f.Fixes) > 0 {
			fixable = " [fixable]"
		}
		if _, err := fmt.Fprintf(w, "%s:%d:%d: %s: %s [%s]%s%s\n", f.File, f.Line, f.Col, f.Severity, f.Message, f.RuleID, ctx, fixable); err != nil {
			return err
		}
	}
	return nil
}
