package k8slint

import (
	"slices"
	"testing"

	"github.com/coredns/coredns/core/dnsserver"
)

func TestInsertDirectivePlacesK8slintImmediatelyBeforeCache(t *testing.T) {
	got, err := InsertDirective(dnsserver.Directives)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.Index(got, Name)
	if i < 0 || i+1 >= len(got) || got[i+1] != Anchor {
		t.Fatalf("k8slint at %d, want directly before %q: %v", i, Anchor, got)
	}
	if len(got) != len(dnsserver.Directives)+1 {
		t.Fatalf("got %d directives, want %d", len(got), len(dnsserver.Directives)+1)
	}
	// The stock list must be untouched (the binary assigns the copy).
	if slices.Contains(dnsserver.Directives, Name) {
		t.Fatal("InsertDirective modified its input")
	}
	rest := slices.Delete(slices.Clone(got), i, i+1)
	if !slices.Equal(rest, dnsserver.Directives) {
		t.Fatal("the order of the stock directives changed")
	}
}

func TestInsertDirectiveFailsLoudly(t *testing.T) {
	for name, in := range map[string][]string{
		"no cache":          {"log", "forward"},
		"already present":   {"log", Name, "cache"},
		"empty plugin list": nil,
	} {
		if _, err := InsertDirective(in); err == nil {
			t.Errorf("%s: want an error, got none", name)
		}
	}
}
