package resolver

import (
	"reflect"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/k8slint/k8slint/internal/resolvconf"
)

func conf(t *testing.T, text string) Conf {
	t.Helper()
	c, err := resolvconf.Parse(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const pod = "nameserver 10.96.0.10\nsearch shop.svc.cluster.local svc.cluster.local cluster.local\n"

// zone answers like a cluster with one service, one name that has only a
// TXT record, one failing name and one external name.
func zone(name string, qtype uint16) Answer {
	switch name {
	case "web.shop.svc.cluster.local.", "api.stripe.com.":
		return Data
	case "txt.shop.svc.cluster.local.":
		return NoData
	case "broken.shop.svc.cluster.local.":
		return ServFail
	}
	return NXDomain
}

func names(plan []Query) string {
	var s []string
	for _, q := range plan {
		s = append(s, q.String())
	}
	return strings.Join(s, ", ")
}

func pairs(ns ...string) string {
	var s []string
	for _, n := range ns {
		s = append(s, "A "+n, "AAAA "+n)
	}
	return strings.Join(s, ", ")
}

func TestPlan(t *testing.T) {
	for _, tc := range []struct {
		name        string
		kind        Kind
		options     string
		lookup      string
		want        string
		wantMode    Mode
		nx, queries int
	}{
		{"glibc with ndots 5 walks the search list before the name as-is",
			GLibc, "ndots:5", "api.stripe.com",
			pairs("api.stripe.com.shop.svc.cluster.local.", "api.stripe.com.svc.cluster.local.", "api.stripe.com.cluster.local.", "api.stripe.com."),
			ParallelSameSocket, 6, 8},
		{"glibc asks a name with enough dots as-is first",
			GLibc, "ndots:2", "api.stripe.com", pairs("api.stripe.com."), ParallelSameSocket, 0, 2},
		{"glibc goes on after the as-is name fails",
			GLibc, "ndots:1", "nope.example", pairs("nope.example.", "nope.example.shop.svc.cluster.local.", "nope.example.svc.cluster.local.", "nope.example.cluster.local."),
			ParallelSameSocket, 8, 8},
		{"musl never searches a name with enough dots",
			Musl, "ndots:1", "nope.example", pairs("nope.example."), ParallelSameSocket, 2, 2},
		{"a trailing dot asks only the name",
			GLibc, "ndots:5", "web.shop.svc.cluster.local.", pairs("web.shop.svc.cluster.local."), ParallelSameSocket, 0, 2},
		{"glibc walks past NODATA",
			GLibc, "ndots:5", "txt", pairs("txt.shop.svc.cluster.local.", "txt.svc.cluster.local.", "txt.cluster.local.", "txt."), ParallelSameSocket, 6, 8},
		{"musl stops at NODATA",
			Musl, "ndots:5", "txt", pairs("txt.shop.svc.cluster.local."), ParallelSameSocket, 0, 2},
		{"glibc sends a SERVFAIL pair attempts times then moves on",
			GLibc, "ndots:5 attempts:2", "broken",
			pairs("broken.shop.svc.cluster.local.", "broken.shop.svc.cluster.local.", "broken.svc.cluster.local.", "broken.cluster.local.", "broken."),
			ParallelSameSocket, 6, 10},
		{"musl gives up at SERVFAIL after re-sending it for the whole timeout",
			Musl, "ndots:5 attempts:2", "broken", pairs("broken.shop.svc.cluster.local.", "broken.shop.svc.cluster.local."), ParallelSameSocket, 0, 12},
		{"glibc single-request re-sends a SERVFAILed A and never asks the AAAA",
			GLibc, "ndots:5 attempts:2 single-request", "broken",
			"A broken.shop.svc.cluster.local., A broken.shop.svc.cluster.local., A broken.svc.cluster.local., AAAA broken.svc.cluster.local.",
			SequentialSameSocket, 6, 8},
		{"glibc over TCP does not retry a SERVFAIL",
			GLibc, "ndots:5 attempts:2 use-vc", "broken", pairs("broken.shop.svc.cluster.local.", "broken.svc.cluster.local."), TCP, 6, 8},
		{"musl ignores single-request-reopen and use-vc",
			Musl, "ndots:5 single-request-reopen use-vc", "web", pairs("web.shop.svc.cluster.local."), ParallelSameSocket, 0, 2},
		{"glibc single-request-reopen sends from a new socket",
			GLibc, "single-request-reopen", "web", pairs("web.shop.svc.cluster.local."), SequentialNewSocket, 0, 2},
		{"glibc single-request keeps the socket",
			GLibc, "single-request", "web", pairs("web.shop.svc.cluster.local."), SequentialSameSocket, 0, 2},
		{"glibc use-vc uses TCP",
			GLibc, "use-vc single-request", "web", pairs("web.shop.svc.cluster.local."), TCP, 0, 2},
		{"Go sends the pair from two sockets",
			Go, "ndots:5", "web", pairs("web.shop.svc.cluster.local."), ParallelSeparateSockets, 0, 2},
		{"Go's single-request is one after the other, a socket per query",
			Go, "single-request", "web", pairs("web.shop.svc.cluster.local."), SequentialNewSocket, 0, 2},
		{"ndots over 15 is capped at 15",
			GLibc, "ndots:99", "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p", pairs("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p."), ParallelSameSocket, 8, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := conf(t, pod+"options "+tc.options+"\n")
			plan := Plan(tc.kind, c, tc.lookup, zone)
			if tc.nx+tc.queries == 0 {
				t.Fatal("case without expectations")
			}
			got := names(plan)
			if !strings.HasPrefix(got, tc.want) {
				t.Errorf("plan\n%s\nwant it to start with\n%s", got, tc.want)
			}
			for _, q := range plan {
				if q.Mode != tc.wantMode {
					t.Errorf("%s sent %s, want %s", q, q.Mode, tc.wantMode)
				}
			}
			if n, nx := Cost(plan); n != tc.queries || nx != tc.nx {
				t.Errorf("Cost = %d queries, %d NXDOMAIN; want %d, %d\n%s", n, nx, tc.queries, tc.nx, got)
			}
		})
	}
}

func TestGoRetriesEachServfailedTypeAlone(t *testing.T) {
	plan := Plan(Go, conf(t, pod+"options ndots:5 attempts:3\n"), "broken", zone)
	want := "A broken.shop.svc.cluster.local., A broken.shop.svc.cluster.local., A broken.shop.svc.cluster.local., " +
		"AAAA broken.shop.svc.cluster.local., AAAA broken.shop.svc.cluster.local., AAAA broken.shop.svc.cluster.local., " +
		"A broken.svc.cluster.local."
	if got := names(plan); !strings.HasPrefix(got, want) {
		t.Fatalf("plan\n%s\nwant it to start with\n%s", got, want)
	}
}

func TestGoDropsADotSearchEntryButGlibcTriesTheRootOnce(t *testing.T) {
	c := conf(t, "search . cluster.local\noptions ndots:5\n")
	if got, want := Candidates(Go, c, "x"), []string{"x.cluster.local.", "x."}; !reflect.DeepEqual(got, want) {
		t.Errorf("go: %v, want %v", got, want)
	}
	if got, want := Candidates(GLibc, c, "x"), []string{"x.", "x.cluster.local."}; !reflect.DeepEqual(got, want) {
		t.Errorf("glibc: %v, want %v", got, want)
	}
}

func TestEffectiveAppliesEachResolversCaps(t *testing.T) {
	c := conf(t, "options ndots:20 timeout:100 attempts:100\n")
	for kind, want := range map[Kind]Settings{
		GLibc: {Ndots: 15, Timeout: 30, Attempts: 5, Mode: ParallelSameSocket},
		Musl:  {Ndots: 15, Timeout: 60, Attempts: 10, Mode: ParallelSameSocket},
		Go:    {Ndots: 15, Timeout: 100, Attempts: 100, Mode: ParallelSeparateSockets},
	} {
		if got := Effective(kind, c); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v, want %+v", kind, got, want)
		}
	}
}

