package main

import (
	"encoding/json"
	"io"

	"github.com/k8slint/k8slint/internal/lint"
)

// jsonFormat writes {"findings": [...]}, each finding with its fixes,
// indented by two spaces, one finding at a time.
type jsonFormat struct{ n int }

func (j *jsonFormat) Begin(w io.Writer, _ []lint.Rule) error {
	_, err := io.WriteString(w, "{\n  \"findings\": [")
	return err
}

func (j *jsonFormat) File(w io.Writer, fs []lint.Finding) error {
	return writeElements(w, &j.n, "    ", fs)
}

func (j *jsonFormat) End(w io.Writer) error {
	return endArray(w, j.n, "  ", "\n}\n")
}

// writeElements writes the elements of a JSON array that is indented by
// two spaces a level and whose elements start at indent, counting them in
// n: what json.Encoder with SetIndent("", "  ") writes for them.
func writeElements[T any](w io.Writer, n *int, indent string, elems []T) error {
	for _, e := range elems {
		b, err := json.MarshalIndent(e, indent, "  ")
		if err != nil {
			return err
		}
		sep := ",\n" + indent
		if *n == 0 {
			sep = "\n" + indent
		}
		*n++
		if _, err := io.WriteString(w, sep); err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// endArray closes an array of n elements whose "[" stood at indent, and
// writes rest.
func endArray(w io.Writer, n int, indent, rest string) error {
	end := "]" + rest
	if n > 0 {
		end = "\n" + indent + end
	}
	_, err := io.WriteString(w, end)
	return err
}

// EndWith ends the document with one more key, key, whose value is v
// (dnslint cluster's ranking).
func (j *jsonFormat) EndWith(w io.Writer, key string, v any) error {
	b, err := json.MarshalIndent(v, "  ", "  ")
	if err != nil {
		return err
	}
	return endArray(w, j.n, "  ", ",\n  \""+key+"\": "+string(b)+"\n}\n")
}
