package dnsbench

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"github.com/miekg/dns"

	"github.com/k8slint/k8slint/internal/resolver"
	"github.com/k8slint/k8slint/internal/testenv"
)

// dnsperf 2.10.0 output, as printed with -v (shortened).
const dnsperfOutput = `DNS Performance Testing Tool
Version 2.10.0

[Status] Command line: dnsperf -s 127.0.0.1 -p 18053 -d q.txt -l 1 -Q 100 -v -c 2
[Status] Sending queries (to 127.0.0.1:18053)
[Status] Started at: Sun Nov 22 05:26:50 2026
[Status] Stopping after 1.000000 seconds
> NOERROR web.shop.svc.cluster.local A 0.000543
> NXDOMAIN foo.shop.svc.cluster.local AAAA 0.000244
> NOERROR web.shop.svc.cluster.local A 0.000230
> T foo.shop.svc.cluster.local AAAA
[Status] Testing complete (time limit)

Statistics:

  Queries sent:         100
  Queries completed:    99 (99.00%)
  Queries lost:         1 (1.00%)

  Response codes:       NOERROR 50 (50.51%), NXDOMAIN 49 (49.49%)
  Average packet size:  request 44, response 135
  Run time (s):         1.000587
  Queries per second:   98.941334

  Average Latency (s):  0.000293 (min 0.000168, max 0.000457)
  Latency StdDev (s):   0.000060
`

func TestParseDNSPerfReadsStatisticsAndLatencies(t *testing.T) {
	r, err := parseDNSPerf(strings.NewReader(dnsperfOutput))
	if err != nil {
		t.Fatal(err)
	}
	if r.Sent != 100 || r.Completed != 99 || r.Lost != 1 || r.RunTime != 1.000587 || r.QPS != 98.941334 {
		t.Errorf("statistics: %+v", r)
	}
	if r.Rcodes["NOERROR"] != 50 || r.Rcodes["NXDOMAIN"] != 49 || len(r.Rcodes) != 2 {
		t.Errorf("response codes: %v", r.Rcodes)
	}
	want := []float64{0.000543, 0.000244, 0.000230}
	if len(r.Latencies) != len(want) {
		t.Fatalf("latencies %v, want %v", r.Latencies, want)
	}
	for i := range want {
		if r.Latencies[i] != want[i] {
			t.Errorf("latency %d: %v, want %v", i, r.Latencies[i], want[i])
		}
	}
}

func TestParseDNSPerfRejectsOutputWithoutStatistics(t *testing.T) {
	if _, err := parseDNSPerf(strings.NewReader("[Status] Sending queries\n")); err == nil {
		t.Fatal("no error for output without statistics")
	}
	if _, err := parseDNSPerf(strings.NewReader(strings.Replace(dnsperfOutput, "Queries sent:         100", "Queries sent:         many", 1))); err == nil {
		t.Fatal("no error for a malformed count")
	}
}

func TestOneDNSPerfSendsTheLoadFromItsSockets(t *testing.T) {
	cfg := DefaultConfig()
	a := cfg.load(false)
	l := strings.Join(a.list(), " ")
	for _, want := range []string{"-c 64", "-x 20000", "-T 1", "-Q 20000", "-q 100", "-v"} {
		if !strings.Contains(l+" ", want+" ") {
			t.Errorf("64 addresses: dnsperf arguments %q lack %q", l, want)
		}
	}
	sat := cfg.load(true)
	if sat.Rate != 0 || slices.Contains(sat.list(), "-Q") || slices.Contains(sat.list(), "-v") || sat.LocalPort != SourcePortBase {
		t.Errorf("saturated: %v", sat.list())
	}
	cfg.Clients = 2 // fewer sockets than sources: still one per source
	if got := cfg.load(false).Clients; got != 64 {
		t.Errorf("64 sources, 2 clients: %d sockets", got)
	}
	one := OneClient(DefaultConfig()).load(false)
	if one.LocalPort != 0 || slices.Contains(one.list(), "-x") || one.Clients != 8 || one.Rate != 20000 {
		t.Errorf("one client (ports the kernel picks, so from 127.0.0.1): %v", one.list())
	}
	if SourceAddr(0) != "127.0.30.1" || SourceAddr(249) != "127.0.30.250" || SourceAddr(250) != "127.0.31.1" || SourceAddr(MaxSockets-1) != "127.0.31.6" {
		t.Errorf("source addresses %s %s %s %s", SourceAddr(0), SourceAddr(249), SourceAddr(250), SourceAddr(MaxSockets-1))
	}
}

func TestSourceRoutesGiveEachPortItsAddress(t *testing.T) {
	got := sourceRoutes(3, 2)
	want := `rule add pref 100 dport 20000-20002 lookup local
route add local 127.0.0.0/8 dev lo src 127.0.30.1 table 1000
rule add pref 200 sport 20000 lookup 1000
route add local 127.0.0.0/8 dev lo src 127.0.30.2 table 1001
rule add pref 200 sport 20001 lookup 1001
route add local 127.0.0.0/8 dev lo src 127.0.30.1 table 1002
rule add pref 200 sport 20002 lookup 1002
rule add pref 300 lookup local
rule del pref 0
`
	if got != want {
		t.Errorf("sourceRoutes(3, 2):\n%s\nwant:\n%s", got, want)
	}
}

