package k8slint

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// Queries from many goroutines at once, with the background loop judging
// storms and a scraper gathering metrics meanwhile: run under -race by
// make test. Each goroutine has its own clients, so the totals are exact.
func TestConcurrentQueriesCountExactlyAndRaceFree(t *testing.T) {
	cfg := DefaultConfig()
	cfg.StormRate = 1
	k := New(cfg)
	k.Next = zone{}
	k.Start()
	defer k.Stop()
	srv := serverLabel(t)
	ctx := context.WithValue(context.Background(), dnsserver.Key{}, &dnsserver.Server{Addr: srv})

	const goroutines, clients, walks = 8, 40, 5
	stop := make(chan struct{})
	scraped := make(chan struct{})
	go func() {
		defer close(scraped)
		for {
			select {
			case <-stop:
				return
			default:
				if _, err := prometheus.DefaultGatherer.Gather(); err != nil {
					t.Error(err)
					return
				}
			}
		}
	}()
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ns := fmt.Sprintf("team-%d", g)
			for c := 0; c < clients; c++ {
				w := &peer{ip: fmt.Sprintf("10.%d.%d.1", 100+g, c), port: 40000 + c}
				for range walks {
					for _, cand := range []string{"api.stripe.com." + ns + ".svc.cluster.local.", "api.stripe.com.svc.cluster.local.", "api.stripe.com.cluster.local.", "api.stripe.com."} {
						for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
							m := new(dns.Msg)
							m.SetQuestion(cand, qt)
							k.ServeDNS(ctx, dnstest.NewRecorder(w), m)
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-scraped
	if n := k.panics.Load(); n != 0 {
		t.Fatalf("%d observation panics", n)
	}
	// Read as a scrape reads them: the running instance's counts are
	// published by the gathering.
	for g := 0; g < goroutines; g++ {
		ns := fmt.Sprintf("team-%d", g)
		if got, want := gathered(t, "coredns_k8slint_search_expansions_total", srv, ns), float64(clients*walks*6); got != want {
			t.Errorf("%s: search expansions = %v, want %v", ns, got, want)
		}
		if got, want := gathered(t, "coredns_k8slint_wasted_nxdomain_total", srv, ns), float64(clients*walks*6); got != want {
			t.Errorf("%s: wasted = %v, want %v", ns, got, want)
		}
	}
	if n := k.clients.len(); n != goroutines*clients {
		t.Errorf("tracked clients = %d, want %d", n, goroutines*clients)
	}
}
