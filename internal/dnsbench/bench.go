// Package dnsbench measures what k8slint costs a running CoreDNS: it runs
// the built coredns-custom twice on loopback, in a network namespace of
// its own, on two Corefiles that differ only in the k8slint line, and
// sends both the same pod-shaped query mix with dnsperf, in alternating
// runs. It reports, with and without k8slint,
// CoreDNS's CPU time per answered query at a fixed offered rate, the
// saturated query rate, and the 99th percentile latency at the fixed rate,
// as medians over the rounds and as ratios.
//
// CPU time per query at a fixed rate is the number to judge k8slint by:
// on a shared machine the saturated rate swings several percent between
// identical runs (it depends on what else gets the cores), while the CPU
// a process spends per query changes far less.
//
// On a 2-core machine that also runs the load, the rounds' ratios spread
// by several percent either way, wider than a 1% target. So the verdict
// on the target comes from many rounds: a confidence interval of their
// median ratio that assumes nothing of how the noise is distributed
// (medianInterval). By default (Pin) the CoreDNS processes run on a CPU
// of their own and dnsperf on the others, which halves the spread: the
// load generator no longer takes turns with CoreDNS on its cores. After the rounds the bench also takes a CPU profile
// of the process with k8slint (CoreDNS's pprof plugin, in both Corefiles)
// under the same fixed-rate load, and counts the samples k8slint's own
// code took (Share): where k8slint's cost lies. As a ratio it has read
// high against the rounds, likely because it charges k8slint for the
// first touches of memory after each system call, which CoreDNS pays in
// its own code when k8slint is not there.
//
// Two shapes of load, each a Config (Shapes), each sent by one dnsperf
// process with one thread: from many client addresses, as from pods
// (Sources addresses 127.0.30.1, 127.0.30.2, ...: dnsperf's sockets are
// bound to consecutive ports and a routing rule per port gives each its
// own address, see sources.go; each socket sends the whole mix in order
// from its own starting point, as a pod would, see Workload.Streams), and
// from one client sending everything, as CoreDNS sees the node's address
// behind NodeLocal DNSCache (127.0.0.1, several sockets taking the mix's
// queries in turn): there every query of every worker touches the same
// client's state.
//
// Limits: the default 64 sources (65 clients with the answer check's
// 127.0.0.1) stay far below k8slint's default clients_max of 20,000, so
// eviction never happens here; a cluster has thousands of pod addresses.
// dnsperf does not wait for a lookup's answers before its next candidate,
// as glibc does. Pinned, CoreDNS runs with one P, as in a pod limited to
// one CPU (the Go runtime sizes GOMAXPROCS to a CPU limit); unpinned, the
// CoreDNS processes and dnsperf share the machine's cores.
package dnsbench

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/pprof/profile"
	"github.com/miekg/dns"

	"github.com/k8slint/k8slint/internal/resolver"
	"github.com/k8slint/k8slint/internal/testenv"
)