// TestStreamsGiveEachSocketTheMixInOrder checks the datafile for n
// sockets taken in turn: socket i's lines are the whole mix in order,
// from the start of its own lookup.
func TestStreamsGiveEachSocketTheMixInOrder(t *testing.T) {
	w, err := NewWorkload()
	if err != nil {
		t.Fatal(err)
	}
	if w.Datafile() != w.Streams(1) || !strings.HasPrefix(w.Datafile(), w.Queries[0].Name+" ") {
		t.Error("the one-socket datafile is not the mix from its start")
	}
	const n = 6
	lines := strings.Split(strings.TrimSuffix(w.Streams(n), "\n"), "\n")
	if len(lines) != n*len(w.Queries) {
		t.Fatalf("%d lines, want %d", len(lines), n*len(w.Queries))
	}
	starts := map[int]bool{}
	for i := range n {
		start := w.starts[i*w.Lookups/n]
		starts[start] = true
		for k := range w.Queries {
			q := w.Queries[(start+k)%len(w.Queries)]
			if want := q.Name + " " + dns.TypeToString[q.Type]; lines[k*n+i] != want {
				t.Fatalf("socket %d, query %d: %q, want %q", i, k, lines[k*n+i], want)
			}
		}
	}
	if len(starts) != n || !starts[0] {
		t.Errorf("the sockets start at %v", starts)
	}
}

// TestEachSocketSendsItsStreamFromItsAddress runs real dnsperf in a
// network namespace routed by sourceRoutes against a server that records
// what arrives: every query comes from its socket's address, and each
// socket's queries arrive in its stream's order.
func TestEachSocketSendsItsStreamFromItsAddress(t *testing.T) {
	if err := testenv.NetnsSupport(); err != nil {
		t.Skip(err)
	}
	perf, err := DNSPerfPath()
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWorkload()
	if err != nil {
		t.Fatal(err)
	}
	const sockets, sources = 6, 3
	dir := t.TempDir()
	datafile := filepath.Join(dir, "queries.txt")
	if err := os.WriteFile(datafile, []byte(w.Streams(sockets)), 0o644); err != nil {
		t.Fatal(err)
	}
	ns, err := testenv.NewNetns("k8slint-bench-test")
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Delete()
	if err := routeSources(ns, sockets, sources); err != nil {
		t.Fatal(err)
	}
	var pc net.PacketConn
	if err := ns.Do(func() (err error) { pc, err = net.ListenPacket("udp", "127.0.0.1:0"); return err }); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{} // by source address and port
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			m := new(dns.Msg)
			if m.Unpack(buf[:n]) != nil || len(m.Question) != 1 {
				continue
			}
			got[from.String()] = append(got[from.String()], m.Question[0].Name+" "+dns.TypeToString[m.Question[0].Qtype])
			r := new(dns.Msg)
			r.SetRcode(m, dns.RcodeNameError)
			if b, err := r.Pack(); err == nil {
				pc.WriteTo(b, from)
			}
		}
	}()
	a := perfArgs{Port: pc.LocalAddr().(*net.UDPAddr).Port, Datafile: datafile, Duration: 30 * time.Second, Rate: 2000,
		Clients: sockets, Outstanding: 20, LocalPort: SourcePortBase}
	list := append(a.list(), "-n", "1") // the file once
	out, err := ns.Command(perf, list...).CombinedOutput()
	pc.Close()
	<-done
	if err != nil {
		t.Fatalf("dnsperf %v: %v\n%s", list, err, out)
	}
	if len(got) != sockets {
		t.Fatalf("queries came from %d addresses and ports, want %d: %v\n%s", len(got), sockets, slices.Sorted(maps.Keys(got)), out)
	}
	lines := strings.Split(strings.TrimSuffix(w.Streams(sockets), "\n"), "\n")
	for i := range sockets {
		from := fmt.Sprintf("%s:%d", SourceAddr(i%sources), SourcePortBase+i)
		var want []string
		for k := i; k < len(lines); k += sockets {
			want = append(want, lines[k])
		}
		// A busy machine may drop a query from the server's socket
		// buffer: each one that arrived must still be in its place.
		if !subsequence(got[from], want) || len(got[from]) < len(want)*9/10 {
			t.Errorf("socket %d: %d queries from %s (want %d in the stream's order); first %v, want %v", i, len(got[from]), from, len(want), head(got[from]), head(want))
		}
	}
}

func head(xs []string) []string { return xs[:min(len(xs), 3)] }

// subsequence reports whether xs is ys with none or some elements left
// out, in ys's order.
func subsequence(xs, ys []string) bool {
	j := 0
	for _, x := range xs {
		for j < len(ys) && ys[j] != x {
			j++
		}
		if j == len(ys) {
			return false
		}
		j++
	}
	return true
}

func TestSubsequence(t *testing.T) {
	ys := []string{"a A", "a AAAA", "b A", "b AAAA"}
	for _, c := range []struct {
		xs   []string
		want bool
	}{{ys, true}, {nil, true}, {[]string{"a A", "b AAAA"}, true}, {[]string{"b A", "a A"}, false}, {[]string{"a A", "a A"}, false}, {[]string{"c A"}, false}} {
		if got := subsequence(c.xs, ys); got != c.want {
			t.Errorf("subsequence(%v) = %v, want %v", c.xs, got, c.want)
		}
	}
}

func TestQuantileIsNearestRank(t *testing.T) {
	xs := make([]float64, 0, 200)
	for i := 200; i >= 1; i-- {
		xs = append(xs, float64(i))
	}
	if got := quantile(xs, 0.99); got != 198 {
		t.Errorf("p99 of 1..200 = %v, want 198", got)
	}
	if got := quantile([]float64{7}, 0.99); got != 7 {
		t.Errorf("p99 of one value = %v", got)
	}
	if !math.IsNaN(quantile(nil, 0.99)) {
		t.Error("p99 of nothing is not NaN")
	}
	if got := median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("median = %v, want 2.5", got)
	}
	if got := median([]float64{5, 1, 3}); got != 3 {
		t.Errorf("median = %v, want 3", got)
	}
}

