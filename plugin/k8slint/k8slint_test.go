package k8slint

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"
	"github.com/miekg/dns"
	ot "github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/mocktracer"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// zone answers like a small cluster: names in exists resolve, everything
// else under cluster.local is NXDOMAIN, names outside it resolve unless
// listed in fail.
type zone struct {
	exists map[string]bool
	nodata map[string]bool // exist without addresses: NODATA for A and AAAA
	fail   map[string]error
}

func (z zone) Name() string { return "zone" }

func (z zone) ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	q := r.Question[0]
	if err := z.fail[q.Name]; err != nil {
		return dns.RcodeServerFailure, err
	}
	m := new(dns.Msg)
	m.SetReply(r)
	switch {
	case z.nodata[q.Name]:
	case z.exists[q.Name] || !strings.HasSuffix(q.Name, ".cluster.local."):
		if q.Qtype == dns.TypeA {
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 5}, A: net.IPv4(192, 0, 2, 1)})
		}
	default:
		m.Rcode = dns.RcodeNameError
	}
	w.WriteMsg(m)
	return m.Rcode, nil
}

// peer is a ResponseWriter with a settable source address.
type peer struct {
	test.ResponseWriter
	ip   string
	port int
	tcp  bool
	addr net.Addr // cached, so that benchmarks measure the plugin only
}

func (c *peer) RemoteAddr() net.Addr {
	if c.addr != nil {
		return c.addr
	}
	if c.tcp {
		return &net.TCPAddr{IP: net.ParseIP(c.ip), Port: c.port}
	}
	return &net.UDPAddr{IP: net.ParseIP(c.ip), Port: c.port}
}

func newTestPlugin(t *testing.T, z zone) (*K8slint, string) {
	t.Helper()
	cfg := DefaultConfig()
	k := New(cfg)
	k.Next = z
	return k, serverLabel(t)
}

// runs counts each test's runs in this process (go test -count N).
var runs = struct {
	sync.Mutex
	n map[string]int
}{n: map[string]int{}}

// serverLabel returns a server label unique to the test and to its run:
// the metrics are the process's, so a label of its own keeps a test's
// counts apart from every other test's and from its own earlier runs.
func serverLabel(t *testing.T) string {
	runs.Lock()
	defer runs.Unlock()
	l := "dns://" + strings.ReplaceAll(t.Name(), "/", "_")
	if runs.n[l]++; runs.n[l] > 1 {
		l += fmt.Sprintf("#%d", runs.n[l])
	}
	return l
}

func ask(t *testing.T, k *K8slint, server string, w *peer, name string, qtype uint16, id uint16) int {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.Id = id
	ctx := context.WithValue(context.Background(), dnsserver.Key{}, &dnsserver.Server{Addr: server})
	rec := dnstest.NewRecorder(w)
	rcode, _ := k.ServeDNS(ctx, rec, m)
	// A round trip passes before the client's next query: 200 µs.
	k.epoch.Add(-int64(200 * time.Microsecond))
	return rcode
}

func expansions(k *K8slint, server, ns string) float64 {
	return counted(k, searchExpansions.WithLabelValues(server, ns))
}
func wasted(k *K8slint, server, ns string) float64 {
	return counted(k, wastedNXDomain.WithLabelValues(server, ns))
}

// counted reads a counter of k's as a scrape would: after k's counts are
// published (a scrape publishes only running instances').
func counted(k *K8slint, c prometheus.Collector) float64 {
	k.publishCounts()
	return testutil.ToFloat64(c)
}

// observed works through k's queues (queue.go) as a reader of the state
// does first, without publishing the counts.
func observed(k *K8slint) { k.clients.eachShard(func(*shard) {}) }

// glibcWalk asks, like glibc with ndots:5 and the pod search list, for
// name's candidates, A and AAAA of each, until one resolves.
func glibcWalk(t *testing.T, k *K8slint, server string, w *peer, name, ns string, z zone) (sent, nx int) {
	cands := []string{name + "." + ns + ".svc.cluster.local.", name + ".svc.cluster.local.", name + ".cluster.local.", name + "."}
	id := uint16(100)
	for _, c := range cands {
		for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
			id++
			if ask(t, k, server, w, c, qt, id) == dns.RcodeNameError {
				nx++
			}
			sent++
		}
		if z.exists[c] || !strings.HasSuffix(c, ".cluster.local.") {
			break
		}
	}
	return sent, nx
}