// Config says how to run the bench.
type Config struct {
	// Shape names the load's shape in the report; Target is the most CPU
	// per answered query with k8slint, as a ratio to without, it may take.
	Shape  string
	Target float64
	Binary string // coredns-custom
	Rounds int    // pairs of runs per measurement
	// Pairs is how many times the two CoreDNS processes are started
	// afresh, the rounds split evenly among them (0 or 1: once). A pair
	// of processes may sit apart by a point for as long as it runs (its
	// memory's layout, where the VM placed it): with several pairs the
	// verdict's interval is taken over the pairs' median ratios, so that
	// it holds that spread too.
	Pairs int
	// SaturatedRounds is how many of the first rounds also run saturated
	// (the rate only needs a few; the CPU ratio's interval needs many).
	SaturatedRounds int
	Duration        time.Duration // of each dnsperf run
	Rate            int           // offered queries per second of the fixed-rate runs (see Headroom)
	// Headroom, above 0, keeps the fixed rate at most that fraction of
	// what CoreDNS answers saturated on this machine: before the rounds,
	// the first pair of processes runs saturated calibrationRuns times
	// each, and the rate is lowered to Headroom of the slower one's median
	// when Rate is above it (rateFor). A rate near CoreDNS's capacity
	// measures its queue, not its CPU per query: on a 2-core VM of
	// 2026-12-03 one P answered about 22,000 qps saturated, and at 20,000
	// qps half of the fixed-rate runs fell below the rate.
	Headroom    float64
	Sources     int           // client addresses (at most MaxSockets), 127.0.30.1 and on; 1: 127.0.0.1
	Clients     int           // dnsperf's sockets (at least one per source, at most MaxSockets)
	Outstanding int           // queries dnsperf keeps in flight at most
	Pause       time.Duration // between runs, so one run's leftovers do not land in the next
	// Pin runs both CoreDNS processes on one CPU, the last of those the
	// bench may use, and dnsperf on the others: CoreDNS has its core to
	// itself (its Go runtime one P, as in a pod limited to one CPU) and the
	// load generator never takes turns with it. It needs two CPUs.
	Pin bool
	// Control runs the same Corefile, without k8slint, in both processes:
	// an A/A comparison whose ratios show the measurement's own noise.
	Control bool
	// Against, for an A/B comparison of two builds, is another
	// coredns-custom binary: the process "without" runs it, and both run
	// k8slint (the same Corefile), so the ratios are Binary's plugin's
	// cost against Against's. There is no verdict and no profile.
	Against string
	// Profile is the length of the CPU profile of the process with
	// k8slint taken after the rounds, at the fixed rate (0: none); see
	// Share. ProfileDir is a directory to write it to, as
	// k8slint-<shape>.pprof for `go tool pprof` ("": none); with it, the
	// process without k8slint is profiled the same way after it, into
	// without-<shape>.pprof.
	Profile    time.Duration
	ProfileDir string
	// Progress receives a line per run as it finishes (nil: none).
	Progress io.Writer
}

// DefaultConfig is the first shape `make bench` runs: 64 client
// addresses, as from pods.
func DefaultConfig() Config {
	// Many short rounds rather than a few long ones: the load other
	// processes put on a shared machine drifts within seconds, and this
	// VM's speed jumps by 10 to 15% from time to time. 75 rounds of
	// 1-second runs give the median ratio a 96% interval between their
	// 29th and 47th (medianInterval): 1.3 and 2.4 points wide in two A/A
	// controls on this machine, pinned.
	// The processes are started afresh every 5 rounds: the interval over
	// 15 pairs' medians runs from their 4th to their 12th.
	// The rate is 20,000 qps where CoreDNS answers at least 28,600
	// saturated, and 70% of what it answers below that (Headroom).
	return Config{Shape: "64 addresses", Target: 1.01, Rounds: 75, Pairs: 15, SaturatedRounds: 9, Duration: time.Second, Rate: 20000, Headroom: 0.7,
		Sources: 64, Clients: 64, Outstanding: 100, Pause: 500 * time.Millisecond, Profile: 30 * time.Second, Pin: true}
}

// OneClient is the second shape `make bench` runs: cfg with all the load
// from one client, 127.0.0.1, over 8 sockets, as behind NodeLocal
// DNSCache.
func OneClient(cfg Config) Config {
	cfg.Shape, cfg.Target = "one client", 1.03
	cfg.Sources, cfg.Clients = 1, 8
	return cfg
}

// Shapes returns both shapes of `make bench`, with the rest of cfg.
func Shapes(cfg Config) []Config {
	d := DefaultConfig()
	cfg.Shape, cfg.Target, cfg.Sources, cfg.Clients = d.Shape, d.Target, d.Sources, d.Clients
	return []Config{cfg, OneClient(cfg)}
}

// Variant names one of the two CoreDNS processes.
type Variant int

// The two Corefiles, identical but for the k8slint line.
const (
	Without Variant = iota
	With
)

func (v Variant) String() string {
	if v == With {
		return "with"
	}
	return "without"
}