func TestProcessCPUAgreesWithProcStat(t *testing.T) {
	cmd := exec.Command("sh", "-c", "while :; do :; done")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	time.Sleep(400 * time.Millisecond)
	pid := cmd.Process.Pid
	clock, err := ProcessCPU(pid)
	if err != nil {
		t.Fatal(err)
	}
	ticks, err := statCPU(pid)
	if err != nil {
		t.Fatal(err)
	}
	stat := time.Duration(ticks) * 10 * time.Millisecond // USER_HZ is 100 on Linux
	if clock < 50*time.Millisecond {
		t.Fatalf("a busy loop used %v of CPU in 400ms", clock)
	}
	if d := clock - stat; d < -30*time.Millisecond || d > 30*time.Millisecond+clock/20 {
		t.Errorf("CPU clock %v, /proc/%d/stat %v", clock, pid, stat)
	}
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []int{gone.Process.Pid, 0, 1 << 30} {
		if _, err := ProcessCPU(p); err == nil {
			t.Errorf("no error for process %d, which does not exist", p)
		}
	}
}

func TestWorkloadIsGlibcSearchWalks(t *testing.T) {
	w, err := NewWorkload()
	if err != nil {
		t.Fatal(err)
	}
	has := func(name string, qtype uint16, a resolver.Answer) bool {
		for _, q := range w.Queries {
			if q.Name == name && q.Type == qtype && q.Answer == a {
				return true
			}
		}
		return false
	}
	for _, c := range []struct {
		name  string
		qtype uint16
		a     resolver.Answer
	}{
		{"api.stripe.com.shop.svc.cluster.local.", dns.TypeAAAA, resolver.NXDomain},
		{"api.stripe.com.svc.cluster.local.", dns.TypeA, resolver.NXDomain},
		{"api.stripe.com.cluster.local.", dns.TypeA, resolver.NXDomain},
		{"api.stripe.com.", dns.TypeAAAA, resolver.Data},
		{"web.shop.svc.cluster.local.", dns.TypeA, resolver.Data},
		{"web.shop.svc.cluster.local.", dns.TypeAAAA, resolver.NoData},
		{"web-0.web.shop.svc.cluster.local.", dns.TypeA, resolver.Data},
		{"api.payments.shop.svc.cluster.local.", dns.TypeA, resolver.NXDomain}, // cross-namespace: one wasted pair
		{"kubernetes.default.svc.cluster.local.", dns.TypeA, resolver.Data},
	} {
		if !has(c.name, c.qtype, c.a) {
			t.Errorf("no %s %s answered %s in the mix", dns.TypeToString[c.qtype], c.name, c.a)
		}
	}
	// An external name costs glibc with ndots:5 three NXDOMAIN pairs and
	// one answered pair.
	n := 0
	for _, q := range w.Queries {
		if strings.HasPrefix(q.Name, "sqs.us-east-1.amazonaws.com.") {
			n++
		}
	}
	if want := 8 * len(namespaces); n != want {
		t.Errorf("%d queries for sqs.us-east-1.amazonaws.com, want %d", n, want)
	}
	lines := strings.Split(strings.TrimSuffix(w.Datafile(), "\n"), "\n")
	if len(lines) != len(w.Queries) || lines[0] != w.Queries[0].Name+" "+dns.TypeToString[w.Queries[0].Type] {
		t.Errorf("datafile: %d lines for %d queries, first %q", len(lines), len(w.Queries), lines[0])
	}
	if !strings.Contains(w.Summary(), "NXDOMAIN search candidates") {
		t.Errorf("summary: %s", w.Summary())
	}
}

func TestCorefilesDifferOnlyInTheK8slintLine(t *testing.T) {
	a := strings.Split(Corefile(1053, 9153, 6053, "127.0.0.1:15353", false), "\n")
	b := strings.Split(Corefile(1053, 9153, 6053, "127.0.0.1:15353", true), "\n")
	if len(a) != len(b) {
		t.Fatalf("%d lines without, %d with", len(a), len(b))
	}
	var diff []string
	for i := range a {
		if a[i] != b[i] {
			diff = append(diff, b[i])
		}
	}
	if len(diff) != 1 || strings.TrimSpace(diff[0]) != "k8slint" {
		t.Errorf("the Corefiles differ in %q", diff)
	}
}

func TestSummarizeTakesMediansAndPairedRatios(t *testing.T) {
	run := func(round int, v Variant, cpuMicros float64, sat bool, qps, p99 float64) Run {
		r := Run{Round: round, Variant: v, Saturated: sat, Answered: 1000, QPS: qps, P99: p99,
			CPU: time.Duration(cpuMicros * 1000 * 1000)}
		if sat {
			r.P99 = math.NaN()
		}
		return r
	}
	res := &Result{Config: Config{Shape: "test", Target: 1.03, Rate: 100}}
	for i, c := range []struct{ without, with float64 }{{10, 10.2}, {11, 11.0}, {10.5, 11.5}} {
		res.Runs = append(res.Runs,
			run(i+1, Without, c.without, false, 100, 0.001),
			run(i+1, With, c.with, false, 100, 0.002),
			run(i+1, Without, 50, true, 1000, 0),
			run(i+1, With, 50, true, 900, 0))
	}
	m := res.Summarize()
	cpu := m[0]
	if cpu.Median != [2]float64{10.5, 11.0} || math.Abs(cpu.Ratio-11.0/10.5) > 1e-12 || cpu.Rounds != 3 {
		t.Errorf("cpu: %+v", cpu)
	}
	if math.Abs(cpu.Lo-1.0) > 1e-12 || math.Abs(cpu.Hi-11.5/10.5) > 1e-12 || math.Abs(cpu.Paired-1.02) > 1e-12 {
		t.Errorf("cpu per-round ratios: median %v, %v..%v", cpu.Paired, cpu.Lo, cpu.Hi)
	}
	if m[1].Median != [2]float64{1000, 900} || m[1].Ratio != 0.9 {
		t.Errorf("saturated qps: %+v", m[1])
	}
	if m[2].Median != [2]float64{1, 2} || m[2].Ratio != 2 {
		t.Errorf("p99: %+v", m[2])
	}
	// Three rounds are too few for an interval: no verdict either way.
	var out bytes.Buffer
	res.Workload = &Workload{}
	if err := res.Report(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "target: CPU per answered query with/without <= 1.03, by the rounds' ratios: not shown (median 1.020, 3 rounds at the rate: too few for an interval (6 at least); ratio of medians 1.048)") {
		t.Errorf("report:\n%s", out.String())
	}
}