func TestAnExternalNameSearchedThroughThePodSearchListCostsSixWastedNXDOMAIN(t *testing.T) {
	z := zone{}
	k, srv := newTestPlugin(t, z)
	w := &peer{ip: "10.244.1.7", port: 40000}
	sent, nx := glibcWalk(t, k, srv, w, "api.stripe.com", "shop", z)
	if sent != 8 || nx != 6 {
		t.Fatalf("walk sent %d queries, %d NXDOMAIN; want 8 and 6", sent, nx)
	}
	if got := expansions(k, srv, "shop"); got != 6 {
		t.Errorf("search expansions = %v, want 6", got)
	}
	if got := wasted(k, srv, "shop"); got != 6 {
		t.Errorf("wasted NXDOMAIN = %v, want 6", got)
	}
}

func TestInClusterNamesThatResolveAreNeverCounted(t *testing.T) {
	z := zone{exists: map[string]bool{
		"api.payments.svc.cluster.local.":           true,
		"web-0.web.shop.svc.cluster.local.":         true,
		"_http._tcp.web.shop.svc.cluster.local.":    true,
		"10-244-1-5.shop.pod.cluster.local.":        true,
		"kubernetes.default.svc.cluster.local.":     true,
		"db.payments.svc.cluster.local.":            true,
		"web.shop.svc.cluster.local.":               true,
		"kube-dns.kube-system.svc.cluster.local.":   true,
		"api.payments.svc.cluster.local.svc.local.": true,
	}}
	k, srv := newTestPlugin(t, z)
	w := &peer{ip: "10.244.1.8", port: 40001}
	// A short service name found at its first candidate, a headless pod by
	// its relative name, absolute names of every in-cluster shape.
	glibcWalk(t, k, srv, w, "web", "shop", z)
	glibcWalk(t, k, srv, w, "web-0.web", "shop", z)
	for _, n := range []string{"api.payments.svc.cluster.local.", "_http._tcp.web.shop.svc.cluster.local.", "10-244-1-5.shop.pod.cluster.local.", "api.stripe.com."} {
		ask(t, k, srv, w, n, dns.TypeA, 1)
	}
	if got := expansions(k, srv, "shop") + expansions(k, srv, "_unknown"); got != 0 {
		t.Errorf("search expansions = %v, want 0", got)
	}
}

func TestACrossNamespaceNameCountsItsFailedFirstCandidateAndTheHit(t *testing.T) {
	z := zone{exists: map[string]bool{"api.payments.svc.cluster.local.": true}}
	k, srv := newTestPlugin(t, z)
	w := &peer{ip: "10.244.1.9", port: 40002}
	glibcWalk(t, k, srv, w, "api.payments", "shop", z)
	// api.payments.shop.svc... A and AAAA NXDOMAIN, then the hit at
	// api.payments.svc.cluster.local (A and AAAA).
	if got := expansions(k, srv, "shop"); got != 4 {
		t.Errorf("search expansions = %v, want 4", got)
	}
	if got := wasted(k, srv, "shop"); got != 2 {
		t.Errorf("wasted = %v, want 2", got)
	}
}

func TestAFailedLookupOfAnAbsoluteInClusterNameIsNotAnExpansion(t *testing.T) {
	k, srv := newTestPlugin(t, zone{})
	w := &peer{ip: "10.244.1.10", port: 40003}
	ask(t, k, srv, w, "web-9.web.shop.svc.cluster.local.", dns.TypeA, 1)
	ask(t, k, srv, w, "web-9.web.shop.svc.cluster.local.", dns.TypeAAAA, 2)
	ask(t, k, srv, w, "example.org.", dns.TypeA, 3)
	if got := expansions(k, srv, "shop") + expansions(k, srv, "web"); got != 0 {
		t.Errorf("search expansions = %v, want 0", got)
	}
}

// The walks below are what glibc and musl really sent to CoreDNS in
// test/groundtruth_test.go, where these cases were found.

func TestARepeatedCrossNamespaceLookupCountsEveryTime(t *testing.T) {
	z := zone{exists: map[string]bool{"kubernetes.default.svc.cluster.local.": true}}
	k, srv := newTestPlugin(t, z)
	w := &peer{ip: "10.244.1.11", port: 40004}
	// The walk ends at its second candidate; the next lookup, well within
	// retry_window, starts over at the first.
	for i := 1; i <= 3; i++ {
		glibcWalk(t, k, srv, w, "kubernetes.default", "shop", z)
		if got, want := expansions(k, srv, "shop"), float64(4*i); got != want {
			t.Fatalf("after %d lookups: search expansions = %v, want %v", i, got, want)
		}
		if got, want := wasted(k, srv, "shop"), float64(2*i); got != want {
			t.Fatalf("after %d lookups: wasted = %v, want %v", i, got, want)
		}
	}
}