// Corefile returns the bench's Corefile on loopback ports: the shape of
// kubeadm's default (errors, prometheus, cluster.local answered
// in-cluster, forward for the rest, cache 30), with the file plugin
// answering cluster.local from Zone in place of the kubernetes plugin,
// and pprof serving CPU profiles (an HTTP listener, idle until asked).
// withK8slint adds the one line "k8slint" and nothing else.
func Corefile(dnsPort, metricsPort, pprofPort int, upstream string, withK8slint bool) string {
	line := "    # no k8slint\n"
	if withK8slint {
		line = "    k8slint\n"
	}
	return fmt.Sprintf(`.:%d {
    errors
%s    prometheus 127.0.0.1:%d
    pprof 127.0.0.1:%d
    file db.cluster.local cluster.local
    forward . %s
    cache 30
}
`, dnsPort, line, metricsPort, pprofPort, upstream)
}

// Run is one measured dnsperf run.
type Run struct {
	Round     int
	Pair      int // which start of the processes (from 0) it ran on
	Variant   Variant
	Saturated bool
	Answered  int
	Lost      int
	Seconds   float64 // dnsperf's run time
	QPS       float64 // answered per second
	CPU       time.Duration
	P99       float64 // seconds; NaN when not measured (saturated runs)
	// Wall is the time from starting dnsperf to its end; LoadCPU the CPU
	// time it used.
	Wall    time.Duration
	LoadCPU time.Duration
}

// firstOf returns the variant whose process pair starts first. It
// alternates with the pair, so that what starting first (or second)
// does to a process weighs on both variants alike. With the process
// without k8slint always started first, two A/A controls of 15 pairs
// (2026-12-03) read 0.989 (0.984..1.000) and 0.993 (0.981..0.996): the
// process started second about 0.8% cheaper, in 11 and 12 of the 15
// pairs. Alternating,
// the next read 1.003 (0.990..1.006), its pairs 0.994 started one way and
// 1.003 the other.
func firstOf(pair int) Variant {
	if pair%2 == 1 {
		return With
	}
	return Without
}

// CPUPerQuery returns CoreDNS's CPU time per answered query.
func (r Run) CPUPerQuery() time.Duration {
	if r.Answered == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Answered)
}

// Result is the outcome of the bench.
type Result struct {
	Config   Config
	Workload *Workload
	Runs     []Run
	// Plugin holds a few of k8slint's metrics after the runs, to show it
	// saw the traffic and from how many clients.
	Plugin map[string]float64
	// Rcodes are the response codes of the last fixed-rate run of each
	// variant: both must be the same mix, k8slint never changes answers.
	Rcodes [2]map[string]int
	// Errors counts the [ERROR] lines each CoreDNS logged (the errors
	// plugin: failed forwards and the like); the mix should cause none.
	Errors [2]int
	// CPUs are the CPUs the CoreDNS processes and dnsperf ran on, as
	// taskset lists them (Pin; "" and "": any).
	CPUs struct{ CoreDNS, Load string }
	// Share is k8slint's part of a CPU profile of the process with it,
	// taken under the fixed-rate load after the rounds (nil: not taken).
	Share *Share
	// Capacity is what CoreDNS answered saturated before the rounds, in
	// queries per second: the slower process's median of calibrationRuns
	// (0: not measured, Headroom 0). AskedRate is the rate asked for;
	// Config.Rate is the one the runs offered, lower when Headroom
	// lowered it.
	Capacity  float64
	AskedRate int
}

// calibrationRuns is how many saturated runs of each process measure
// CoreDNS's capacity before the rounds (Headroom).
const calibrationRuns = 3

// rateFor returns the fixed rate to offer: asked, or headroom of capacity
// (to the qps, then down to a hundred, at least 100) when that is lower.
func rateFor(asked int, headroom, capacity float64) int {
	if headroom <= 0 || !(capacity > 0) {
		return asked
	}
	r := max(int(math.Round(headroom*capacity))/100*100, 100)
	return min(r, asked)
}