// With the processes started afresh several times, the median and its
// interval are the pairs' medians': a pair that sits apart for all its
// rounds counts once, not once a round.
func TestPairsOfProcessesAreTheVerdictsSamples(t *testing.T) {
	cfg := Config{Shape: "test", Target: 1.01, Rate: 100, Rounds: 24, Pairs: 8}
	res := &Result{Config: cfg, Workload: &Workload{}}
	// Pair p's rounds: 1.000+p/1000, then its 3rd round far off; pair 7
	// is far above for all its rounds.
	round := 0
	for p := range 8 {
		for i := range 3 {
			round++
			q := 1 + float64(p)/1000
			if i == 2 {
				q += 0.5
			}
			if p == 7 {
				q = 1.2
			}
			res.Runs = append(res.Runs,
				Run{Round: round, Pair: p, Variant: Without, Answered: 1000, QPS: 100, CPU: time.Second},
				Run{Round: round, Pair: p, Variant: With, Answered: 1000, QPS: 100, CPU: time.Duration(q * float64(time.Second))})
		}
	}
	m := res.Summarize()[0]
	// The pairs' medians: 1.000, 1.001, ..., 1.006 and 1.2; theirs 1.0035,
	// between the 1st and the 8th of 8 (99%).
	if m.Rounds != 24 || m.Pairs != 8 || math.Abs(m.Paired-1.0035) > 1e-6 ||
		math.Abs(m.Interval[0]-1) > 1e-9 || math.Abs(m.Interval[1]-1.2) > 1e-9 || math.Abs(m.Hi-1.506) > 1e-9 {
		t.Errorf("%+v", m)
	}
	if got, want := interval(m), "99% interval 1.000..1.200 over the median ratios of 8 pairs of processes (24 rounds at the rate)"; got != want {
		t.Errorf("interval: %q, want %q", got, want)
	}
	// The even pairs start the process without k8slint first (1.000,
	// 1.002, 1.004, 1.006), the odd ones the other (1.001, 1.003, 1.005,
	// 1.2).
	if math.Abs(m.ByFirst[Without]-1.003) > 1e-5 || math.Abs(m.ByFirst[With]-1.004) > 1e-5 {
		t.Errorf("by the process started first: %v", m.ByFirst)
	}
	var out bytes.Buffer
	if err := res.Report(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "  the two processes started afresh 8 times, every 3 rounds or so; the median ratio and its interval are those of the pairs' medians\n") ||
		!strings.Contains(out.String(), "pairs' median ratios: median  interval (≥95%)  rounds' min..max") ||
		!strings.Contains(out.String(), "  CPU per query, the pairs' median ratio by the process started first: \"without\" 1.003, \"with\" 1.004 (the order alternates with the pair, so it weighs on both alike)\n") {
		t.Errorf("report:\n%s", out.String())
	}
	// One pair: the rounds themselves.
	for i := range res.Runs {
		res.Runs[i].Pair = 0
	}
	if m := res.Summarize()[0]; m.Rounds != 24 || m.Pairs != 1 || !strings.HasSuffix(interval(m), "over 24 rounds at the rate") || !math.IsNaN(m.ByFirst[Without]) {
		t.Errorf("one pair: %+v, %s", m, interval(m))
	}
	out.Reset()
	if err := res.Report(&out); err != nil || strings.Contains(out.String(), "started first") {
		t.Errorf("one pair's report, %v:\n%s", err, out.String())
	}
	for _, c := range []struct{ pairs, rounds, want int }{{15, 75, 15}, {0, 75, 1}, {1, 75, 1}, {100, 3, 3}} {
		if got := (Config{Pairs: c.pairs, Rounds: c.rounds}).pairs(); got != c.want {
			t.Errorf("%d pairs for %d rounds: %d", c.pairs, c.rounds, got)
		}
	}
}

// A bench run with no saturated rounds (-saturated-rounds 0) reports
// none: a dash, not NaN; so does one with no round at the rate.
func TestAReportWithoutSaturatedRunsShowsNoNaN(t *testing.T) {
	res := &Result{Config: Config{Shape: "test", Target: 1.01, Rate: 100, Rounds: 6, Sources: 1, Clients: 1}, Workload: &Workload{}}
	for i := range 6 {
		res.Runs = append(res.Runs,
			Run{Round: i + 1, Variant: Without, Answered: 1000, QPS: 100, P99: 0.001, CPU: 10 * time.Millisecond, LoadCPU: time.Second, Wall: 2 * time.Second},
			Run{Round: i + 1, Variant: With, Answered: 1000, QPS: 100, P99: 0.001, CPU: 10 * time.Millisecond, LoadCPU: time.Second, Wall: 2 * time.Second})
	}
	var out bytes.Buffer
	if err := res.Report(&out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "NaN") || !strings.Contains(out.String(), "saturated: no saturated runs") ||
		!strings.Contains(out.String(), "by the rounds' ratios: met (median 1.000, 96% interval 1.000..1.000 over 6 rounds at the rate; ratio of medians 1.000)") {
		t.Errorf("report:\n%s", out.String())
	}
	// Every run below the rate: no round to compare.
	for i := range res.Runs {
		res.Runs[i].QPS = 10
	}
	out.Reset()
	if err := res.Report(&out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "NaN") {
		t.Errorf("report with no round at the rate:\n%s", out.String())
	}
	out.Reset()
	Summary(&out, []*Result{res})
	if strings.Contains(out.String(), "NaN") {
		t.Errorf("summary with no round at the rate:\n%s", out.String())
	}
}