func TestAWalkEndsAtItsFirstPositiveAnswer(t *testing.T) {
	z := zone{exists: map[string]bool{
		"kubernetes.default.svc.cluster.local.": true,
		"web-0.web.shop.svc.cluster.local.":     true,
	}}
	k, srv := newTestPlugin(t, z)
	w := &peer{ip: "10.244.1.12", port: 40005}
	glibcWalk(t, k, srv, w, "kubernetes.default", "shop", z)
	glibcWalk(t, k, srv, w, "web-0.web.shop.svc", "shop", z)
	before := expansions(k, srv, "shop")
	// Later lookups that ask, as their first query, a name an ended walk
	// had found: the absolute name, and a relative name whose first
	// candidate it is (ndots:2), and a name one label longer (ndots:1 asks
	// it as is first, NXDOMAIN).
	ask(t, k, srv, w, "kubernetes.default.svc.cluster.local.", dns.TypeA, 1)
	ask(t, k, srv, w, "kubernetes.default.svc.cluster.local.", dns.TypeAAAA, 2)
	ask(t, k, srv, w, "web-0.web.shop.svc.cluster.local.", dns.TypeA, 3)
	ask(t, k, srv, w, "web-0.web.shop.svc.cluster.local.", dns.TypeAAAA, 4)
	ask(t, k, srv, w, "kubernetes.default.svc.", dns.TypeA, 5)
	if got := expansions(k, srv, "shop") - before; got != 0 {
		t.Errorf("search expansions after the walks ended: %v, want 0", got)
	}
}

func TestAWalkEndedByItsSecondAnswerTakesNoMoreQueries(t *testing.T) {
	z := zone{exists: map[string]bool{"kubernetes.default.svc.cluster.local.": true}}
	k, srv := newTestPlugin(t, z)
	w := &peer{ip: "10.244.1.15", port: 40008}
	// The AAAA (NODATA) answered before the A that ends the walk: no twin
	// is left to come, so an absolute query of the same name just after
	// belongs to another lookup.
	ask(t, k, srv, w, "kubernetes.default.shop.svc.cluster.local.", dns.TypeA, 1)
	ask(t, k, srv, w, "kubernetes.default.shop.svc.cluster.local.", dns.TypeAAAA, 2)
	ask(t, k, srv, w, "kubernetes.default.svc.cluster.local.", dns.TypeAAAA, 3)
	ask(t, k, srv, w, "kubernetes.default.svc.cluster.local.", dns.TypeA, 4)
	ask(t, k, srv, w, "kubernetes.default.svc.cluster.local.", dns.TypeA, 5)
	if got := expansions(k, srv, "shop"); got != 4 {
		t.Errorf("search expansions = %v, want 4", got)
	}
}

func TestANameFoundAtItsFirstCandidateOpensNoWalk(t *testing.T) {
	z := zone{exists: map[string]bool{
		"web-0.web.shop.svc.cluster.local.": true,
		"db.shop.svc.cluster.local.":        true,
	}}
	k, srv := newTestPlugin(t, z)
	w := &peer{ip: "10.244.1.14", port: 40007}
	// A found, AAAA NODATA (an IPv4-only Service): the search ends there,
	// whichever answer is written first.
	glibcWalk(t, k, srv, w, "web-0.web", "shop", z)
	ask(t, k, srv, w, "db.shop.svc.cluster.local.", dns.TypeAAAA, 1)
	ask(t, k, srv, w, "db.shop.svc.cluster.local.", dns.TypeA, 2)
	// Later lookups of longer names that start with the same labels are
	// not later candidates of those walks.
	ask(t, k, srv, w, "web-0.web.shop.svc.", dns.TypeA, 3)
	ask(t, k, srv, w, "db.shop.example.com.", dns.TypeA, 4)
	if got := expansions(k, srv, "shop") + expansions(k, srv, "_unknown"); got != 0 {
		t.Errorf("search expansions = %v, want 0", got)
	}
}

func TestAFourDotNameSearchedWithNdots5EndsAtTheBareName(t *testing.T) {
	z := zone{exists: map[string]bool{"kubernetes.default.svc.cluster.local.": true}}
	k, srv := newTestPlugin(t, z)
	w := &peer{ip: "10.244.1.13", port: 40006}
	// Three NXDOMAIN candidates, then the bare name, which lies under the
	// cluster domain itself; twice, as a pod does.
	for i := 1; i <= 2; i++ {
		glibcWalk(t, k, srv, w, "kubernetes.default.svc.cluster.local", "shop", z)
		if got, want := expansions(k, srv, "shop"), float64(6*i); got != want {
			t.Errorf("after %d lookups: search expansions = %v, want %v", i, got, want)
		}
		if got, want := wasted(k, srv, "shop"), float64(6*i); got != want {
			t.Errorf("after %d lookups: wasted = %v, want %v", i, got, want)
		}
	}
	ask(t, k, srv, w, "kubernetes.default.svc.cluster.local.", dns.TypeA, 1)
	if got := expansions(k, srv, "shop"); got != 12 {
		t.Errorf("search expansions after an absolute query = %v, want 12", got)
	}
}

