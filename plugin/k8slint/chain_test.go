package k8slint

import (
	"context"
	"errors"
	"net"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/miekg/dns"
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

// TestMayKeepWriter: of cache's settings, only serve_stale in verify mode
// with a timeout leaves a refresh running with the query's writer after
// the query returned, and k8slint then gives each query a recorder of its
// own. The settings are read from cache's unexported fields: a CoreDNS
// that renames them fails the rows that expect the pool. Which stock
// plugins keep a writer was read in CoreDNS v1.15.0: another release
// fails here until it is read again.
func TestMayKeepWriter(t *testing.T) {
	if v := moduleVersion("github.com/coredns/coredns"); v != "v1.15.0" {
		t.Fatalf("CoreDNS %s: read its plugins for writers kept past the query (mayKeepWriter), then update this test", v)
	}
	for _, tc := range []struct {
		stanza string
		kept   bool
	}{
		{"cache 30", false},
		{"cache 30 {\n serve_stale\n}", false},
		{"cache 30 {\n serve_stale 1h immediate 30s\n}", false},
		{"cache 30 {\n serve_stale 1h verify\n}", false},
		{"cache 30 {\n serve_stale 1h verify 0 30s\n}", false},
		{"cache 30 {\n serve_stale 1h verify 100ms\n}", true},
		{"cache 30 {\n serve_stale 1h verify 2s 30s 30s\n}", true},
	} {
		if got := mayKeepWriter(cacheOf(t, tc.stanza, nil)); got != tc.kept {
			t.Errorf("%q: mayKeepWriter = %v, want %v", tc.stanza, got, tc.kept)
		}
	}
	if mayKeepWriter(nil) {
		t.Error("no cache: mayKeepWriter = true")
	}
	if !mayKeepWriter(plugin.HandlerFunc(func(context.Context, dns.ResponseWriter, *dns.Msg) (int, error) { return 0, nil })) {
		t.Error("a cache of another type: mayKeepWriter = false, want true")
	}
}

// cacheOf sets up the cache plugin of stanza with its own setup code and
// returns its handler, next after it.
func cacheOf(t *testing.T, stanza string, next plugin.Handler) plugin.Handler {
	t.Helper()
	setup, err := caddy.DirectiveAction("dns", "cache")
	if err != nil {
		t.Fatal(err)
	}
	c := caddy.NewTestController("dns", stanza)
	if err := setup(c); err != nil {
		t.Fatalf("%q: %v", stanza, err)
	}
	ps := dnsserver.GetConfig(c).Plugin
	if len(ps) != 1 {
		t.Fatalf("%q: %d plugins set up", stanza, len(ps))
	}
	return ps[0](next)
}

// moduleVersion is the version of module path that the repository's
// go.mod requires ("" when it does not). A test binary's build
// information lists no dependencies (debug.ReadBuildInfo), so go.mod is
// read.
func moduleVersion(path string) string {
	b, err := os.ReadFile("../../go.mod")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == path {
			return f[1]
		}
	}
	return ""
}

// TestCachesStaleRefreshCallsAKeptRecorderLate runs the case that made
// CoreDNS exit (test.TestAWriterHeldAfterTheAnswerStillWorks) in process,
// with cache's own setup and handler: with serve_stale verify 10ms, a
// refresh slower than that is answered from the stale entry, and the
// plugin below cache calls the query's writer after k8slint returned.
// mayKeepWriter must say so, and the late call must reach the query's own
// writer (under -race in make test: no data race with k8slint's
// ServeDNS either).
func TestCachesStaleRefreshCallsAKeptRecorderLate(t *testing.T) {
	var slow atomic.Bool
	late := make(chan net.Addr, 1)
	below := plugin.HandlerFunc(func(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
		if slow.Load() {
			time.Sleep(100 * time.Millisecond) // the stale answer is out by now
			late <- w.RemoteAddr()
			return dns.RcodeServerFailure, errors.New("the upstream did not answer")
		}
		m := new(dns.Msg)
		m.SetReply(r)
		m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 1}, A: net.IPv4(192, 0, 2, 1)}}
		return dns.RcodeSuccess, w.WriteMsg(m)
	})
	ch := cacheOf(t, "cache 1 . {\n serve_stale 1h verify 10ms\n}", below)
	k, srv := newTestPlugin(t, zone{})
	k.Next = ch
	if k.kept = mayKeepWriter(ch); !k.kept {
		t.Fatal("mayKeepWriter = false for serve_stale verify 10ms")
	}
	ctx := context.WithValue(context.Background(), dnsserver.Key{}, &dnsserver.Server{Addr: srv})
	query := func(ip string) *dns.Msg {
		t.Helper()
		m := new(dns.Msg)
		m.SetQuestion("stale.example.", dns.TypeA)
		rec := dnstest.NewRecorder(&peer{ip: ip, port: 53000})
		if _, err := k.ServeDNS(ctx, rec, m); err != nil || rec.Msg == nil || len(rec.Msg.Answer) != 1 {
			t.Fatalf("query from %s: %v %v", ip, rec.Msg, err)
		}
		return rec.Msg
	}
	query("10.0.0.1")
	time.Sleep(1100 * time.Millisecond) // the entry expires
	slow.Store(true)
	start := time.Now()
	query("10.0.0.2")
	if d := time.Since(start); d >= 100*time.Millisecond {
		t.Fatalf("the stale answer took %s: cache waited for the refresh", d)
	}
	// Another query takes the pool's recorders, if there were any.
	slow.Store(false)
	query("10.0.0.3")
	select {
	case a := <-late:
		if got := a.(*net.UDPAddr).IP.String(); got != "10.0.0.2" {
			t.Errorf("the refresh's late call got %s, want the stale query's client 10.0.0.2", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the refresh never called the writer")
	}
	observed(k)
}
