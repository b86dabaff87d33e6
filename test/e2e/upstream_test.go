package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/k8slint/k8slint/internal/testcluster"
	"github.com/k8slint/k8slint/internal/testenv"
)

// The failing upstreams of scenario 5, inside the node namespace.
var failingZones = []struct {
	zone string
	port int
	mode testenv.UpstreamMode
	up   bool // a stub listens (down.test has none: its port is closed)
}{
	{"servfail.test", 5301, testenv.ServFail, true},
	{"refused.test", 5302, testenv.Refused, true},
	{"silent.test", 5303, testenv.Silent, true},
	{"down.test", 5304, 0, false},
}

func failingBlocks() string {
	var b strings.Builder
	for _, z := range failingZones {
		fmt.Fprintf(&b, "%s:53 {\n    errors\n    k8slint\n    forward . %s:%d\n    cache 30\n}\n", z.zone, testcluster.NodeIP, z.port)
	}
	return b.String()
}

var reasons = []string{"servfail", "refused", "timeout", "connection_refused", "no_healthy_upstream", "error"}

// TestUpstreamFailuresByReasonMatchWhatClientsSawOnCoreDNS115 sends five
// lookups of one name to each of four zones whose upstream answers
// SERVFAIL, REFUSED, nothing, or is not there, through the kube-dns
// Service (one replica, `cache` after k8slint as in every block). On
// CoreDNS 1.15.0 `cache` stores a SERVFAIL for 5 s when forward fails
// (coredns#8629) and forward learns of a closed port from the ICMP error
// at once (#8628). So: the failures k8slint counts equal the failed
// answers the client got; a timeout or refused connection is counted once,
// for the query that reached forward, and the repeats within 5 s as
// servfail (served from cache); the closed port fails in well under a
// second; a SERVFAIL answer reaches the upstream once per 5 s.
func TestUpstreamFailuresByReasonMatchWhatClientsSawOnCoreDNS115(t *testing.T) {
	c := need(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	stubs := map[string]*testenv.Upstream{}
	for _, z := range failingZones {
		if !z.up {
			continue
		}
		u, err := c.Node.StartUpstreamAt(z.mode, fmt.Sprintf("%s:%d", testcluster.NodeIP, z.port))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(u.Close)
		stubs[z.zone] = u
	}
	deploy(t, ctx, customImage, corefile(t, nil, failingBlocks()), 1)

	scrape := func() map[string]float64 {
		m, err := c.Node.Scrape(testcluster.DNSServiceIP + ":9153")
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]float64{}
		for _, r := range reasons {
			out[r] = m.Sum("coredns_k8slint_upstream_failures_total", map[string]string{"reason": r})
		}
		return out
	}
	const n = 5
	type result struct {
		rcodes map[string]int
		first  time.Duration
		counts map[string]float64
	}
	results := map[string]result{}
	for _, z := range failingZones {
		before := scrape()
		res := result{rcodes: map[string]int{}, counts: map[string]float64{}}
		for i := 0; i < n; i++ {
			start := time.Now()
			var r *dns.Msg
			err := client.Do(func() error {
				cl := &dns.Client{Net: "udp", Timeout: 10 * time.Second}
				m := new(dns.Msg)
				m.SetQuestion("www."+z.zone+".", dns.TypeA)
				var err error
				r, _, err = cl.Exchange(m, testcluster.DNSServiceIP+":53")
				return err
			})
			if i == 0 {
				res.first = time.Since(start)
			}
			if err != nil {
				t.Fatalf("%s: lookup %d: %v", z.zone, i+1, err)
			}
			res.rcodes[dns.RcodeToString[r.Rcode]]++
		}
		time.Sleep(200 * time.Millisecond)
		after := scrape()
		for _, r := range reasons {
			if d := after[r] - before[r]; d != 0 {
				res.counts[r] = d
			}
		}
		results[z.zone] = res
		queries := int64(-1)
		if u := stubs[z.zone]; u != nil {
			queries = u.Queries()
		}
		t.Logf("%s: client saw %v, first answer after %s; k8slint counted %v; the upstream received %d queries", z.zone, res.rcodes, res.first.Round(time.Millisecond), res.counts, queries)

		// What the client saw is what k8slint counts: REFUSED answers as
		// refused, every SERVFAIL under one of the other reasons.
		other := 0.0
		for r, v := range res.counts {
			if r != "refused" {
				other += v
			}
		}
		if res.counts["refused"] != float64(res.rcodes["REFUSED"]) || other != float64(res.rcodes["SERVFAIL"]) || res.rcodes["NOERROR"] != 0 {
			t.Errorf("%s: the client saw %v, k8slint counted %v", z.zone, res.rcodes, res.counts)
		}
	}
	want := map[string]map[string]float64{
		"servfail.test": {"servfail": n},
		"refused.test":  {"refused": n},
		"silent.test":   {"timeout": 1, "servfail": n - 1},
		"down.test":     {"connection_refused": 1, "servfail": n - 1},
	}
	for zone, w := range want {
		if got := results[zone].counts; fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("%s: k8slint counted %v, want %v", zone, got, w)
		}
	}
	if d := results["down.test"].first; d > time.Second {
		t.Errorf("a closed upstream port took %s to fail: forward should learn of it from the ICMP error", d)
	}
	if d := results["silent.test"].first; d < time.Second {
		t.Errorf("a silent upstream failed after %s: that is not a timeout", d)
	}
	// The SERVFAIL answer was cached for 5 s: once the TTL is over the
	// next query reaches the upstream again.
	if got := stubs["servfail.test"].Queries(); got != 1 {
		t.Errorf("servfail.test's upstream received %d queries for %d lookups within 5 s, want 1 (the rest from cache)", got, n)
	}
	time.Sleep(5500 * time.Millisecond)
	if r, err := query(client, testcluster.DNSServiceIP+":53", "www.servfail.test.", dns.TypeA); err != nil || r.Rcode != dns.RcodeServerFailure {
		t.Fatalf("www.servfail.test after 5 s: %v %v", r, err)
	}
	if got := stubs["servfail.test"].Queries(); got != 2 {
		t.Errorf("after the 5 s servfail TTL the upstream received %d queries in all, want 2", got)
	}
}