type instance struct {
	variant     Variant
	counted     bool // its [ERROR] lines are in Result.Errors
	coredns     *testenv.CoreDNS
	port        int
	metricsAddr string
	pprofAddr   string
}

// Bench runs the whole bench and returns its measurements. It stops every
// process it started before it returns.
func Bench(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("dnsbench: %v", err)
	}
	var bins [2]string // by variant
	for _, v := range []Variant{Without, With} {
		b, err := filepath.Abs(cfg.binary(v))
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(b); err != nil {
			return nil, fmt.Errorf("coredns-custom: %w (run make build)", err)
		}
		bins[v] = b
	}
	if cfg.ProfileDir != "" && cfg.Profile > 0 {
		// Made now, not found missing after the rounds.
		if err := os.MkdirAll(cfg.ProfileDir, 0o755); err != nil {
			return nil, err
		}
	}
	perf, err := DNSPerfPath()
	if err != nil {
		return nil, err
	}
	if err := testenv.NetnsSupport(); err != nil {
		return nil, fmt.Errorf("dnsbench runs in a network namespace of its own: %w", err)
	}
	res := &Result{Config: cfg, AskedRate: cfg.Rate}
	if cfg.Pin {
		if res.CPUs.CoreDNS, res.CPUs.Load, err = pinCPUs(); err != nil {
			return nil, err
		}
	}
	w, err := NewWorkload()
	if err != nil {
		return nil, err
	}
	res.Workload = w
	dir, err := os.MkdirTemp("", "k8slint-dnsbench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	// The sockets take the file's lines in turn: with more than one
	// source, each socket sends the mix in order (Streams).
	data := w.Datafile()
	if cfg.Sources > 1 {
		data = w.Streams(cfg.sockets())
	}
	datafile := filepath.Join(dir, "queries.txt")
	if err := os.WriteFile(datafile, []byte(data), 0o644); err != nil {
		return nil, err
	}
	ns, err := testenv.NewNetns("k8slint-bench")
	if err != nil {
		return nil, err
	}
	defer ns.Delete()
	if cfg.Sources > 1 {
		if err := routeSources(ns, cfg.sockets(), cfg.Sources); err != nil {
			return nil, err
		}
	}
	up, err := ns.StartUpstream(testenv.Answer, 0)
	if err != nil {
		return nil, err
	}
	defer up.Close()

	var insts [2]*instance
	// countErrors adds the [ERROR] lines each running process logged (the
	// errors plugin: failed forwards and the like), once.
	countErrors := func() {
		for _, in := range insts {
			if in != nil && !in.counted {
				res.Errors[in.variant] += strings.Count(in.coredns.Output(), "[ERROR]")
				in.counted = true
			}
		}
	}
	pair := 0 // the processes' start, recorded with each run
	// firsts returns the order in which the processes of pair are
	// started and warmed up (and the pair before it stopped).
	firsts := func() []Variant {
		v := firstOf(pair)
		return []Variant{v, 1 - v}
	}
	// retire stops the running processes, their errors counted.
	retire := func() {
		countErrors()
		for _, v := range firsts() {
			if in := insts[v]; in != nil {
				in.coredns.Stop()
				insts[v] = nil
			}
		}
	}
	defer retire()
	// measure runs the load on in for d; a round below 0 is not recorded.
	measure := func(in *instance, round int, saturated bool, d time.Duration) (*loadResult, error) {
		a := cfg.load(saturated)
		a.Port, a.Datafile, a.Duration, a.CPUs = in.port, datafile, d, res.CPUs.Load
		pid := in.coredns.Cmd.Process.Pid
		before, err := ProcessCPU(pid)
		if err != nil {
			return nil, err
		}
		t0 := time.Now()
		p, err := runLoad(ctx, ns, perf, a)
		if err != nil {
			return nil, err
		}
		wall := time.Since(t0)
		after, err := ProcessCPU(pid)
		if err != nil {
			return nil, err
		}
		if in.coredns.Exited() {
			return nil, fmt.Errorf("coredns (%s k8slint) exited:\n%s", in.variant, in.coredns.Output())
		}
		if round >= 0 {
			r := Run{Round: round, Pair: pair, Variant: in.variant, Saturated: saturated, Answered: p.Completed,
				Lost: p.Lost, Seconds: p.RunTime, QPS: p.QPS, CPU: after - before, P99: math.NaN(),
				Wall: wall, LoadCPU: p.CPU}
			if !saturated {
				r.P99 = quantile(p.Latencies, 0.99)
			}
			res.Runs = append(res.Runs, r)
			if cfg.Progress != nil {
				fmt.Fprintln(cfg.Progress, r.line(cfg))
			}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(cfg.Pause):
		}
		return p, nil
	}

	// startPair starts both processes afresh, checks their answers and
	// warms them up: caches filled, k8slint's client table populated,
	// Go's heap grown to its working size.
	startPair := func() error {
		for _, v := range firsts() {
			in, err := start(ns, bins[v], filepath.Join(dir, v.String()), up.Addr, v, (v == With || cfg.Against != "") && !cfg.Control, res.CPUs.CoreDNS)
			if err != nil {
				return err
			}
			insts[v] = in
		}
		for _, v := range firsts() {
			if err := checkAnswers(ns, insts[v], w); err != nil {
				return err
			}
		}
		for _, v := range firsts() {
			if _, err := measure(insts[v], -1, false, cfg.Duration); err != nil {
				return err
			}
		}
		return nil
	}
	// calibrate measures CoreDNS's capacity with the processes of the
	// first pair, saturated, alternating, and lowers the fixed rate to
	// Headroom of it when the rate asked for is above that.
	calibrate := func() error {
		var qps [2][]float64
		order := firsts()
		for i := range calibrationRuns {
			for j := range order {
				in := insts[order[(i+j)%2]]
				p, err := measure(in, -1, true, cfg.Duration)
				if err != nil {
					return err
				}
				qps[in.variant] = append(qps[in.variant], p.QPS)
			}
		}
		res.Capacity = min(median(qps[Without]), median(qps[With]))
		cfg.Rate = rateFor(cfg.Rate, cfg.Headroom, res.Capacity)
		res.Config.Rate = cfg.Rate
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "capacity: %.0f qps answered saturated (the slower process's median of %d runs); fixed rate %d qps\n",
				res.Capacity, calibrationRuns, cfg.Rate)
		}
		return nil
	}
	pairs := cfg.pairs()
	round := 0
	for pair = 0; pair < pairs; pair++ {
		retire()
		if err := startPair(); err != nil {
			return nil, err
		}
		if pair == 0 && cfg.Headroom > 0 {
			if err := calibrate(); err != nil {
				return nil, err
			}
		}
		n := cfg.Rounds / pairs
		if pair < cfg.Rounds%pairs {
			n++
		}
		for range n {
			round++
			// Alternate which goes first (ABBA), so a drift of the
			// machine's load over the rounds weighs on both alike.
			order := []*instance{insts[Without], insts[With]}
			if round%2 == 0 {
				order[0], order[1] = order[1], order[0]
			}
			for _, saturated := range []bool{false, true} {
				if saturated && round > cfg.SaturatedRounds {
					break
				}
				for _, in := range order {
					p, err := measure(in, round, saturated, cfg.Duration)
					if err != nil {
						return nil, err
					}
					if !saturated {
						res.Rcodes[in.variant] = p.Rcodes
					}
				}
			}
		}
	}
	countErrors()
	if cfg.Control || cfg.Against != "" {
		return res, nil
	}
	// takeProfile takes a CPU profile of in under the fixed-rate load, which
	// runs a second longer on each side of it, and writes it to
	// ProfileDir as <name>-<shape>.pprof.
	takeProfile := func(in *instance, name string) (*profile.Profile, error) {
		type got struct {
			p   *profile.Profile
			err error
		}
		ch := make(chan got, 1)
		go func() {
			time.Sleep(time.Second)
			p, err := fetchProfile(ctx, ns.HTTPClient(0), in.pprofAddr, cfg.Profile)
			ch <- got{p, err}
		}()
		if _, err := measure(in, -1, false, cfg.Profile+2*time.Second); err != nil {
			<-ch
			return nil, err
		}
		g := <-ch
		if g.err != nil || cfg.ProfileDir == "" {
			return g.p, g.err
		}
		f, err := os.Create(filepath.Join(cfg.ProfileDir, name+"-"+strings.ReplaceAll(cfg.Shape, " ", "-")+".pprof"))
		if err != nil {
			return nil, err
		}
		if err := g.p.Write(f); err != nil {
			f.Close()
			return nil, err
		}
		return g.p, f.Close()
	}
	if cfg.Profile > 0 {
		p, err := takeProfile(insts[With], "k8slint")
		if err != nil {
			return nil, err
		}
		if cfg.ProfileDir != "" {
			// The process without k8slint too, for a side-by-side
			// reading (go tool pprof -diff_base): what k8slint costs
			// the rest of CoreDNS does not show in the share.
			if _, err := takeProfile(insts[Without], "without"); err != nil {
				return nil, err
			}
		}
		sh, err := ShareOf(p)
		if err != nil {
			return nil, err
		}
		res.Share = &sh
	}
	m, err := ns.Scrape(insts[With].metricsAddr)
	if err != nil {
		return nil, err
	}
	res.Plugin = map[string]float64{}
	for _, name := range []string{"coredns_k8slint_search_expansions_total", "coredns_k8slint_wasted_nxdomain_total",
		"coredns_k8slint_tracked_clients", "coredns_k8slint_evictions_total"} {
		res.Plugin[name] = m.Sum(name, nil)
	}
	return res, nil
}

