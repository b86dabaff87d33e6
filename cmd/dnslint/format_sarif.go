package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"strings"

	"github.com/k8slint/k8slint/internal/lint"
)

// sarifFormat writes SARIF 2.1.0 for code-scanning UIs. Columns count
// Unicode code points (the run's columnKind says so; text and JSON output
// count bytes); every region also carries its exact byte offset. Fixes
// become SARIF fixes with byte-offset regions.
type sarifFormat struct {
	index map[string]int // rule ID to its index in the rules
	tail  string         // the document after the results
	n     int            // results written
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string    `json:"id"`
	Name                 string    `json:"name"`
	ShortDescription     sarifText `json:"shortDescription"`
	FullDescription      sarifText `json:"fullDescription"`
	Help                 sarifText `json:"help"`
	DefaultConfiguration struct {
		Level string `json:"level"`
	} `json:"defaultConfiguration"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine,omitempty"`
	StartColumn int `json:"startColumn,omitempty"`
	ByteOffset  int `json:"byteOffset"`
	ByteLength  int `json:"byteLength"`
}

type sarifLocation struct {
	PhysicalLocation struct {
		ArtifactLocation sarifArtifact `json:"artifactLocation"`
		Region           sarifRegion   `json:"region"`
	} `json:"physicalLocation"`
}

type sarifReplacement struct {
	DeletedRegion   sarifRegion `json:"deletedRegion"`
	InsertedContent *sarifText  `json:"insertedContent,omitempty"`
}

type sarifChange struct {
	ArtifactLocation sarifArtifact      `json:"artifactLocation"`
	Replacements     []sarifReplacement `json:"replacements"`
}

type sarifFix struct {
	Description     sarifText     `json:"description"`
	ArtifactChanges []sarifChange `json:"artifactChanges"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations"`
	Fixes     []sarifFix      `json:"fixes,omitempty"`
}

func sarifLevel(s lint.Severity) string {
	switch s {
	case lint.Error:
		return "error"
	case lint.Warning:
		return "warning"
	}
	return "note"
}

func (s *sarifFormat) Begin(w io.Writer, rules []lint.Rule) error {
	s.index = map[string]int{}
	srules := make([]sarifRule, len(rules))
	for i, r := range rules {
		s.index[r.ID] = i
		sr := sarifRule{ID: r.ID, Name: r.ID, ShortDescription: sarifText{r.Title}, FullDescription: sarifText{r.Doc}, Help: sarifText{r.Remediation}}
		sr.DefaultConfiguration.Level = sarifLevel(r.Severity)
		srules[i] = sr
	}
	type driver struct {
		Name           string      `json:"name"`
		InformationURI string      `json:"informationUri"`
		Rules          []sarifRule `json:"rules"`
	}
	type run struct {
		Tool struct {
			Driver driver `json:"driver"`
		} `json:"tool"`
		ColumnKind string        `json:"columnKind"`
		Results    []sarifResult `json:"results"`
	}
	var r run
	r.Tool.Driver = driver{Name: "dnslint", InformationURI: "https://github.com/k8slint/k8slint/blob/main/docs/rules.md", Rules: srules}
	r.ColumnKind = "unicodeCodePoints"
	r.Results = []sarifResult{}
	// The document without results, split where they go: they are
	// written one at a time between the two halves.
	var doc bytes.Buffer
	e := json.NewEncoder(&doc)
	e.SetIndent("", "  ")
	if err := e.Encode(map[string]any{
		"$schema": "https://json.schemastore.org/sarif-2.1.0.json",
		"version": "2.1.0",
		"runs":    []run{r},
	}); err != nil {
		return err
	}
	head, tail, ok := strings.Cut(doc.String(), sarifResultsKey+"[]")
	if !ok {
		return errors.New("sarif: no results in the document")
	}
	s.tail = tail
	_, err := io.WriteString(w, head+sarifResultsKey+"[")
	return err
}

// sarifResultsKey is how the document names runs[0].results, indented.
const sarifResultsKey = "\n      \"results\": "

func (s *sarifFormat) File(w io.Writer, fs []lint.Finding) error {
	results := make([]sarifResult, 0, len(fs))
	for _, f := range fs {
		uri := filepath.ToSlash(f.File)
		var loc sarifLocation
		loc.PhysicalLocation.ArtifactLocation = sarifArtifact{uri}
		loc.PhysicalLocation.Region = sarifRegion{StartLine: f.Line, StartColumn: f.ColRunes, ByteOffset: f.Offset}
		msg := f.Message
		if f.Context != "" {
			msg += " (" + f.Context + ")"
		}
		res := sarifResult{RuleID: f.RuleID, RuleIndex: s.index[f.RuleID], Level: sarifLevel(f.Severity), Message: sarifText{msg}, Locations: []sarifLocation{loc}}
		for _, fx := range f.Fixes {
			ch := sarifChange{ArtifactLocation: sarifArtifact{uri}}
			for _, e := range fx.Edits {
				r := sarifReplacement{DeletedRegion: sarifRegion{ByteOffset: e.Start, ByteLength: e.End - e.Start}}
				if e.New != "" {
					r.InsertedContent = &sarifText{e.New}
				}
				ch.Replacements = append(ch.Replacements, r)
			}
			res.Fixes = append(res.Fixes, sarifFix{Description: sarifText{fx.Message}, ArtifactChanges: []sarifChange{ch}})
		}
		results = append(results, res)
	}
	return writeElements(w, &s.n, "        ", results)
}

func (s *sarifFormat) End(w io.Writer) error {
	return endArray(w, s.n, "      ", s.tail)
}
