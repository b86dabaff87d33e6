package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/rules"
)

// TestFormatsWrittenFileByFileAreWhatEncodingJSONWrites writes findings
// of several files one file at a time, as the command does, and wants
// for JSON and SARIF exactly the bytes encoding/json indents the same
// document to, with no file, with empty files and with several.
func TestFormatsWrittenFileByFileAreWhatEncodingJSONWrites(t *testing.T) {
	opts := lint.Options{Config: lint.Config{CoreDNSVersion: lint.DefaultCoreDNSVersion}, Rules: rules.All()}
	fs, err := lint.Lint("configmap.yaml", []byte(brokenConfigMap), opts)
	more, err2 := lint.Lint("u.Corefile", []byte(unicodeCorefile), opts)
	fs = append(fs, more...)
	if err != nil || err2 != nil || len(fs) < 3 {
		t.Fatalf("%d findings, %v, %v", len(fs), err, err2)
	}
	fs[0].Message += ` <&> "quoted"`
	for _, name := range formatNames() {
		for _, files := range [][][]lint.Finding{nil, {nil, {}}, {fs[:1], nil, fs[1:]}, {fs}} {
			var out bytes.Buffer
			f := newFormatter(name)
			if err := f.Begin(&out, rules.All()); err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, file := range files {
				n += len(file)
				if err := f.File(&out, file); err != nil {
					t.Fatal(err)
				}
			}
			if err := f.End(&out); err != nil {
				t.Fatal(err)
			}
			if name == "text" {
				if got := strings.Count(out.String(), "\n"); got != n {
					t.Errorf("text: %d lines for %d findings", got, n)
				}
				continue
			}
			var compact, want bytes.Buffer
			if err := json.Compact(&compact, out.Bytes()); err != nil {
				t.Fatalf("%s, %d findings: not JSON: %v\n%s", name, n, err, out.String())
			}
			json.Indent(&want, compact.Bytes(), "", "  ")
			want.WriteByte('\n')
			if out.String() != want.String() {
				t.Errorf("%s, %d findings in %d files:\n%s\nwant\n%s", name, n, len(files), out.String(), want.String())
			}
			if got := strings.Count(out.String(), `"rule`); name == "json" && got != n {
				t.Errorf("json: %d findings written of %d", got, n)
			}
		}
	}
}
