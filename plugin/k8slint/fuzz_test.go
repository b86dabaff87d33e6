package k8slint

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// FuzzObserve drives the classifiers (search walks, pairs, retransmissions,
// upstream outcomes) with arbitrary query sequences: names of any bytes and
// case, A/AAAA/other types, a few clients and ports, UDP and TCP, clock
// jumps. Each op is one line: "client port flags name", flags being a
// string of letters (a: AAAA, s: SRV, t: TCP, w: a second passes, W:
// retry_window passes, d: the report drains, f: the chain fails). Nothing may panic (a recovered panic counts too), every
// answer must pass through unchanged, wasted may never exceed expansions,
// and the client table stays within clients_max.
func FuzzObserve(f *testing.F) {
	for _, seed := range []string{
		"1 100 - api.stripe.com.shop.svc.cluster.local.\n1 100 a api.stripe.com.shop.svc.cluster.local.\n1 100 - api.stripe.com.svc.cluster.local.\n1 100 - api.stripe.com.",
		"2 200 - example.org.\n2 200 a example.org.\n2 200 w example.org.\n2 200 a example.org.",
		"3 300 t example.com.\n3 300 at example.com.\n3 301 f down.example.",
		"4 1 - A.B.Ns.SVC.Cluster.Local.\n4 1 - a.b.svc.cluster.local.\n4 1 s _http._tcp.web.shop.svc.cluster.local.",
		"5 5 - .\n5 5 - ..\n5 5 - cluster.local.\n5 5 - svc.cluster.local.\n5 5 - x..svc.cluster.local.",
		"6 6 - " + strings.Repeat("a.", 130) + "shop.svc.cluster.local.",
		// Late walks: a later candidate first, read two ways until the next
		// query decides; one left alone until the window passes.
		"7 7 - api.stripe.com.svc.cluster.local.\n7 7 a api.stripe.com.svc.cluster.local.\n7 8 - api.stripe.com.",
		"8 8 - web.shop.svc.cluster.local.\n8 9 - a.b.cluster.local.\n8 9 W a.b.corp.internal.\n8 9 d x.",
	} {
		f.Add(seed)
	}
	cfg := DefaultConfig()
	cfg.ClientsMax = 8
	cfg.NamespacesMax = 4
	cfg.ClusterDomains = []string{"cluster.local.", "corp.internal."}
	k := New(cfg)
	srv := "dns://fuzz-observe"
	ctx := context.WithValue(context.Background(), dnsserver.Key{}, &dnsserver.Server{Addr: srv})
	f.Fuzz(func(t *testing.T, ops string) {
		z := zone{exists: map[string]bool{"web.shop.svc.cluster.local.": true}, fail: map[string]error{"down.example.": errTest}}
		k.Next = z
		for _, line := range strings.Split(ops, "\n") {
			parts := strings.SplitN(line, " ", 4)
			if len(parts) != 4 || parts[3] == "" {
				continue
			}
			w := &peer{ip: "10.0.0." + clip(parts[0]), port: 1000 + len(parts[1])}
			qtype := dns.TypeA
			switch {
			case strings.Contains(parts[2], "a"):
				qtype = dns.TypeAAAA
			case strings.Contains(parts[2], "s"):
				qtype = dns.TypeSRV
			}
			w.tcp = strings.Contains(parts[2], "t")
			if strings.Contains(parts[2], "w") {
				k.epoch.Add(-int64(time.Second))
			}
			if strings.Contains(parts[2], "W") {
				k.epoch.Add(-int64(k.cfg.RetryWindow))
			}
			if strings.Contains(parts[2], "d") {
				k.snapshot(time.Now(), false)
			}
			name := parts[3]
			if strings.Contains(parts[2], "f") {
				name = "down.example."
			}
			m := new(dns.Msg)
			m.SetQuestion(name, qtype)
			rec := dnstest.NewRecorder(w)
			rcode, _ := k.ServeDNS(ctx, rec, m)
			wantRcode, _ := z.ServeDNS(ctx, dnstest.NewRecorder(w), m)
			if rcode != wantRcode {
				t.Fatalf("%q: rcode %d through k8slint, %d without", name, rcode, wantRcode)
			}
			if rec.Msg != nil {
				if rec.Msg.Rcode != wantRcode || rec.Msg.Id != m.Id {
					t.Fatalf("%q: answer changed: %v", name, rec.Msg)
				}
			}
			k.epoch.Add(-int64(200 * time.Microsecond))
		}
		if n := k.panics.Load(); n != 0 {
			t.Fatalf("%d observation panics", n)
		}
		if n := k.clients.len(); n > cfg.ClientsMax {
			t.Fatalf("%d tracked clients, clients_max %d", n, cfg.ClientsMax)
		}
		s := k.server(srv)
		for i := range s.ns {
			if h := s.ns[i].Load(); h != nil {
				if e, w := testutil.ToFloat64(h.expansions), testutil.ToFloat64(h.wasted); w > e {
					t.Fatalf("namespace %q: wasted %v > expansions %v", k.ns.name(h.ns), w, e)
				}
			}
		}
	})
}

var errTest = &dns.Error{}

func clip(s string) string {
	if len(s) > 3 {
		s = s[:3]
	}
	n := 0
	for _, c := range s {
		n = (n*10 + int(c)) % 250
	}
	return strings.TrimLeft(string(rune('0'+n/100))+string(rune('0'+n/10%10))+string(rune('0'+n%10)), "0") + "1"
}