// verdictOf is r's verdict on its target: met, NOT met or not shown.
func verdictOf(r *Result) string { return r.Summarize()[0].met(r.Config.Target) }

// rounds returns a result of fixed-rate rounds whose with/without CPU
// ratios are ratios.
func rounds(target float64, ratios ...float64) *Result {
	r := &Result{Config: Config{Shape: "test", Target: target, Rate: 100}}
	for i, q := range ratios {
		r.Runs = append(r.Runs,
			Run{Round: i + 1, Variant: Without, Answered: 1000, QPS: 100, CPU: 10 * time.Second},
			Run{Round: i + 1, Variant: With, Answered: 1000, QPS: 100, CPU: time.Duration(q * float64(10*time.Second))})
	}
	return r
}

// The verdict is the rounds' median ratio's interval against the target:
// met inside it, NOT met above it, not shown across it; the CPU profile is
// reported beside it and does not change it.
func TestTheVerdictIsTheRoundsIntervalAgainstTheTarget(t *testing.T) {
	// 25 rounds: the interval runs from the 8th smallest to the 18th.
	spread := func(center float64) []float64 {
		var qs []float64
		for i := range 25 {
			qs = append(qs, center+float64(i-12)/1000) // center-0.012 .. center+0.012
		}
		return qs
	}
	for _, c := range []struct {
		center, target float64
		want           string
	}{
		{1.006, 1.03, "met"},       // interval 1.001..1.011
		{1.050, 1.03, "NOT met"},   // 1.045..1.055
		{1.027, 1.03, "not shown"}, // 1.022..1.032
		{1.000, 1.01, "met"},       // 0.995..1.005
		{1.010, 1.01, "not shown"}, // 1.005..1.015
	} {
		r := rounds(c.target, spread(c.center)...)
		m := r.Summarize()[0]
		if lo, hi := c.center-0.005, c.center+0.005; math.Abs(m.Interval[0]-lo) > 1e-6 || math.Abs(m.Interval[1]-hi) > 1e-6 {
			t.Errorf("center %v: interval %v, want %v..%v", c.center, m.Interval, lo, hi)
		}
		if got := verdictOf(r); got != c.want {
			t.Errorf("center %v, target %v: %s, want %s", c.center, c.target, got, c.want)
		}
		// A profile that says otherwise does not change the verdict.
		r.Share = &Share{Samples: 10000, ByOwner: map[string]int{ownerK8slint: 500}}
		if got := verdictOf(r); got != c.want {
			t.Errorf("center %v, target %v, with a profile: %s, want %s", c.center, c.target, got, c.want)
		}
	}
	// Rounds whose runs did not answer at the rate are left out: here
	// the first 5 of 30, whose ratios would have pulled the median down.
	short := rounds(1.01, append([]float64{0.5, 0.5, 0.5, 0.5, 0.5}, spread(1.05)...)...)
	for i := range short.Runs[:10] {
		if short.Runs[i].Variant == With {
			short.Runs[i].QPS = 96 // under 97% of the rate
		}
	}
	if m := short.Summarize()[0]; m.Rounds != 25 || math.Abs(m.Paired-1.05) > 1e-6 || verdictOf(short) != "NOT met" {
		t.Errorf("with 5 short rounds: %d rounds, median %v, %s", m.Rounds, m.Paired, verdictOf(short))
	}
	for i := range short.Runs {
		short.Runs[i].QPS = 50
	}
	if m := short.Summarize()[0]; m.Rounds != 0 || verdictOf(short) != "not shown" {
		t.Errorf("with every round short: %d rounds, %s", m.Rounds, verdictOf(short))
	}
	// An A/A control checks the method: its interval must hold 1.000.
	for _, c := range []struct {
		center float64
		want   string
	}{
		{1.000, "A/A control: CPU per answered query, median 1.000 (95% interval 0.995..1.005 over 25 rounds at the rate); the interval holds 1.000, as it should"},
		{1.010, "A/A control: CPU per answered query, median 1.010 (95% interval 1.005..1.015 over 25 rounds at the rate); the interval does NOT hold 1.000"},
		{0.990, "the interval does NOT hold 1.000"},
	} {
		if got := rounds(1.01, spread(c.center)...).control(); !strings.Contains(got, c.want) {
			t.Errorf("control at %v: %s", c.center, got)
		}
	}
	// An A/B run compares two builds, both with k8slint: a ratio, no
	// verdict; its runs are named by binary.
	ab := rounds(1.01, spread(0.990)...)
	ab.Config.Binary, ab.Config.Against, ab.Workload = "new/coredns", "old/coredns", &Workload{}
	if got, want := ab.comparison(), "A/B: CPU per answered query, new/coredns against old/coredns: median 0.990 (95% interval 0.985..0.995 over 25 rounds at the rate)"; got != want {
		t.Errorf("A/B:\n got %s\nwant %s", got, want)
	}
	var abOut strings.Builder
	if err := ab.Report(&abOut); err != nil || !strings.Contains(abOut.String(), "A/B: new/coredns against old/coredns, both WITH k8slint") || strings.Contains(abOut.String(), "target") {
		t.Errorf("A/B report (%v):\n%s", err, abOut.String())
	}
	if l := (Run{Round: 3, Variant: Without}).line(ab.Config); !strings.HasPrefix(l, "round 3 old/coredns: ") {
		t.Errorf("A/B run line %q", l)
	}
	both := DefaultConfig()
	both.Control, both.Against = true, "old/coredns"
	if err := both.check(); err == nil || !strings.Contains(err.Error(), "cannot compare against old/coredns") {
		t.Errorf("control and against: %v", err)
	}
	if got := verdictOf(rounds(1.03, 1.0, 1.0, 1.0)); got != "not shown" {
		t.Errorf("3 rounds: %s, want not shown", got)
	}
	if got := verdictOf(&Result{Config: Config{Target: 1.03}}); got != "not shown" {
		t.Errorf("no rounds: %s, want not shown", got)
	}

	met := rounds(1.03, spread(1.006)...)
	met.Config.Shape = "one client"
	met.Share = &Share{Samples: 10000, ByOwner: map[string]int{ownerK8slint: 350}}
	v := met.verdict()
	if !strings.HasPrefix(v, "target: CPU per answered query with/without <= 1.03, by the rounds' ratios: met (median 1.006, 95% interval 1.001..1.011 over 25 rounds at the rate; ratio of medians 1.006)\n") ||
		!strings.Contains(v, "the CPU profile's attribution: k8slint's own code 3.50% of CoreDNS's CPU, a ratio of 1.036 (at most 1.040)") {
		t.Errorf("verdict: %s", v)
	}
	over := rounds(1.01, spread(1.050)...)
	over.Config.Shape = "64 addresses"
	// A rate the headroom lowered is said in the summary too.
	over.Config.Rate, over.Config.Headroom, over.AskedRate, over.Capacity = 100, 0.7, 20000, 143
	var out bytes.Buffer
	Summary(&out, []*Result{met, over, rounds(1.03, 1.0)})
	want := "dnsperf summary: CoreDNS CPU per answered query with/without k8slint\n" +
		"  one client:    rounds' median 1.006 (95% interval 1.001..1.011 over 25 rounds at the rate); CPU profile 1.036 (at most 1.040), target <= 1.03: met\n" +
		"  64 addresses:  rounds' median 1.050 (95% interval 1.045..1.055 over 25 rounds at the rate), target <= 1.01: NOT met; at 100 qps, lowered from 20000 to 70% of the 143 qps CoreDNS answered saturated\n" +
		"  test:          rounds' median 1.000 (1 rounds at the rate: too few for an interval (6 at least)), target <= 1.03: not shown\n"
	if out.String() != want {
		t.Errorf("summary:\n%s\nwant\n%s", out.String(), want)
	}
}

