package k8slint_test

import (
	"os"
	"regexp"
	"testing"

	"github.com/k8slint/k8slint/internal/validate"
)

// TestREADMECorefileExamplesAreValid runs every Corefile example of the
// README through the setup code of every plugin of coredns-custom.
func TestREADMECorefileExamplesAreValid(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)~~~ corefile\n(.*?)~~~").FindAllStringSubmatch(string(b), -1)
	if len(blocks) < 2 {
		t.Fatalf("found %d Corefile examples, want at least 2", len(blocks))
	}
	for i, m := range blocks {
		if err := validate.Corefile("README.md example", []byte(m[1])); err != nil {
			t.Errorf("example %d: %v", i+1, err)
		}
	}
}
