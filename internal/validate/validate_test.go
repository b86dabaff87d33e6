package validate

import (
	"slices"
	"strings"
	"testing"

	"github.com/coredns/coredns/core/dnsserver"

	"github.com/k8slint/k8slint/corefiles"
	"github.com/k8slint/k8slint/internal/testenv"
)

func TestShippedCorefilesPassEveryPluginSetup(t *testing.T) {
	for _, name := range corefiles.Names() {
		body, err := corefiles.Read(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := Corefile(name, []byte(body)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestErrorsCarryTheInputLineAfterAnInjectedEndpoint(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"block form", ".:53 {\n  kubernetes cluster.local {\n    pods insecure\n  }\n  forward . 127.0.0.1 {\n    bogus\n  }\n}\n",
			"x.Corefile:6 - Error during parsing: unknown property 'bogus'"},
		{"bare form", ".:53 {\n  kubernetes cluster.local\n  forward . 127.0.0.1 {\n    bogus\n  }\n}\n",
			"x.Corefile:4 - Error during parsing: unknown property 'bogus'"},
		{"kubernetes option", ".:53 {\n  kubernetes cluster.local {\n    pods wrong\n  }\n}\n",
			"wrong value for pods: wrong"},
		{"unknown directive", ".:53 {\n  kubernetes cluster.local\n  Forward . 127.0.0.1\n}\n",
			"x.Corefile:3 - Error during parsing: Unknown directive 'Forward'"},
		{"k8slint option", ".:53 {\n  k8slint {\n    clients_max 0\n  }\n}\n",
			"x.Corefile:3"},
	}
	for _, c := range cases {
		err := Corefile("x.Corefile", []byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want it to contain %q", c.name, err, c.want)
		}
	}
}

func TestAnExplicitEndpointIsLeftAlone(t *testing.T) {
	in := ".:53 {\n  kubernetes cluster.local {\n    endpoint http://127.0.0.1:2\n  }\n}\n"
	if o := withOfflineKubernetes(in); o.text != in {
		t.Fatalf("changed a block that names its endpoint:\n%s", o.text)
	}
}

func TestValidationAcceptsK8slintAndLeavesCoreDNSsDirectiveListAlone(t *testing.T) {
	before := slices.Clone(dnsserver.Directives)
	if err := Corefile("Corefile", []byte(".:53 {\n    k8slint\n    cache\n    forward . 127.0.0.1:5353\n}\n")); err != nil {
		t.Fatalf("a Corefile with k8slint: %v", err)
	}
	if err := Corefile("Corefile", []byte(".:53 {\n    k8slintt\n}\n")); err == nil || !strings.Contains(err.Error(), "k8slintt") {
		t.Fatalf("an unknown directive: %v", err)
	}
	if !slices.Equal(dnsserver.Directives, before) || slices.Contains(dnsserver.Directives, "k8slint") {
		t.Fatalf("validation changed dnsserver.Directives: %v", dnsserver.Directives)
	}
}

// TestUpstreamsNamedByHostAreNeverResolved: CoreDNS 1.15.0's forward
// resolves upstream host names in its setup. Validation must not: every
// DNS lookup of the process goes to a resolver that counts it.
func TestUpstreamsNamedByHostAreNeverResolved(t *testing.T) {
	dials := testenv.CountLookups(t)
	in := ".:53 {\n  forward . dns.example.net tls://dns.example.net:853%dns.example.net 10.0.0.1 {\n    resolver 127.0.0.1:1\n  }\n}\n" +
		"example.org {\n  forward . upstream.example.org:5353 # a comment\n}\n"
	if err := Corefile("x.Corefile", []byte(in)); err != nil {
		t.Errorf("a Corefile naming upstreams by host: %v", err)
	}
	if n := dials.Load(); n != 0 {
		t.Errorf("validation sent %d DNS lookups", n)
	}
	got := OfflineUpstreams(in)
	want := ".:53 {\n  forward . 192.0.2.1 tls://192.0.2.1:853%dns.example.net 10.0.0.1 {\n    resolver 127.0.0.1:1\n  }\n}\n" +
		"example.org {\n  forward . 192.0.2.1:5353 # a comment\n}\n"
	if got != want {
		t.Errorf("OfflineUpstreams:\n%s\nwant\n%s", got, want)
	}
	for _, keep := range []string{
		".:53 {\n  forward . /etc/resolv.conf 10.0.0.1:53 [2001:db8::1]:53\n}\n",
		".:53 {\n  forward example.org 10.0.0.1\n  hosts forward.example\n}\n",
	} {
		if got := OfflineUpstreams(keep); got != keep {
			t.Errorf("changed upstreams that are addresses or files:\n%s", got)
		}
	}
}
