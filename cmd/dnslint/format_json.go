package main

import (
	"encoding/json"
	"io"

	"github.com/k8slint/k8slint/internal/lint"
)

// jsonFormat writes {"findings": [...]}, each finding with its fixes.
type jsonFormat struct{}

func (jsonFormat) Write(w io.Writer, fs []lint.Finding, _ []lint.Rule) error {
	if fs == nil {
		fs = []lint.Finding{}
	}
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(struct {
		Findings []lint.Finding `json:"findings"`
	}{fs})
}