// medianInterval takes the order statistics the binomial gives, and holds
// the median of the distribution at least as often as it says, whatever
// the distribution's shape.
func TestMedianIntervalCoversTheMedian(t *testing.T) {
	for _, c := range []struct {
		n, lo, hi int // 1-based order statistics
		level     float64
	}{{6, 1, 6, 1 - 2.0/64}, {9, 2, 8, 1 - 2*10.0/512}, {25, 8, 18, 0.9567147493362427}, {75, 29, 47, 0.9630450959726317}} {
		xs := make([]float64, c.n)
		for i := range xs {
			xs[i] = float64((i*7)%c.n + 1) // 1..n, shuffled
		}
		iv, level := medianInterval(xs)
		if iv != [2]float64{float64(c.lo), float64(c.hi)} || math.Abs(level-c.level) > 1e-12 {
			t.Errorf("n=%d: %v at %v, want [%d %d] at %v", c.n, iv, level, c.lo, c.hi, c.level)
		}
	}
	if iv, level := medianInterval([]float64{1, 2, 3, 4, 5}); !math.IsNaN(iv[0]) || !math.IsNaN(iv[1]) || !math.IsNaN(level) {
		t.Errorf("n=5: %v at %v, want NaN", iv, level)
	}
	// A skewed distribution (exponential, median ln 2), 25 draws a time.
	rng := rand.New(rand.NewPCG(1, 2))
	const trials = 4000
	in := 0
	for range trials {
		xs := make([]float64, 25)
		for i := range xs {
			xs[i] = rng.ExpFloat64()
		}
		if iv, _ := medianInterval(xs); iv[0] <= math.Ln2 && math.Ln2 <= iv[1] {
			in++
		}
	}
	// 95.7% coverage; 4,000 trials put the count within 0.3 points of it
	// (one standard error), so 94.5% is four of them below.
	if got := float64(in) / trials; got < 0.945 {
		t.Errorf("the interval held the median in %.3f of the trials, want about 0.957", got)
	}
}

func TestMakeBenchRunsTheAddressesShapeAndTheOneClientShape(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Rounds, cfg.Rate = 3, 5000
	shapes := Shapes(cfg)
	if len(shapes) != 2 {
		t.Fatalf("%d shapes", len(shapes))
	}
	pods, node := shapes[0], shapes[1]
	if pods.Sources != 64 || pods.Target != 1.01 || pods.Shape != "64 addresses" || pods.Rounds != 3 || pods.Rate != 5000 {
		t.Errorf("addresses shape: %+v", pods)
	}
	if node.Sources != 1 || node.Clients != 8 || node.Target != 1.03 || node.Shape != "one client" || node.Rounds != 3 || node.Rate != 5000 {
		t.Errorf("one-client shape: %+v", node)
	}
	if !pods.Pin || !node.Pin || pods.Pairs != 15 || node.Pairs != 15 { // make bench pins, and starts the processes 15 times
		t.Errorf("unpinned or one pair: %+v, %+v", pods, node)
	}
	bad := node
	bad.Target = 0
	if bad.check() == nil {
		t.Error("no error for a config without a target")
	}
	bad = pods
	bad.Clients = MaxSockets + 1
	if bad.check() == nil {
		t.Error("no error for more sockets than one dnsperf thread has")
	}
}

