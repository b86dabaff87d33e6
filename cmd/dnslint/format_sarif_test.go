package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The SARIF 2.1.0 schema (OASIS errata 01, draft-04) in testdata comes
// from github.com/securego/gosec/v2@v2.30.0 report/sarif/testdata, where
// it is vendored for the same purpose.
const sarifSchemaURL = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("testdata/sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat() // uri, uri-reference and date-time formats are checked too
	if err := c.AddResource(sarifSchemaURL, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(sarifSchemaURL)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// unicodeCorefile has non-ASCII text before a finding on its line: the
// second key ä.example.org starts at byte offset 15: byte column 16, code
// point column 15.
const unicodeCorefile = "ä.example.org ä.example.org {\n    whoami\n}\n"

func TestSARIFOutputIsValidAgainstTheSARIF210Schema(t *testing.T) {
	schema := sarifSchema(t)
	inputs := map[string]string{"configmap.yaml": brokenConfigMap, "u.Corefile": unicodeCorefile}
	dir := t.TempDir()
	var paths []string
	for name, body := range inputs {
		p := dir + "/" + name
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	code, out, errs := runCLI(t, "", append([]string{"--format", "sarif", "--fail-on", "info"}, paths...)...)
	if code != 1 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(doc); err != nil {
		t.Fatalf("dnslint's SARIF is not valid SARIF 2.1.0: %v", err)
	}
	var log struct {
		Runs []struct {
			ColumnKind string `json:"columnKind"`
			Results    []struct {
				RuleID    string `json:"ruleId"`
				Fixes     []any  `json:"fixes"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           struct{ StartLine, StartColumn, ByteOffset int }
					}
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &log); err != nil {
		t.Fatal(err)
	}
	if len(log.Runs) != 1 || log.Runs[0].ColumnKind != "unicodeCodePoints" {
		t.Fatalf("want one run with columnKind unicodeCodePoints, got %+v", log.Runs)
	}
	fixes, dup := 0, false
	for _, r := range log.Runs[0].Results {
		fixes += len(r.Fixes)
		loc := r.Locations[0].PhysicalLocation
		if strings.HasSuffix(loc.ArtifactLocation.URI, "u.Corefile") && r.RuleID == "corefile-duplicate-zone" {
			dup = true
			if loc.Region.StartLine != 1 || loc.Region.StartColumn != 15 || loc.Region.ByteOffset != 15 {
				t.Errorf("duplicate key at line %d column %d offset %d; want line 1, code point column 15, byte offset 15",
					loc.Region.StartLine, loc.Region.StartColumn, loc.Region.ByteOffset)
			}
		}
	}
	if !dup || fixes == 0 {
		t.Fatalf("want the duplicate-key finding and some fixes in the output, got:\n%s", out)
	}
}

func TestTheSARIFSchemaCheckRejectsABrokenLog(t *testing.T) {
	schema := sarifSchema(t)
	var out bytes.Buffer
	if err := writeAll(&sarifFormat{}, &out, nil, nil); err != nil {
		t.Fatal(err)
	}
	good, err := jsonschema.UnmarshalJSON(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(good); err != nil {
		t.Fatalf("an empty run is valid SARIF, got %v", err)
	}
	broken := strings.Replace(out.String(), `"unicodeCodePoints"`, `"bytes"`, 1)
	bad, err := jsonschema.UnmarshalJSON(strings.NewReader(broken))
	if err != nil {
		t.Fatal(err)
	}
	if schema.Validate(bad) == nil {
		t.Fatal(`columnKind "bytes" passes the schema: the check cannot fail`)
	}
}
