package monitoring

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/k8slint/k8slint/internal/resolvconf"
	"github.com/k8slint/k8slint/internal/resolver"
	"github.com/k8slint/k8slint/internal/testenv"
)

// Traffic sends server (host:port) one round of the lookups that give
// every query of the dashboard data, on a Corefile like the tests' (k8slint
// with low storm and upstream thresholds and clients_max 8, zones
// dead.example forwarded to upstreams that are down and slow.example to
// one that never answers, with max_concurrent 1): glibc search walks with
// ndots:5 from namespaces shop and payments, sequential A/AAAA of each
// mode, one lost AAAA, failing upstreams, refused concurrency and more
// clients than the table holds. src gives the address of client host N
// (1 to 39), each a pod of its own: it must be an address of the network
// namespace Traffic runs in. tag makes this round's names of the failing
// zones its own (cache would answer repeats).
func Traffic(server, tag string, src func(host int) netip.Addr) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conf := func(ns string, opts ...string) resolvconf.Conf {
		c := resolvconf.Conf{
			Nameservers: []string{"127.0.0.1"},
			Search:      []string{ns + ".svc.cluster.local", "svc.cluster.local", "cluster.local"},
			Options:     []resolvconf.Option{{Name: "ndots", Value: "5"}},
		}
		for _, o := range opts {
			c.Options = append(c.Options, resolvconf.ParseOption(o))
		}
		return c
	}
	send := func(host int, kind resolver.Kind, c resolvconf.Conf, name string, o resolver.Options) error {
		o.Source = src(host)
		if o.Timeout == 0 {
			o.Timeout = 700 * time.Millisecond
		}
		_, err := resolver.Send(ctx, server, kind, c, name, o)
		return err
	}
	// Search walks in two namespaces, fast enough for a storm (2/s).
	for i := 0; i < 3; i++ {
		for host, ns := range map[int]string{1: "shop", 2: "payments"} {
			for _, name := range []string{"api.stripe.com", "hooks.slack.com"} {
				if err := send(host, resolver.GLibc, conf(ns), name, resolver.Options{}); err != nil {
					return err
				}
			}
		}
	}
	// Sequential pairs of each mode.
	for host, opt := range map[int]string{3: "single-request", 4: "single-request-reopen", 5: "use-vc"} {
		if err := send(host, resolver.GLibc, conf("shop", opt), "api.github.com.", resolver.Options{}); err != nil {
			return err
		}
	}
	// One AAAA lost: glibc re-sends after its timeout, a suspected race drop.
	if err := send(6, resolver.GLibc, conf("shop"), "api.stripe.com.", resolver.Options{Lose: dns.TypeAAAA, Timeout: 300 * time.Millisecond}); err != nil {
		return err
	}
	// A zone whose upstreams are down: forward errors, SERVFAIL, a
	// degraded upstream; once health checks marked both down, the
	// healthcheck is broken.
	for i := 0; i < 30; i++ {
		if _, err := testenv.Query(server, fmt.Sprintf("h%s-%d.dead.example.", tag, i), dns.TypeA); err != nil {
			return err
		}
	}
	// Three queries at once to an upstream that never answers, with
	// max_concurrent 1: the others are refused.
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := new(dns.Msg)
			m.SetQuestion(fmt.Sprintf("q%s-%d.slow.example.", tag, i), dns.TypeA)
			_, _, _ = (&dns.Client{Timeout: 500 * time.Millisecond}).Exchange(m, server)
		}()
	}
	wg.Wait()
	// More client addresses than clients_max (8): evictions.
	for host := 20; host < 40; host++ {
		if err := send(host, resolver.GLibc, conf("shop"), "web.shop.svc.cluster.local.", resolver.Options{}); err != nil {
			return err
		}
	}
	return nil
}