// TestBenchRunsEndToEnd runs the whole bench briefly on the built binary
// and real dnsperf: both variants answer, CoreDNS's CPU is measured, the
// plugin saw the traffic. CI installs dnsperf (.ci/run), so a missing one
// is a failure.
func TestBenchRunsEndToEnd(t *testing.T) {
	if err := testenv.NetnsSupport(); err != nil {
		t.Skip(err)
	}
	if _, err := DNSPerfPath(); err != nil {
		t.Fatal(err)
	}
	bin, err := testenv.Binary("./cmd/coredns-custom")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Shape: "test", Target: 1.03, Binary: bin, Rounds: 1, SaturatedRounds: 1, Duration: time.Second, Rate: 2000, Sources: 5, Clients: 2, Outstanding: 50,
		Pause: 200 * time.Millisecond, Profile: 2 * time.Second, ProfileDir: filepath.Join(t.TempDir(), "profiles")} // made by Bench
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := Bench(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Runs) != 4 {
		t.Fatalf("%d runs, want 4", len(res.Runs))
	}
	for _, r := range res.Runs {
		if r.Answered <= 0 || r.CPU <= 0 || r.QPS <= 0 || r.LoadCPU <= 0 || r.Wall < cfg.Duration {
			t.Errorf("%s", r.line(cfg))
		}
		if !r.Saturated && !(r.P99 > 0 && r.P99 < 2) {
			t.Errorf("p99 %v: %s", r.P99, r.line(cfg))
		}
		if !r.Saturated && r.QPS > 1.1*float64(cfg.Rate) {
			t.Errorf("more than the offered rate answered: %s", r.line(cfg))
		}
	}
	for _, v := range []Variant{Without, With} {
		if res.Rcodes[v]["NXDOMAIN"] == 0 || res.Rcodes[v]["NOERROR"] == 0 {
			t.Errorf("%s k8slint: response codes %v", v, res.Rcodes[v])
		}
	}
	if !sameShares(res.Rcodes[Without], res.Rcodes[With]) {
		t.Errorf("response codes differ: %v, %v", res.Rcodes[Without], res.Rcodes[With])
	}
	if res.Errors != [2]int{} {
		t.Errorf("CoreDNS logged errors: %v", res.Errors)
	}
	if res.Plugin["coredns_k8slint_wasted_nxdomain_total"] <= 0 {
		t.Errorf("k8slint counted no wasted NXDOMAIN: %v", res.Plugin)
	}
	// k8slint keeps one entry per client address: the sources, and the
	// 127.0.0.1 the answers were checked from. One address for all would
	// leave 2.
	if got := res.Plugin["coredns_k8slint_tracked_clients"]; got != float64(cfg.Sources+1) {
		t.Errorf("k8slint tracks %v clients, want %d sources + 127.0.0.1", got, cfg.Sources)
	}
	// The profile saw the process at work, and it was written for pprof.
	if sh := res.Share; sh == nil {
		t.Error("no CPU profile")
	} else if err := atWork(*sh); err != nil {
		t.Errorf("CPU profile with k8slint: %v", err)
	}
	if p, err := os.ReadFile(filepath.Join(cfg.ProfileDir, "k8slint-test.pprof")); err != nil || len(p) == 0 {
		t.Errorf("profile file: %d bytes, %v", len(p), err)
	}
	// With a directory, the process without k8slint is profiled too: a
	// profile of CoreDNS at work in which no sample passes through
	// k8slint's code.
	if f, err := os.Open(filepath.Join(cfg.ProfileDir, "without-test.pprof")); err != nil {
		t.Error(err)
	} else {
		p, err := profile.Parse(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if sh, err := ShareOf(p); err != nil {
			t.Error(err)
		} else if err := atWork(sh); err != nil {
			t.Errorf("profile without k8slint: %v", err)
		}
		for _, smp := range p.Sample {
			for _, loc := range smp.Location {
				for _, ln := range loc.Line {
					if ln.Function != nil && strings.HasPrefix(ln.Function.Name, k8slintPkg) {
						t.Fatalf("the profile without k8slint has a sample in %s", ln.Function.Name)
					}
				}
			}
		}
	}
	var out bytes.Buffer
	if err := res.Report(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CPU profile of CoreDNS with k8slint over 2s of the fixed-rate load", "the CPU profile's attribution: k8slint's own code", "by the rounds' ratios", "with/without", "CoreDNS CPU per answered query", "saturated rate", "p99 latency", "target: CPU per answered query",
		"load: one dnsperf process (one thread), 5 sockets on ports 20000..20004, each routed from its own address 127.0.30.1..127.0.30.5: each socket sends the mix in order from its own starting lookup, about 400 qps at the fixed rate",
		"tracks 6 client addresses (the 5 sources and the answer check's 127.0.0.1), 0 evicted", "CPU in cores",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	t.Logf("\n%s", out.String())

	if res.CPUs.CoreDNS != "" || strings.Contains(out.String(), "CPUs:") {
		t.Errorf("unpinned, yet pinned to %+v:\n%s", res.CPUs, out.String())
	}

	// One client sending everything: k8slint sees 127.0.0.1 alone. And
	// pinned (Bench checks each CoreDNS process's CPUs), without a
	// profile: at this test's 2,000 qps a pinned CoreDNS's 2-second
	// profile held 1 to 14 samples in three runs (make bench's, at 20,000
	// qps for 30 s, the 1,800 its CPU time gives).
	one := OneClient(cfg)
	one.Pin, one.Profile, one.ProfileDir = true, 0, ""
	one.Rounds, one.Pairs = 2, 2 // and the processes started twice
	// And calibrated: 5% of what one CoreDNS answers saturated is below
	// the 2,000 qps asked on any machine this runs on (a pinned P
	// answered about 22,000 on the slowest VM so far), so the rate is
	// lowered, and the runs offer the lower rate.
	one.Headroom = 0.05
	if _, _, err := pinCPUs(); err != nil {
		t.Logf("unpinned: %v", err) // one CPU: what -pin=false is for
		one.Pin = false
	}
	res, err = Bench(ctx, one)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Plugin["coredns_k8slint_tracked_clients"]; got != 1 {
		t.Errorf("one client: k8slint tracks %v clients, want 1", got)
	}
	if len(res.Runs) != 6 || res.Runs[0].Pair != 0 || res.Runs[3].Pair != 0 || res.Runs[4].Pair != 1 || res.Runs[5].Pair != 1 {
		t.Errorf("rounds 1 (saturated too) and 2 on processes 0 and 1, not: %+v", res.Runs)
	}
	if res.AskedRate != 2000 || !(res.Capacity > 2000) || res.Config.Rate != rateFor(2000, 0.05, res.Capacity) || res.Config.Rate >= 2000 {
		t.Errorf("calibrated at 5%% of %.0f qps: rate %d, asked %d", res.Capacity, res.Config.Rate, res.AskedRate)
	}
	for _, r := range res.Runs {
		if !r.Saturated && r.QPS > 1.1*float64(res.Config.Rate) {
			t.Errorf("more than the lowered rate answered: %s", r.line(one))
		}
	}
	out.Reset()
	if err := res.Report(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{fmt.Sprintf("fixed-rate runs: %d qps offered for 1s (2000 asked, lowered to 5%% of the %.0f qps CoreDNS answered saturated here", res.Config.Rate, res.Capacity),
		fmt.Sprintf("warning: the fixed rate was lowered from 2000 to %d qps", res.Config.Rate)} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("calibrated report lacks %q:\n%s", want, out.String())
		}
	}
	t.Logf("\n%s", out.String())
	for _, want := range []string{"dnsperf, one client:", "one dnsperf process (one thread) from 127.0.0.1, the answer check's address: 8 sockets taking the queries in turn",
		"target: CPU per answered query with/without <= 1.03", "tracks 1 client address (127.0.0.1, the load's and the answer check's)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("one-client report lacks %q:\n%s", want, out.String())
		}
	}
	// The two pairs started the processes in opposite orders: both
	// orders have a ratio. At 5% of the capacity every fixed-rate run
	// answers at the rate, so both pairs have their round.
	if m := res.Summarize()[0]; m.Pairs != 2 || math.IsNaN(m.ByFirst[Without]) || math.IsNaN(m.ByFirst[With]) ||
		!strings.Contains(out.String(), "  CPU per query, the pairs' median ratio by the process started first: \"without\" ") {
		t.Errorf("%d pairs with a round at the rate, by the process started first: %v\n%s", m.Pairs, m.ByFirst, out.String())
	}
	// CoreDNS on the last CPU, dnsperf on the others.
	if one.Pin && (res.CPUs.CoreDNS == "" || res.CPUs.Load == "" || strings.Contains(","+res.CPUs.Load+",", ","+res.CPUs.CoreDNS+",") ||
		!strings.Contains(out.String(), "  CPUs: each CoreDNS on CPU "+res.CPUs.CoreDNS+", one at a time (its Go runtime with one P), dnsperf on CPU "+res.CPUs.Load+"\n")) {
		t.Errorf("pinned to CPUs %+v:\n%s", res.CPUs, out.String())
	}
}

