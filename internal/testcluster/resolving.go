package testcluster

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/k8slint/k8slint/internal/testenv"
)

// Resolving is a client that resolves two names through the kube-dns
// Service from a namespace, one lookup every interval, as a resolver with
// timeout:1 attempts:2 would: a lookup fails only when both tries do (no
// answer, or not the expected one). Tests run one while they change
// CoreDNS and require that no lookup failed.
type Resolving struct {
	lookups, retried, failed atomic.Int64
	mu                       sync.Mutex
	failures                 []string
	stop                     chan struct{}
	done                     chan struct{}
}

// StartResolving starts a Resolving client in ns (a PodNetns whose
// packets reach DNSServiceIP): it looks up kubernetes.default (answered
// by the kubernetes plugin) and www.example.org (forwarded to the node's
// stub resolver) in turn.
func StartResolving(ns *testenv.Netns, interval time.Duration) *Resolving {
	rc := &Resolving{stop: make(chan struct{}), done: make(chan struct{})}
	names := []struct {
		name string
		want string
	}{
		{"kubernetes.default.svc." + ClusterDomain + ".", APIServiceIP},
		{"www.example.org.", "192.0.2.53"}, // forwarded to the node's stub resolver
	}
	go func() {
		defer close(rc.done)
		for i := 0; ; i++ {
			select {
			case <-rc.stop:
				return
			case <-time.After(interval):
			}
			n := names[i%len(names)]
			rc.lookups.Add(1)
			var last string
			ok := false
			for try := 0; try < 2 && !ok; try++ {
				if try > 0 {
					rc.retried.Add(1)
				}
				_ = ns.Do(func() error {
					c := &dns.Client{Net: "udp", Timeout: time.Second}
					m := new(dns.Msg)
					m.SetQuestion(n.name, dns.TypeA)
					r, _, err := c.Exchange(m, DNSServiceIP+":53")
					switch {
					case err != nil:
						last = err.Error()
					case r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || !strings.Contains(r.Answer[0].String(), n.want):
						last = fmt.Sprintf("%s %v", dns.RcodeToString[r.Rcode], r.Answer)
					default:
						ok = true
					}
					return nil
				})
			}
			if !ok {
				rc.failed.Add(1)
				rc.mu.Lock()
				rc.failures = append(rc.failures, time.Now().Format("15:04:05.000")+" "+n.name+": "+last)
				rc.mu.Unlock()
			}
		}
	}()
	return rc
}

// Stop stops the client and waits for its last lookup.
func (rc *Resolving) Stop() {
	close(rc.stop)
	<-rc.done
}

// Lookups, Retried and Failed count the lookups so far, those that needed
// their second try, and those that failed both.
func (rc *Resolving) Lookups() int64 { return rc.lookups.Load() }
func (rc *Resolving) Retried() int64 { return rc.retried.Load() }
func (rc *Resolving) Failed() int64  { return rc.failed.Load() }

// Failures describes each failed lookup: when, the name, the last error.
func (rc *Resolving) Failures() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.failures...)
}