// check reports a setting the bench cannot run with.
func (c Config) check() error {
	switch {
	case c.Rounds < 1 || c.Duration <= 0 || c.Rate < 1 || c.Clients < 1 || c.Outstanding < 1:
		return fmt.Errorf("rounds, duration, rate, clients and outstanding must be positive: %+v", c)
	case c.Pairs < 0:
		return fmt.Errorf("pairs must not be negative: %d", c.Pairs)
	case c.SaturatedRounds < 0:
		return fmt.Errorf("saturated rounds must not be negative: %d", c.SaturatedRounds)
	case !(c.Target >= 1):
		return fmt.Errorf("the target ratio must be at least 1, not %v", c.Target)
	case c.Sources < 1 || c.Sources > MaxSockets || c.Clients > MaxSockets:
		return fmt.Errorf("sources and clients must be 1 to %d (dnsperf's sockets per thread), not %d and %d", MaxSockets, c.Sources, c.Clients)
	case c.Profile < 0 || c.Profile%time.Second != 0:
		return fmt.Errorf("the profile's length must be whole seconds, not %v", c.Profile)
	case !(c.Headroom >= 0 && c.Headroom <= 1):
		return fmt.Errorf("the headroom is a fraction of CoreDNS's capacity, 0 (none) to 1, not %v", c.Headroom)
	case c.Control && c.Against != "":
		return fmt.Errorf("an A/A control runs one binary: it cannot compare against %s", c.Against)
	}
	return nil
}