func TestPairsAreClassifiedBySocketAndTiming(t *testing.T) {
	k, srv := newTestPlugin(t, zone{})
	// Learn the client's namespace first.
	w := &peer{ip: "10.244.2.1", port: 41000}
	glibcWalk(t, k, srv, w, "api.stripe.com", "shop", zone{})
	par := counted(k, parallelPairs.WithLabelValues(srv, "shop"))
	same := counted(k, sequentialPairs.WithLabelValues(srv, "shop", "same_socket"))
	early := counted(k, sequentialPairs.WithLabelValues(srv, "_unknown", "same_socket"))
	// Answered one by one here: each pair is sequential on one socket. The
	// namespace is learned when the walk is confirmed, at its second
	// candidate, so the first pair is still "_unknown".
	if par != 0 || same != 3 || early != 1 {
		t.Fatalf("parallel=%v same_socket=%v (+%v unknown), want 0 and 3 (+1)", par, same, early)
	}
	// In parallel: the twin arrives while the first is in flight.
	k2, srv2 := newTestPlugin(t, zone{})
	inflight := make(chan struct{})
	release := make(chan struct{})
	k2.Next = plugin.HandlerFunc(func(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
		if r.Question[0].Qtype == dns.TypeA && r.Question[0].Name == "example.org." {
			close(inflight)
			<-release
		}
		m := new(dns.Msg)
		m.SetReply(r)
		w.WriteMsg(m)
		return 0, nil
	})
	w2 := &peer{ip: "10.244.2.2", port: 41001}
	done := make(chan struct{})
	go func() { ask(t, k2, srv2, w2, "example.org.", dns.TypeA, 7); close(done) }()
	<-inflight
	ask(t, k2, srv2, w2, "example.org.", dns.TypeAAAA, 8)
	close(release)
	<-done
	if got := counted(k2, parallelPairs.WithLabelValues(srv2, "_unknown")); got != 1 {
		t.Errorf("parallel pairs = %v, want 1", got)
	}
	// single-request-reopen: the twin comes from a new port after the answer.
	w3 := &peer{ip: "10.244.2.3", port: 41002}
	ask(t, k2, srv2, w3, "example.net.", dns.TypeA, 9)
	w3.port++
	ask(t, k2, srv2, w3, "example.net.", dns.TypeAAAA, 10)
	if got := counted(k2, sequentialPairs.WithLabelValues(srv2, "_unknown", "new_socket")); got != 1 {
		t.Errorf("new_socket pairs = %v, want 1", got)
	}
	// use-vc.
	w4 := &peer{ip: "10.244.2.4", port: 41003, tcp: true}
	ask(t, k2, srv2, w4, "example.com.", dns.TypeA, 11)
	ask(t, k2, srv2, w4, "example.com.", dns.TypeAAAA, 12)
	if got := counted(k2, sequentialPairs.WithLabelValues(srv2, "_unknown", "tcp")); got != 1 {
		t.Errorf("tcp pairs = %v, want 1", got)
	}
}

func TestALoneQueryRetransmittedFromTheSameSocketIsASuspectedRace(t *testing.T) {
	k, srv := newTestPlugin(t, zone{})
	w := &peer{ip: "10.244.3.1", port: 42000}
	// glibc: the AAAA was lost; after its timeout glibc re-sends the answered
	// A with the same ID from the same port, then the AAAA.
	ask(t, k, srv, w, "example.org.", dns.TypeA, 77)
	k.epoch.Add(-int64(time.Second)) // one second passes
	ask(t, k, srv, w, "example.org.", dns.TypeA, 77)
	ask(t, k, srv, w, "example.org.", dns.TypeAAAA, 78)
	if got := counted(k, raceSuspected.WithLabelValues(srv, "_unknown")); got != 1 {
		t.Errorf("race suspected = %v, want 1", got)
	}
	// musl: the lost AAAA itself comes again, late.
	w2 := &peer{ip: "10.244.3.2", port: 42001}
	ask(t, k, srv, w2, "example.net.", dns.TypeA, 5)
	k.epoch.Add(-int64(500 * time.Millisecond))
	ask(t, k, srv, w2, "example.net.", dns.TypeAAAA, 6)
	if got := counted(k, raceSuspected.WithLabelValues(srv, "_unknown")); got != 2 {
		t.Errorf("race suspected = %v, want 2", got)
	}
	// A new lookup from a new socket is not a retransmission.
	w3 := &peer{ip: "10.244.3.3", port: 42002}
	ask(t, k, srv, w3, "example.com.", dns.TypeA, 9)
	k.epoch.Add(-int64(time.Second))
	w3.port++
	ask(t, k, srv, w3, "example.com.", dns.TypeA, 10)
	if got := counted(k, raceSuspected.WithLabelValues(srv, "_unknown")); got != 2 {
		t.Errorf("race suspected = %v after a fresh lookup, want still 2", got)
	}
}

