package main

import (
	"io"

	"github.com/k8slint/k8slint/internal/lint"
)

// formatter writes a run's findings in one output format; each format is one
// file.
type formatter interface {
	Write(w io.Writer, findings []lint.Finding, rules []lint.Rule) error
}

func formatterFor(name string) formatter {
	switch name {
	case "json":
		return jsonFormat{}
	case "sarif":
		return sarifFormat{}
	}
	return textFormat{}
}