func TestAnswerOfClassifiesResponses(t *testing.T) {
	m := new(dns.Msg)
	m.SetQuestion("x.", dns.TypeAAAA)
	if a := AnswerOf(m, dns.TypeAAAA); a != NoData {
		t.Errorf("empty NOERROR: %s", a)
	}
	m.Answer = []dns.RR{&dns.AAAA{Hdr: dns.RR_Header{Name: "x.", Rrtype: dns.TypeAAAA, Class: dns.ClassINET}}}
	if a := AnswerOf(m, dns.TypeAAAA); a != Data {
		t.Errorf("AAAA record: %s", a)
	}
	m.Rcode = dns.RcodeNameError
	if a := AnswerOf(m, dns.TypeAAAA); a != NXDomain {
		t.Errorf("NXDOMAIN: %s", a)
	}
	m.Rcode = dns.RcodeRefused
	if a := AnswerOf(m, dns.TypeAAAA); a != ServFail {
		t.Errorf("REFUSED: %s", a)
	}
}

func TestParseKindReadsTheNamesKindsPrint(t *testing.T) {
	for _, k := range Kinds {
		if got, err := ParseKind(k.String()); err != nil || got != k {
			t.Errorf("%s: %v, %v", k, got, err)
		}
	}
	if _, err := ParseKind("uclibc"); err == nil || !strings.Contains(err.Error(), `unknown resolver "uclibc" (want glibc, musl or go)`) {
		t.Errorf("uclibc: %v", err)
	}
}