func TestALoneQueryResentWithItsIDFromANewSocketIsASuspectedRace(t *testing.T) {
	k, srv := newTestPlugin(t, zone{})
	w := &peer{ip: "10.244.3.4", port: 42010}
	// glibc single-request, as seen in test/groundtruth_test.go: A
	// answered, the AAAA lost; after the timeout glibc opens a new socket,
	// re-sends the A with its ID, then the AAAA from yet another port.
	ask(t, k, srv, w, "example.org.", dns.TypeA, 300)
	k.epoch.Add(-int64(time.Second))
	w.port = 42011
	ask(t, k, srv, w, "example.org.", dns.TypeA, 300)
	w.port = 42012
	ask(t, k, srv, w, "example.org.", dns.TypeAAAA, 301)
	if got := counted(k, raceSuspected.WithLabelValues(srv, "_unknown")); got != 1 {
		t.Errorf("race suspected = %v, want 1", got)
	}
	if got := counted(k, sequentialPairs.WithLabelValues(srv, "_unknown", "new_socket")); got != 1 {
		t.Errorf("new_socket pairs = %v, want 1", got)
	}
}

func TestMuslResendingAServfailedPairIsNoRace(t *testing.T) {
	z := zone{fail: map[string]error{"flaky.example.": errors.New("upstream says SERVFAIL")}}
	k, srv := newTestPlugin(t, z)
	w := &peer{ip: "10.244.3.5", port: 42020}
	// As seen in test/groundtruth_test.go: musl re-sends each query
	// answered SERVFAIL at once, with its ID, and both again after its
	// retry interval. Every answer came; nothing was lost.
	ask(t, k, srv, w, "flaky.example.", dns.TypeA, 500)
	ask(t, k, srv, w, "flaky.example.", dns.TypeAAAA, 501)
	for range 2 {
		ask(t, k, srv, w, "flaky.example.", dns.TypeA, 500)
	}
	ask(t, k, srv, w, "flaky.example.", dns.TypeAAAA, 501)
	k.epoch.Add(-int64(500 * time.Millisecond))
	ask(t, k, srv, w, "flaky.example.", dns.TypeA, 500)
	ask(t, k, srv, w, "flaky.example.", dns.TypeAAAA, 501)
	ask(t, k, srv, w, "flaky.example.", dns.TypeAAAA, 501)
	if got := counted(k, raceSuspected.WithLabelValues(srv, "_unknown")); got != 0 {
		t.Errorf("race suspected = %v, want 0", got)
	}
}

