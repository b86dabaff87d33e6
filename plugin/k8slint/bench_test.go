package k8slint

import (
	"context"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin"
	"github.com/miekg/dns"
)

// benchTraffic is a steady mix of what pods send: glibc-style walks of
// external names from 1024 clients (A and AAAA of every candidate), plus
// direct in-cluster lookups. Every answer is prebuilt so that the
// benchmark measures the plugin, not the answering.
type benchQuery struct {
	w     *peer
	q     *dns.Msg
	reply *dns.Msg
}

func benchTraffic() []benchQuery {
	var out []benchQuery
	for c := 0; c < 1024; c++ {
		w := &peer{ip: fmt.Sprintf("10.244.%d.%d", c/250, c%250+1), port: 30000 + c}
		w.addr = w.RemoteAddr()
		ns := fmt.Sprintf("team-%d", c%40)
		base := fmt.Sprintf("api-%d.example.com", c%50)
		names := []struct {
			n  string
			nx bool
		}{
			{base + "." + ns + ".svc.cluster.local.", true},
			{base + ".svc.cluster.local.", true},
			{base + ".cluster.local.", true},
			{base + ".", false},
			{"web.shop.svc.cluster.local.", false},
		}
		for _, n := range names {
			for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
				q := new(dns.Msg)
				q.SetQuestion(n.n, qt)
				r := new(dns.Msg)
				r.SetReply(q)
				if n.nx {
					r.Rcode = dns.RcodeNameError
				}
				out = append(out, benchQuery{w: w, q: q, reply: r})
			}
		}
	}
	return out
}

type replay struct{ byMsg map[*dns.Msg]*dns.Msg }

// replayOf answers each query of traffic with its prebuilt reply.
func replayOf(traffic []benchQuery) replay {
	rp := replay{byMsg: make(map[*dns.Msg]*dns.Msg, len(traffic))}
	for _, t := range traffic {
		rp.byMsg[t.q] = t.reply
	}
	return rp
}

func (replay) Name() string { return "replay" }
func (r replay) ServeDNS(ctx context.Context, w dns.ResponseWriter, m *dns.Msg) (int, error) {
	a := r.byMsg[m]
	w.WriteMsg(a)
	return a.Rcode, nil
}

// betweenWriter does between() before it writes, as a server's write of
// the answer makes a system call (sendmsg).
type betweenWriter struct {
	*peer
	between func()
}

func (w betweenWriter) WriteMsg(m *dns.Msg) error {
	w.between()
	return w.peer.WriteMsg(m)
}

// evicted is 1 MiB written by evict: at least the second-level cache of
// both VMs docs/performance.md names (AMD EPYC of family 26: 48 KiB
// first-level data cache and 1 MiB second-level per core; family 25:
// 32 KiB and 512 KiB), and twice the last level cachegrind is run with
// below.
var evicted = make([]byte, 1<<20)

// evict writes a byte of every line of evicted: the caches hold little of
// what the query before touched, without a system call. Under cachegrind
// run with --LL=524288,8,64 they hold nothing of it, and the last level's
// misses count the memory lines a query fetches: BenchmarkServeDNSEvicted.
func evict() {
	for i := 0; i < len(evicted); i += 64 {
		evicted[i]++
	}
}

func getppid() { syscall.Getppid() }

// benchChain replays benchTraffic through a chain with or without
// k8slint. With between, each query is read after between() and its
// answer written after another, as a server's are after system calls
// (recvmsg, sendmsg): getppid, where the kernel isolates page tables
// without PCID, flushes the TLB's entries for the process's memory; evict
// empties the caches.
func benchChain(b *testing.B, v chainVariant, between func()) {
	traffic := benchTraffic()
	rp := replayOf(traffic)
	ws := make([]dns.ResponseWriter, len(traffic))
	for i, t := range traffic {
		ws[i] = t.w
		if between != nil {
			ws[i] = betweenWriter{t.w, between}
		}
	}
	// The plugin before k8slint in the chain calls it through
	// NextOrFailure; without k8slint that call goes to the next plugin.
	var next plugin.Handler = rp
	if v != withoutK8slint {
		k := New(DefaultConfig())
		k.Next = rp
		k.kept = v == withKeptRecorders
		next = k
	}
	h := plugin.HandlerFunc(func(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
		return plugin.NextOrFailure("prev", next, ctx, w, r)
	})
	ctx := context.WithValue(context.Background(), dnsserver.Key{}, &dnsserver.Server{Addr: "dns://bench"})
	// Warm up: every client seen, every label set created.
	for i, t := range traffic {
		h.ServeDNS(ctx, ws[i], t.q)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % len(traffic)
		if between != nil {
			between()
		}
		h.ServeDNS(ctx, ws[j], traffic[j].q)
	}
}