// binary returns the binary the process of variant v runs.
func (c Config) binary(v Variant) string {
	if v == Without && c.Against != "" {
		return c.Against
	}
	return c.Binary
}

// pairs returns how many times the processes start: Pairs, at least
// one, at most one a round.
func (c Config) pairs() int {
	return max(1, min(c.Pairs, c.Rounds))
}

// sockets returns how many sockets dnsperf sends from: Clients, and at
// least one per source address.
func (c Config) sockets() int {
	return max(c.Clients, c.Sources)
}

// load returns dnsperf's settings for cfg's load, at the fixed rate or
// saturated, without the server's port and the datafile.
func (c Config) load(saturated bool) perfArgs {
	a := perfArgs{Duration: c.Duration, Rate: c.Rate, Clients: c.sockets(), Outstanding: c.Outstanding, Verbose: true}
	if c.Sources > 1 {
		a.LocalPort = SourcePortBase
	}
	if saturated {
		a.Rate, a.Verbose = 0, false
	}
	return a
}

// start runs coredns-custom for variant v in dir, inside ns, on cpus
// (taskset's list; "": any), which it checks the process has.
func start(ns *testenv.Netns, bin, dir, upstream string, v Variant, withK8slint bool, cpus string) (*instance, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "db.cluster.local"), []byte(Zone()), 0o644); err != nil {
		return nil, err
	}
	var port, mport, pport int
	err := ns.Do(func() error { // ports free in the namespace
		var err error
		for _, p := range []*int{&port, &mport, &pport} {
			// Not one of the load's source ports, which dnsperf binds
			// and the namespace's rules route.
			for *p == 0 || *p >= SourcePortBase && *p < SourcePortBase+MaxSockets {
				if *p, err = testenv.FreePort(); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	c, err := ns.StartCoreDNSOn(cpus, bin, dir, Corefile(port, mport, pport, upstream, withK8slint), 30*time.Second)
	if err != nil {
		return nil, fmt.Errorf("coredns (%s k8slint): %w", v, err)
	}
	if cpus != "" {
		if err := runsOn(c.Cmd.Process.Pid, cpus); err != nil {
			c.Stop()
			return nil, fmt.Errorf("coredns (%s k8slint): %w", v, err)
		}
	}
	return &instance{variant: v, coredns: c, port: port, metricsAddr: fmt.Sprintf("127.0.0.1:%d", mport),
		pprofAddr: fmt.Sprintf("127.0.0.1:%d", pport)}, nil
}

// checkAnswers asks every distinct question of the workload once and
// checks that the answer is the one the workload was planned with, so the
// mix really is what Summary says it is.
func checkAnswers(ns *testenv.Netns, in *instance, w *Workload) error {
	addr := fmt.Sprintf("127.0.0.1:%d", in.port)
	var bad []string
	err := ns.Do(func() error { // every query from inside the namespace
		for _, q := range w.distinctQuestions() {
			m, err := testenv.Query(addr, q.Name, q.Type)
			if err != nil {
				return fmt.Errorf("coredns (%s k8slint): %s %s: %w", in.variant, q.Name, dns.TypeToString[q.Type], err)
			}
			if got := resolver.AnswerOf(m, q.Type); got != q.Answer {
				bad = append(bad, fmt.Sprintf("%s %s: %s, planned %s", q.Name, dns.TypeToString[q.Type], got, q.Answer))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(bad) > 0 {
		return fmt.Errorf("coredns (%s k8slint) answers differ from the workload's plan:\n%s", in.variant, strings.Join(bad, "\n"))
	}
	return nil
}

// line describes the run in one line, with c's names for the processes:
// an A/A control's are numbered (neither has k8slint), an A/B's are
// their binaries.
func (r Run) line(c Config) string {
	s := fmt.Sprintf("round %d %-7s k8slint: ", r.Round, r.Variant)
	switch {
	case c.Control:
		s = fmt.Sprintf("round %d process %d (no k8slint): ", r.Round, int(r.Variant)+1)
	case c.Against != "":
		s = fmt.Sprintf("round %d %s: ", r.Round, c.binary(r.Variant))
	}
	if r.Saturated {
		return s + fmt.Sprintf("saturated %8.0f qps, cpu %.2fs, %d lost; dnsperf cpu %.2fs", r.QPS, r.CPU.Seconds(), r.Lost, r.LoadCPU.Seconds())
	}
	return s + fmt.Sprintf("fixed rate %6.0f qps answered, cpu/query %5.2fµs, p99 %.3fms, %d lost; dnsperf cpu %.2fs",
		r.QPS, float64(r.CPUPerQuery().Nanoseconds())/1000, r.P99*1000, r.Lost, r.LoadCPU.Seconds())
}
