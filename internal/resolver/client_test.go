package resolver

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/k8slint/k8slint/internal/testenv"
)

// seen is one query the test server received.
type seen struct {
	q     Query
	id    uint16
	net   string
	port  int
	delay time.Duration
}

// server answers from zone on 127.0.0.1, UDP and TCP, and records queries.
type server struct {
	addr  string
	mu    sync.Mutex
	log   []seen
	start time.Time
}

func startServer(t *testing.T) *server {
	t.Helper()
	s := &server{start: time.Now()}
	pc, l, err := testenv.ListenBoth("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = pc.LocalAddr().String()
	h := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		q := r.Question[0]
		var port int
		network := "udp"
		switch a := w.RemoteAddr().(type) {
		case *net.UDPAddr:
			port = a.Port
		case *net.TCPAddr:
			port, network = a.Port, "tcp"
		}
		s.mu.Lock()
		s.log = append(s.log, seen{Query{Name: q.Name, Type: q.Qtype}, r.Id, network, port, time.Since(s.start)})
		s.mu.Unlock()
		m := new(dns.Msg)
		m.SetReply(r)
		switch zone(q.Name, q.Qtype) {
		case Data:
			hdr := dns.RR_Header{Name: q.Name, Rrtype: q.Qtype, Class: dns.ClassINET, Ttl: 5}
			if q.Qtype == dns.TypeA {
				m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: net.IPv4(10, 0, 0, 7)})
			} else {
				m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr, AAAA: net.ParseIP("fd00::7")})
			}
		case NXDomain:
			m.Rcode = dns.RcodeNameError
		case ServFail:
			m.Rcode = dns.RcodeServerFailure
		}
		_ = w.WriteMsg(m)
	})
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: l, Handler: h}} {
		go func() { _ = srv.ActivateAndServe() }()
		t.Cleanup(func() { _ = srv.Shutdown() })
	}
	return s
}

func (s *server) seen() []seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seen(nil), s.log...)
}

func TestSendFollowsThePlanOnTheWire(t *testing.T) {
	for _, tc := range []struct {
		kind    Kind
		options string
	}{
		{GLibc, ""}, {GLibc, "single-request"}, {GLibc, "single-request-reopen"}, {GLibc, "use-vc"},
		{Musl, "use-vc"}, {Go, ""}, {Go, "single-request"}, {Go, "use-vc"},
	} {
		t.Run(tc.kind.String()+" "+tc.options, func(t *testing.T) {
			s := startServer(t)
			c := conf(t, pod+"options ndots:5 "+tc.options+"\n")
			res, err := Send(context.Background(), s.addr, tc.kind, c, "api.stripe.com", Options{})
			if err != nil {
				t.Fatal(err)
			}
			plan := Plan(tc.kind, c, "api.stripe.com", zone)
			var sent []Query
			for _, q := range res.Sent {
				sent = append(sent, q.Query)
			}
			if names(sent) != names(plan) || !res.Found || len(res.Addrs) != 2 {
				t.Fatalf("sent %s\nplan %s\nfound %v %v", names(sent), names(plan), res.Found, res.Addrs)
			}
			got := s.seen()
			if len(got) != len(plan) {
				t.Fatalf("server saw %d queries, want %d", len(got), len(plan))
			}
			mode := Effective(tc.kind, c).Mode
			for i := 0; i < len(got); i += 2 {
				a, b := got[i], got[i+1]
				samePort := a.port == b.port
				switch mode {
				case ParallelSameSocket, SequentialSameSocket:
					if !samePort {
						t.Errorf("%s: pair from ports %d and %d, want one socket", mode, a.port, b.port)
					}
				case ParallelSeparateSockets, SequentialNewSocket:
					if samePort {
						t.Errorf("%s: pair from one port %d", mode, a.port)
					}
				}
				wantNet := "udp"
				if mode == TCP {
					wantNet = "tcp"
				}
				if a.net != wantNet || b.net != wantNet {
					t.Errorf("pair over %s/%s, want %s", a.net, b.net, wantNet)
				}
			}
		})
	}
}

func TestSendLosingAnAAAARecoversTheWayGlibcDoes(t *testing.T) {
	s := startServer(t)
	c := conf(t, pod+"options ndots:5\n")
	timeout := 300 * time.Millisecond
	res, err := Send(context.Background(), s.addr, GLibc, c, "web", Options{Lose: dns.TypeAAAA, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, q := range res.Sent {
		lines = append(lines, q.String())
	}
	want := "A web.shop.svc.cluster.local. AAAA web.shop.svc.cluster.local. A web.shop.svc.cluster.local. AAAA web.shop.svc.cluster.local."
	if strings.Join(lines, " ") != want || !res.Sent[1].Lost || !res.Sent[2].Resend || !res.Found {
		t.Fatalf("sent %+v", res.Sent)
	}
	got := s.seen()
	if len(got) != 3 {
		t.Fatalf("server saw %d queries, want A, then A and AAAA again: %+v", len(got), got)
	}
	if got[1].id != got[0].id || got[1].port != got[0].port {
		t.Errorf("re-sent A has id %d port %d, want the first one's %d %d", got[1].id, got[1].port, got[0].id, got[0].port)
	}
	// The gap is between the server's receipts: a first query delivered
	// late (the scheduler, -race) shortens it by that delay, which once
	// made 299.96 ms of a 300 ms timeout. A re-send that did not wait for
	// the timeout would come within a millisecond or so.
	if gap := got[1].delay - got[0].delay; gap < timeout*9/10 {
		t.Errorf("A re-sent after %s, want about the timeout %s", gap, timeout)
	}
	if got[2].q.Type != dns.TypeAAAA || got[2].port != got[0].port {
		t.Errorf("third query %+v, want the AAAA from port %d", got[2], got[0].port)
	}
}

func TestSendAfterALossGlibcStaysOneAfterTheOther(t *testing.T) {
	s := startServer(t)
	c := conf(t, pod+"options ndots:5\n")
	res, err := Send(context.Background(), s.addr, GLibc, c, "api.stripe.com", Options{Lose: dns.TypeAAAA, Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	last := res.Sent[len(res.Sent)-1]
	if last.Mode != SequentialSameSocket || !res.Found {
		t.Fatalf("last query %+v, want single-request mode after the loss", last)
	}
}

func TestSendRefusesToLoseAPacketInSequentialModes(t *testing.T) {
	s := startServer(t)
	c := conf(t, pod+"options single-request\n")
	if _, err := Send(context.Background(), s.addr, GLibc, c, "web", Options{Lose: dns.TypeA}); err == nil {
		t.Fatal("no error")
	}
}

func TestSendHandlesServfailLikeThePlanForGlibc(t *testing.T) {
	for _, tc := range []struct {
		kind    Kind
		options string
	}{
		{GLibc, ""}, {GLibc, "single-request"}, {GLibc, "single-request-reopen"}, {GLibc, "use-vc"},
	} {
		t.Run(tc.kind.String()+" "+tc.options, func(t *testing.T) {
			s := startServer(t)
			c := conf(t, pod+"options ndots:5 attempts:2 "+tc.options+"\n")
			res, err := Send(context.Background(), s.addr, tc.kind, c, "broken", Options{})
			if err != nil {
				t.Fatal(err)
			}
			var sent []Query
			for _, q := range res.Sent {
				sent = append(sent, q.Query)
			}
			if plan := Plan(tc.kind, c, "broken", zone); names(sent) != names(plan) {
				t.Fatalf("sent %s\nplan %s", names(sent), names(plan))
			}
		})
	}
}
