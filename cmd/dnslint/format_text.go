package main

import (
	"bufio"
	"io"
	"strconv"

	"github.com/k8slint/k8slint/internal/lint"
)

// textFormat writes one line per finding, compiler style:
//
//	FILE:LINE:COL: SEVERITY: MESSAGE [RULE] (CONTEXT) [fixable]
type textFormat struct{}

func (textFormat) Begin(io.Writer, []lint.Rule) error { return nil }
func (textFormat) End(io.Writer) error                { return nil }

// File writes a line per finding, built in the free space of w's buffer
// when w is a bufio.Writer: fmt.Fprintf per line was most of the time
// output took (a file of the benchmark's has hundreds of findings).
func (textFormat) File(w io.Writer, fs []lint.Finding) error {
	bw, _ := w.(*bufio.Writer)
	var scratch []byte
	for _, f := range fs {
		b := scratch[:0]
		if bw != nil {
			b = bw.AvailableBuffer()
		}
		b = appendText(b, f)
		if _, err := w.Write(b); err != nil {
			return err
		}
		if bw == nil {
			scratch = b
		}
	}
	return nil
}

// appendText appends f's line to b.
func appendText(b []byte, f lint.Finding) []byte {
	b = append(b, f.File...)
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(f.Line), 10)
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(f.Col), 10)
	b = append(b, ": "...)
	b = append(b, f.Severity.String()...)
	b = append(b, ": "...)
	b = append(b, f.Message...)
	b = append(b, " ["...)
	b = append(b, f.RuleID...)
	b = append(b, ']')
	if f.Context != "" {
		b = append(b, " ("...)
		b = append(b, f.Context...)
		b = append(b, ')')
	}
	if len(f.Fixes) > 0 {
		b = append(b, " [fixable]"...)
	}
	return append(b, '\n')
}