// chainVariant is what benchChain puts before the replayed answers.
type chainVariant int

const (
	withoutK8slint    chainVariant = iota
	withK8slint                    // recorders from the pool
	withKeptRecorders              // a recorder per query (kept: cache's serve_stale verify TIMEOUT)
)

// BenchmarkServeDNS measures the plugin's per-query cost: "without" is the
// same chain without k8slint, the baseline `make bench` divides by; "kept"
// is k8slint giving each query a recorder of its own, as it does under
// cache's serve_stale verify with a timeout (mayKeepWriter).
func BenchmarkServeDNS(b *testing.B) {
	b.Run("without", func(b *testing.B) { benchChain(b, withoutK8slint, nil) })
	b.Run("with", func(b *testing.B) { benchChain(b, withK8slint, nil) })
	b.Run("kept", func(b *testing.B) { benchChain(b, withKeptRecorders, nil) })
}

// BenchmarkServeDNSSyscalls is BenchmarkServeDNS with a system call
// before each query and in each answer's write: what the plugin's memory
// and code cost when a server's system calls come between queries.
func BenchmarkServeDNSSyscalls(b *testing.B) {
	b.Run("without", func(b *testing.B) { benchChain(b, withoutK8slint, getppid) })
	b.Run("with", func(b *testing.B) { benchChain(b, withK8slint, getppid) })
}

// BenchmarkServeDNSEvicted is BenchmarkServeDNS with the caches emptied
// (evict) before each query and each answer's write: what the plugin's
// memory costs when little of it is left in cache. Without a system call
// it runs under cachegrind, where the misses of a simulated 512 KiB last
// level (--LL=524288,8,64) count the lines a query fetches.
func BenchmarkServeDNSEvicted(b *testing.B) {
	b.Run("without", func(b *testing.B) { benchChain(b, withoutK8slint, evict) })
	b.Run("with", func(b *testing.B) { benchChain(b, withK8slint, evict) })
}

// BenchmarkServeDNSParallel runs the same traffic from all cores at once:
// from its 1024 clients, and all of it from one client (as behind
// NodeLocal DNSCache, where every query comes from the node's address and
// every worker touches the same client's state). With one worker a P, a
// worker that waits for a shard's lock leaves its P idle; CoreDNS serves
// each query on a goroutine of its own, so each shape runs with 8 workers
// a P too.
func BenchmarkServeDNSParallel(b *testing.B) {
	for _, one := range []bool{false, true} {
		for _, perP := range []int{1, 8} {
			name := fmt.Sprintf("clients=1024/workers-per-P=%d", perP)
			if one {
				name = fmt.Sprintf("clients=1/workers-per-P=%d", perP)
			}
			b.Run(name, func(b *testing.B) { benchParallel(b, one, perP) })
		}
	}
}

func benchParallel(b *testing.B, one bool, perP int) {
	traffic := benchTraffic()
	if one {
		for i := range traffic {
			w := &peer{ip: "10.244.0.1", port: 30000 + i%8}
			w.addr = w.RemoteAddr()
			traffic[i].w = w
		}
	}
	k := New(DefaultConfig())
	k.Next = replayOf(traffic)
	ctx := context.WithValue(context.Background(), dnsserver.Key{}, &dnsserver.Server{Addr: "dns://bench-parallel"})
	for _, t := range traffic {
		k.ServeDNS(ctx, t.w, t.q)
	}
	b.ReportAllocs()
	b.SetParallelism(perP)
	b.ResetTimer()
	// Each worker starts at its own place in the traffic: workers in step
	// would meet on the same shard at every query.
	var workers atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		i := int(workers.Add(1)) * 4099
		for pb.Next() {
			t := traffic[i%len(traffic)]
			k.ServeDNS(ctx, t.w, t.q)
			i += 7
		}
	})
}
