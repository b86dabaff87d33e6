package k8slint

import (
	"slices"
	"testing"

	"github.com/coredns/coredns/core/dnsserver"
)

func TestDirectivesPlaceK8slintImmediatelyBeforeCacheAndChangeNothing(t *testing.T) {
	before := slices.Clone(dnsserver.Directives)
	got, err := Directives()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.Index(got, Name)
	if i < 0 || i+1 >= len(got) || got[i+1] != Anchor {
		t.Fatalf("k8slint at %d, want directly before %q: %v", i, Anchor, got)
	}
	if rest := slices.Delete(slices.Clone(got), i, i+1); !slices.Equal(rest, before) {
		t.Fatal("the stock directives are not all there, in their order")
	}
	if !slices.Equal(dnsserver.Directives, before) {
		t.Fatal("Directives changed CoreDNS's process-wide list")
	}
	again, err := Directives()
	if err != nil || !slices.Equal(again, got) {
		t.Fatalf("a second call gave %v, %v", again, err)
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
	in := []string{"log", "cache", "forward"}
	got, err := InsertDirective(in)
	if err != nil || !slices.Equal(got, []string{"log", Name, "cache", "forward"}) || !slices.Equal(in, []string{"log", "cache", "forward"}) {
		t.Fatalf("InsertDirective(%v) = %v, %v", in, got, err)
	}
}