// The fixed rate is the one asked for unless Headroom of the capacity is
// lower; it never falls below 100 qps.
func TestRateForKeepsHeadroomBelowTheCapacity(t *testing.T) {
	for _, c := range []struct {
		asked              int
		headroom, capacity float64
		want               int
	}{
		{20000, 0.7, 40000, 20000}, // a machine that holds 20,000 easily
		{20000, 0.7, 28572, 20000}, // 70% of it is 20,000.4
		{20000, 0.7, 22000, 15400}, // the slow VM of 2026-12-03
		{20000, 0.7, 21999, 15300}, // rounded down to a hundred
		{20000, 0, 10000, 20000},   // no headroom asked: the rate as given
		{20000, 0.7, 0, 20000},     // capacity not measured
		{20000, 0.7, math.NaN(), 20000},
		{2000, 0.05, 500, 100}, // never below 100
	} {
		if got := rateFor(c.asked, c.headroom, c.capacity); got != c.want {
			t.Errorf("rateFor(%d, %v, %v) = %d, want %d", c.asked, c.headroom, c.capacity, got, c.want)
		}
	}
}

func TestCPUListsReadAsTasksetAndTheKernelWriteThem(t *testing.T) {
	for _, c := range []struct {
		list string
		want []int
	}{{"1", []int{1}}, {"0,1,2", []int{0, 1, 2}}, {"0-2", []int{0, 1, 2}}, {"4,0-1,1", []int{0, 1, 4}}} {
		if got, err := cpuSet(c.list); err != nil || !slices.Equal(got, c.want) {
			t.Errorf("cpuSet(%q) = %v, %v; want %v", c.list, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "a", "2-1", "1,", "-1"} {
		if got, err := cpuSet(bad); err == nil {
			t.Errorf("cpuSet(%q) = %v, want an error", bad, got)
		}
	}
	// This process itself, as the kernel lists its CPUs.
	list, err := allowedCPUs(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if err := runsOn(os.Getpid(), list); err != nil {
		t.Error(err)
	}
	if err := runsOn(os.Getpid(), "4095"); err == nil {
		t.Errorf("runsOn(self, 4095): no error, but this process runs on %s", list)
	}
}

// atWork checks that a profile of the test's load saw CoreDNS at work:
// it has samples, and once it has enough of them, some in the DNS
// library (packing, the writes). Here the kernel checks a thread's CPU
// timer only at its clock tick, so a 2-second profile of this light load
// held 7 to 47 samples in eleven (its CPU time gives about 50), and once
// none of the DNS library's among 7. In eight of them the library had 27
// to 62% of the samples: with 20 or more, none is a failure.
func atWork(sh Share) error {
	switch {
	case sh.Samples == 0:
		return fmt.Errorf("no samples: %+v", sh)
	case sh.Samples >= 20 && sh.ByOwner["dns"] == 0:
		return fmt.Errorf("%d samples, none in the DNS library: %+v", sh.Samples, sh)
	}
	return nil
}