func TestUpstreamFailuresAreCountedByReason(t *testing.T) {
	refused := &net.OpError{Op: "read", Net: "udp", Err: syscall.ECONNREFUSED}
	z := zone{fail: map[string]error{
		"down.example.":     refused,
		"nohealth.example.": errors.New("no healthy proxies"),
		"slow.example.":     &net.OpError{Op: "read", Net: "udp", Err: timeoutErr{}},
	}}
	k, srv := newTestPlugin(t, z)
	w := &peer{ip: "10.244.4.1", port: 43000}
	for _, n := range []string{"down.example.", "nohealth.example.", "slow.example.", "fine.example.", "missing.shop.svc.cluster.local."} {
		ask(t, k, srv, w, n, dns.TypeA, 1)
	}
	for reason, want := range map[string]float64{"connection_refused": 1, "no_healthy_upstream": 1, "timeout": 1, "servfail": 0} {
		if got := testutil.ToFloat64(upstreamFailures.WithLabelValues(srv, reason)); got != want {
			t.Errorf("%s = %v, want %v", reason, got, want)
		}
	}
	s := k.server(srv)
	if s.extTotal.Load() != 4 || s.extFailed.Load() != 3 {
		t.Errorf("external total/failed = %d/%d, want 4/3", s.extTotal.Load(), s.extFailed.Load())
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestTheAnswerIsPassedThroughUnchanged(t *testing.T) {
	k, srv := newTestPlugin(t, zone{})
	m := new(dns.Msg)
	m.SetQuestion("nope.shop.svc.cluster.local.", dns.TypeA)
	ctx := context.WithValue(context.Background(), dnsserver.Key{}, &dnsserver.Server{Addr: srv})
	rec := dnstest.NewRecorder(&peer{ip: "10.0.0.1", port: 1})
	rcode, err := k.ServeDNS(ctx, rec, m)
	if err != nil || rcode != dns.RcodeNameError || rec.Msg == nil || rec.Msg.Rcode != dns.RcodeNameError || rec.Msg.Id != m.Id {
		t.Fatalf("rcode=%d err=%v msg=%v", rcode, err, rec.Msg)
	}
}

// musl re-sends a query answered SERVFAIL at once and after each retry
// interval, with its ID: every instance pairs with one of its twin, and
// none is a lone query.
func TestRepeatedSERVFAILRetriesPairUpAndAreNoRace(t *testing.T) {
	k, srv := newTestPlugin(t, zone{})
	w := &peer{ip: "10.244.5.1", port: 44000}
	ask(t, k, srv, w, "example.org.", dns.TypeA, 1)
	ask(t, k, srv, w, "example.org.", dns.TypeA, 1) // at once
	ask(t, k, srv, w, "example.org.", dns.TypeAAAA, 2)
	ask(t, k, srv, w, "example.org.", dns.TypeAAAA, 2)
	k.epoch.Add(-int64(500 * time.Millisecond)) // musl's retry interval
	ask(t, k, srv, w, "example.org.", dns.TypeA, 1)
	ask(t, k, srv, w, "example.org.", dns.TypeAAAA, 2)
	if got := counted(k, raceSuspected.WithLabelValues(srv, "_unknown")); got != 0 {
		t.Errorf("race suspected = %v, want 0", got)
	}
	if got := counted(k, sequentialPairs.WithLabelValues(srv, "_unknown", "same_socket")); got != 3 {
		t.Errorf("same_socket pairs = %v, want 3", got)
	}
}

// musl against an upstream that refuses (CI, 2026-12-02): each SERVFAIL
// answer is re-sent at once, with its ID, until its retries are spent, so
// two sendings of the A got no twin; after the retry interval the pair is
// sent again and re-sent twice more. A sending waits for its twin only
// while in flight or within 90 ms of its answer: the two orphaned A's
// must not pair with the AAAA's sent 500 ms later. Four pairs, as on the
// wire, and no race (every query was answered).
func TestSendingsOrphanedBeforeTheRetryIntervalDoNotPairAfterIt(t *testing.T) {
	k, srv := newTestPlugin(t, zone{})
	w := &peer{ip: "10.244.5.3", port: 60300}
	a, aaaa := func() { ask(t, k, srv, w, "a.closed.example.", dns.TypeA, 6760) },
		func() { ask(t, k, srv, w, "a.closed.example.", dns.TypeAAAA, 7292) }
	a()
	aaaa()
	a()
	aaaa()
	a()
	a()
	k.epoch.Add(-int64(500 * time.Millisecond)) // musl's retry interval
	a()
	aaaa()
	a()
	aaaa()
	aaaa()
	aaaa()
	if got := counted(k, sequentialPairs.WithLabelValues(srv, "_unknown", "same_socket")); got != 4 {
		t.Errorf("same_socket pairs = %v, want 4", got)
	}
	if got := counted(k, raceSuspected.WithLabelValues(srv, "_unknown")); got != 0 {
		t.Errorf("race suspected = %v, want 0", got)
	}
}

// glibc, after the A of a parallel pair was lost, sends the pair again one
// after the other: one suspected drop and one sequential pair, whichever
// half comes first.
func TestALostHalfIsOneRaceAndThenOnePairInEitherOrder(t *testing.T) {
	for _, first := range []uint16{dns.TypeA, dns.TypeAAAA} {
		t.Run(dns.TypeToString[first], func(t *testing.T) { lostHalf(t, first) })
	}
}

func lostHalf(t *testing.T, first uint16) {
	k, srv := newTestPlugin(t, zone{})
	w := &peer{ip: "10.244.5.2", port: 44001}
	ask(t, k, srv, w, "example.net.", dns.TypeAAAA, 8) // the A (ID 7) was lost
	k.epoch.Add(-int64(time.Second))
	second := uint16(dns.TypeAAAA)
	if first == dns.TypeAAAA {
		second = dns.TypeA
	}
	ids := map[uint16]uint16{dns.TypeA: 7, dns.TypeAAAA: 8}
	ask(t, k, srv, w, "example.net.", first, ids[first])
	ask(t, k, srv, w, "example.net.", second, ids[second])
	race := counted(k, raceSuspected.WithLabelValues(srv, "_unknown"))
	pairs := counted(k, sequentialPairs.WithLabelValues(srv, "_unknown", "same_socket"))
	if race != 1 || pairs != 1 {
		t.Errorf("%s re-sent first: race suspected %v, same_socket pairs %v; want 1 and 1", dns.TypeToString[first], race, pairs)
	}
}

// panicky is a client whose address cannot be read.
type panicky struct{ peer }

func (panicky) RemoteAddr() net.Addr { panic("no address") }

// A panic in the observation code is a bug, but the client still gets its
// answer, unchanged, and the plugin counts and logs the panic.
func TestAPanicWhileObservingNeverCostsTheAnswer(t *testing.T) {
	k, srv := newTestPlugin(t, zone{})
	ctx := context.WithValue(context.Background(), dnsserver.Key{}, &dnsserver.Server{Addr: srv})
	m := new(dns.Msg)
	m.SetQuestion("nope.shop.svc.cluster.local.", dns.TypeA)

	// When the query arrives.
	rec := dnstest.NewRecorder(&panicky{})
	rcode, err := k.ServeDNS(ctx, rec, m)
	if err != nil || rcode != dns.RcodeNameError || rec.Msg == nil || rec.Msg.Rcode != dns.RcodeNameError {
		t.Fatalf("rcode=%d err=%v msg=%v", rcode, err, rec.Msg)
	}
	if n := k.panics.Load(); n != 1 {
		t.Fatalf("panics = %d, want 1", n)
	}
	// When the answer is written: the client table is gone (which the
	// query's arrival, prefetching its shard, finds too).
	k.clients = nil
	rec = dnstest.NewRecorder(&peer{ip: "10.0.0.9", port: 9})
	rcode, err = k.ServeDNS(ctx, rec, m)
	if err != nil || rcode != dns.RcodeNameError || rec.Msg == nil || rec.Msg.Rcode != dns.RcodeNameError || rec.Msg.Id != m.Id {
		t.Fatalf("rcode=%d err=%v msg=%v", rcode, err, rec.Msg)
	}
	if n := k.panics.Load(); n != 3 {
		t.Fatalf("panics = %d, want 3", n)
	}
}

// A panic while the client's shard is locked leaves the shard unlocked:
// the client's next query is answered and observed, not stuck behind it.
func TestAPanicUnderTheShardLockReleasesIt(t *testing.T) {
	k, srv := newTestPlugin(t, zone{})
	w := &peer{ip: "10.0.0.7", port: 7}
	tab := k.ns
	k.ns = nil // a walk's confirmation interns its namespace: it panics
	ask(t, k, srv, w, "api.example.com.shop.svc.cluster.local.", dns.TypeA, 1)
	ask(t, k, srv, w, "api.example.com.svc.cluster.local.", dns.TypeA, 2)
	observed(k)
	if n := k.panics.Load(); n != 1 {
		t.Fatalf("panics = %d, want 1 (under the lock)", n)
	}
	k.ns = tab
	done := make(chan int, 1)
	go func() {
		m := new(dns.Msg)
		m.SetQuestion("api.example.com.cluster.local.", dns.TypeA)
		ctx := context.WithValue(context.Background(), dnsserver.Key{}, &dnsserver.Server{Addr: srv})
		rcode, _ := k.ServeDNS(ctx, dnstest.NewRecorder(w), m)
		done <- rcode
	}()
	select {
	case rcode := <-done:
		if rcode != dns.RcodeNameError {
			t.Fatalf("rcode %d", rcode)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the client's shard stayed locked after the panic")
	}
	observed(k)
	if n := k.panics.Load(); n != 1 {
		t.Fatalf("panics = %d, want 1", n)
	}
}

// A traced query (the trace plugin before k8slint put a span in its
// context) still gets its child span for the next plugin.
func TestATracedQueryKeepsItsSpanForTheNextPlugin(t *testing.T) {
	for _, traced := range []bool{true, false} {
		k, srv := newTestPlugin(t, zone{})
		k.traced = traced
		var got ot.Span
		k.Next = plugin.HandlerFunc(func(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
			got = ot.SpanFromContext(ctx)
			return zone{}.ServeDNS(ctx, w, r)
		})
		tracer := mocktracer.New()
		root := tracer.StartSpan("servedns")
		ctx := ot.ContextWithSpan(context.WithValue(context.Background(), dnsserver.Key{}, &dnsserver.Server{Addr: srv}), root)
		m := new(dns.Msg)
		m.SetQuestion("example.org.", dns.TypeA)
		if _, err := k.ServeDNS(ctx, dnstest.NewRecorder(&peer{ip: "10.0.0.1", port: 1}), m); err != nil {
			t.Fatal(err)
		}
		if traced {
			if c, ok := got.(*mocktracer.MockSpan); !ok || c.ParentID != root.(*mocktracer.MockSpan).SpanContext.SpanID {
				t.Errorf("the next plugin got span %v, want a child of the query's span", got)
			}
		} else if got != root {
			// Without the trace plugin no span is looked for: a test
			// putting one there sees it passed on as it is.
			t.Errorf("the next plugin got span %v, want the context's own", got)
		}
	}
}

// One plugin instance may serve several listeners (a server block with
// several keys or bind addresses): each query's state is its own
// server's, found by pointer or, for a server never seen, by label.
func TestServerStatePerListener(t *testing.T) {
	k, label := newTestPlugin(t, zone{})
	a := &dnsserver.Server{Addr: label + "-a:53"}
	b := &dnsserver.Server{Addr: label + "-b:5353"}
	a2 := &dnsserver.Server{Addr: a.Addr} // another server, the same label
	byName := k.server(label + "-c:53")   // created by label, as tests do
	c := &dnsserver.Server{Addr: byName.name}
	ctx := func(s *dnsserver.Server) context.Context {
		return context.WithValue(context.Background(), dnsserver.Key{}, s)
	}
	for i := 0; i < 2; i++ {
		for _, s := range []*dnsserver.Server{a, b, a2, c} {
			if got := k.serverOf(ctx(s)); got.name != s.Addr {
				t.Errorf("query from %s (%p) counted under %q", s.Addr, s, got.name)
			}
		}
		if got := k.serverOf(context.Background()); got.name != "" {
			t.Errorf("query with no server counted under %q", got.name)
		}
	}
	if k.serverOf(ctx(a)) != k.serverOf(ctx(a2)) || k.serverOf(ctx(c)) != byName {
		t.Error("one label has two states")
	}
	if n := len(k.serverList()); n != 4 {
		t.Errorf("%d server states, want 4 (a, b, c and none)", n)
	}
}

// The ticker's steps that hold a shard's lock (the report's drain, the
// storm check's count of top names) release it when they panic, as the
// query's step does: the shard's clients must not wait for it forever.
func TestAPanicInTheTickerReleasesTheShardLock(t *testing.T) {
	for _, step := range []string{"drain", "top names"} {
		k, srv := newTestPlugin(t, zone{})
		w := &peer{ip: "10.0.0.8", port: 8}
		ask(t, k, srv, w, "api.example.com.shop.svc.cluster.local.", dns.TypeA, 1)
		observed(k)
		var a addrKey
		copy(a[:], net.ParseIP(w.ip).To16())
		s := k.clients.shardFor(addrHash(a))
		names := s.names
		s.names = nil // the steps read a client's names by its entry: out of range
		func() {
			defer k.survive()
			if step == "drain" {
				k.safeDrain(time.Now())
			} else {
				k.drainTop()
			}
		}()
		if n := k.panics.Load(); n != 1 {
			t.Fatalf("%s: panics = %d, want 1", step, n)
		}
		s.names = names
		done := make(chan struct{})
		go func() {
			ask(t, k, srv, w, "api.example.com.svc.cluster.local.", dns.TypeA, 2)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the client's shard stayed locked after the panic", step)
		}
	}
}

// A plugin after k8slint that keeps the query's writer and calls it after
// the query returned (cache's serve_stale verify with a timeout, whose
// refresh goes on after the stale answer was written) still reaches that
// query's writer when the recorders are not reused (kept): the next query
// gets a recorder of its own. With the pool (kept false) the late call
// would find a cleared recorder and panic, as CoreDNS did in
// test.TestAWriterHeldAfterTheAnswerStillWorks.
func TestALateCallReachesTheQuerysOwnWriter(t *testing.T) {
	k, srv := newTestPlugin(t, zone{})
	k.kept = true
	var held []dns.ResponseWriter
	k.Next = plugin.HandlerFunc(func(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
		held = append(held, w)
		return zone{}.ServeDNS(ctx, w, r)
	})
	ctx := context.WithValue(context.Background(), dnsserver.Key{}, &dnsserver.Server{Addr: srv})
	for _, ip := range []string{"10.0.0.1", "10.0.0.2"} {
		m := new(dns.Msg)
		m.SetQuestion("example.org.", dns.TypeA)
		if _, err := k.ServeDNS(ctx, dnstest.NewRecorder(&peer{ip: ip, port: 1}), m); err != nil {
			t.Fatal(err)
		}
	}
	if held[0] == held[1] {
		t.Fatal("both queries had the same recorder")
	}
	for i, ip := range []string{"10.0.0.1", "10.0.0.2"} {
		if got := held[i].RemoteAddr().(*net.UDPAddr).IP.String(); got != ip {
			t.Errorf("query %d's writer, called after it returned, gives %s, want %s", i, got, ip)
		}
	}
	observed(k)
}
