package dnsbench

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
)

// Metric is one measured quantity, with and without k8slint.
type Metric struct {
	Name   string
	Median [2]float64 // by Variant, over the rounds
	Ratio  float64    // Median[With] / Median[Without]
	// Paired is the median of the rounds' ratios (each round's with over
	// its without), Lo and Hi the smallest and largest of them: the
	// spread the machine's noise gives.
	Paired, Lo, Hi float64
	// Interval is a confidence interval of the median of the rounds'
	// ratios, at confidence Level (medianInterval); NaN with fewer than
	// six rounds (or pairs). With more than one pair of processes (Config.Pairs),
	// Paired and Interval are those of the pairs' median ratios.
	Interval [2]float64
	Level    float64
	Rounds   int // rounds with both runs
	Pairs    int // pairs of processes with such rounds
	// ByFirst is, with more than one pair, the median of the median
	// ratios of the pairs that started the process without k8slint first
	// and of those that started the other first (by Variant; firstOf):
	// how far apart they sit is what the order of the starts does.
	ByFirst [2]float64
}

// Summarize reduces the runs to the three metrics the bench reports: CPU
// per answered query (µs) and p99 latency (ms) from the fixed-rate runs
// that answered at the rate (atRate), answered queries per second from the
// saturated ones.
func (r *Result) Summarize() []Metric {
	type pick func(Run) (float64, bool)
	specs := []struct {
		name string
		get  pick
	}{
		{"CoreDNS CPU per answered query (µs), fixed rate", func(x Run) (float64, bool) {
			return float64(x.CPUPerQuery().Nanoseconds()) / 1000, r.atRate(x) && x.Answered > 0
		}},
		{"saturated rate (answered qps)", func(x Run) (float64, bool) { return x.QPS, x.Saturated }},
		{"p99 latency (ms), fixed rate", func(x Run) (float64, bool) { return x.P99 * 1000, r.atRate(x) && !math.IsNaN(x.P99) }},
	}
	var out []Metric
	for _, s := range specs {
		m := Metric{Name: s.name, Lo: math.Inf(1), Hi: math.Inf(-1)}
		var vals [2][]float64
		byRound := map[int]*[2]float64{}
		pairOf := map[int]int{}
		for _, run := range r.Runs {
			v, ok := s.get(run)
			if !ok {
				continue
			}
			vals[run.Variant] = append(vals[run.Variant], v)
			if byRound[run.Round] == nil {
				byRound[run.Round] = &[2]float64{math.NaN(), math.NaN()}
			}
			byRound[run.Round][run.Variant] = v
			pairOf[run.Round] = run.Pair
		}
		var ratios []float64
		byPair := map[int][]float64{}
		for round, both := range byRound {
			if math.IsNaN(both[Without]) || math.IsNaN(both[With]) || both[Without] == 0 {
				continue
			}
			q := both[With] / both[Without]
			m.Lo, m.Hi = math.Min(m.Lo, q), math.Max(m.Hi, q)
			ratios = append(ratios, q)
			byPair[pairOf[round]] = append(byPair[pairOf[round]], q)
		}
		m.Rounds, m.Pairs = len(ratios), len(byPair)
		m.ByFirst = [2]float64{math.NaN(), math.NaN()}
		if len(byPair) > 1 {
			ratios = ratios[:0]
			var split [2][]float64
			for _, pair := range slices.Sorted(maps.Keys(byPair)) {
				q := median(byPair[pair])
				ratios = append(ratios, q)
				split[firstOf(pair)] = append(split[firstOf(pair)], q)
			}
			m.ByFirst = [2]float64{median(split[Without]), median(split[With])}
		}
		m.Paired = median(ratios)
		m.Interval, m.Level = medianInterval(ratios)
		for v := range vals {
			m.Median[v] = median(vals[v])
		}
		m.Ratio = m.Median[With] / m.Median[Without]
		out = append(out, m)
	}
	return out
}

// medianInterval returns a confidence interval of the median of the
// distribution xs are drawn from, at a confidence of at least 95%, and
// that confidence: the k-th smallest and the k-th largest of xs, with the
// largest k for which fewer than k of n draws fall below the median with
// probability at most 2.5% (a binomial tail of n draws at 1/2). It assumes
// nothing of the distribution's shape, only that the draws are
// independent: the rounds' ratios, each from a pair of runs seconds
// apart. With fewer than six values no such k exists: NaN.
func medianInterval(xs []float64) (iv [2]float64, level float64) {
	n := len(xs)
	nan := [2]float64{math.NaN(), math.NaN()}
	// tail = P(B <= k-1) for B ~ Binomial(n, 1/2), with k growing from 1.
	k, tail, term := 0, 0.0, math.Pow(0.5, float64(n))
	for i := 0; i < n/2; i++ {
		if tail+term > 0.025 {
			break
		}
		tail += term
		k = i + 1
		term = term * float64(n-i) / float64(i+1)
	}
	if k == 0 {
		return nan, math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return [2]float64{s[k-1], s[n-k]}, 1 - 2*tail
}

// Report writes the summary table, the ratios and the verdict on the
// shape's target.
// A missed target is reported, not an error.
func (r *Result) Report(w io.Writer) error {
	c := r.Config
	switch {
	case c.Control:
		fmt.Fprintf(w, "dnsperf: A/A control: %s twice, both WITHOUT k8slint (same Corefile), %d rounds, runs alternating; the columns \"with\" are the second process\n",
			c.Binary, c.Rounds)
	case c.Against != "":
		fmt.Fprintf(w, "dnsperf, %s: A/B: %s against %s, both WITH k8slint (same Corefile), %d rounds, runs alternating; the columns \"without\" are %s\n",
			c.Shape, c.Binary, c.Against, c.Rounds, c.Against)
	default:
		fmt.Fprintf(w, "dnsperf, %s: %s with and without k8slint (Corefiles identical but for that line), %d rounds, runs alternating\n",
			c.Shape, c.Binary, c.Rounds)
	}
	if n := c.pairs(); n > 1 {
		fmt.Fprintf(w, "  the two processes started afresh %d times, every %d rounds or so; the median ratio and its interval are those of the pairs' medians\n", n, c.Rounds/n)
	}
	fmt.Fprintf(w, "  query mix: %s\n", r.Workload.Summary())
	fmt.Fprintf(w, "  fixed-rate runs: %d qps offered for %s%s; saturated runs (the first %d rounds): %s with at most %d queries in flight\n",
		c.Rate, c.Duration, r.rateNote(), min(c.SaturatedRounds, c.Rounds), c.Duration, c.Outstanding)
	fmt.Fprintf(w, "  load: %s\n", c.loadLine())
	if r.CPUs.CoreDNS != "" {
		fmt.Fprintf(w, "  CPUs: each CoreDNS on CPU %s, one at a time (its Go runtime with one P), dnsperf on CPU %s\n", r.CPUs.CoreDNS, r.CPUs.Load)
	}
	if cpu := r.loadCores(); !math.IsNaN(cpu[0][0]) {
		sat := "no saturated runs"
		if !math.IsNaN(cpu[1][0]) {
			sat = fmt.Sprintf("dnsperf %.2f, CoreDNS %.2f", cpu[1][0], cpu[1][1])
		}
		fmt.Fprintf(w, "  CPU in cores (CPU seconds per second of run), median: fixed rate: dnsperf %.2f, CoreDNS %.2f; saturated: %s\n",
			cpu[0][0], cpu[0][1], sat)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	ratios := "per-round ratios: median\tinterval (≥95%)\tmin..max"
	if c.pairs() > 1 {
		ratios = "pairs' median ratios: median\tinterval (≥95%)\trounds' min..max"
	}
	fmt.Fprintln(tw, "median of rounds\twithout\twith\twith/without\t"+ratios+"\t")
	ms := r.Summarize()
	for _, m := range ms {
		spread, iv := "-", "-"
		if m.Rounds > 0 {
			spread = fmt.Sprintf("%.3f..%.3f", m.Lo, m.Hi)
		}
		if !math.IsNaN(m.Level) {
			iv = fmt.Sprintf("%.3f..%.3f", m.Interval[0], m.Interval[1])
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", m.Name, num(m.Median[Without]), num(m.Median[With]), ratio(m.Ratio), ratio(m.Paired), iv, spread)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if m := ms[0]; m.Pairs > 1 {
		fmt.Fprintf(w, "  CPU per query, the pairs' median ratio by the process started first: \"without\" %s, \"with\" %s (the order alternates with the pair, so it weighs on both alike)\n",
			ratio(m.ByFirst[Without]), ratio(m.ByFirst[With]))
	}
	if sh := r.Share; sh != nil {
		fmt.Fprintf(w, "CPU profile of CoreDNS with k8slint over %s of the fixed-rate load: %d samples; own code of k8slint %.2f%%, of the prometheus plugin %.2f%%, of cache %.2f%%, of errors %.2f%%\n",
			c.Profile, sh.Samples, 100*sh.Fraction(ownerK8slint), 100*sh.Fraction("metrics"), 100*sh.Fraction("cache"), 100*sh.Fraction("errors"))
		var top []string
		for i, f := range sh.Top {
			if i == 8 {
				break
			}
			top = append(top, fmt.Sprintf("%s %d", f.Func, f.Samples))
		}
		if len(top) == 0 {
			top = []string{"none"}
		}
		fmt.Fprintf(w, "  k8slint's samples by function: %s\n", strings.Join(top, ", "))
		if m := machineNote(); m != "" {
			fmt.Fprintf(w, "  machine: %s\n", m)
		}
	}
	switch {
	case c.Control:
		fmt.Fprintln(w, r.control())
	case c.Against != "":
		fmt.Fprintln(w, r.comparison())
	default:
		fmt.Fprintln(w, r.verdict())
	}
	for _, warn := range r.warnings() {
		fmt.Fprintln(w, "warning:", warn)
	}
	if r.Plugin != nil {
		who := fmt.Sprintf("the %d sources and the answer check's 127.0.0.1", c.Sources)
		if c.Sources == 1 {
			who = "127.0.0.1, the load's and the answer check's"
		}
		tracked := r.Plugin["coredns_k8slint_tracked_clients"]
		noun := "client addresses"
		if tracked == 1 {
			noun = "client address"
		}
		over := "the bench"
		if c.pairs() > 1 {
			over = "the last start of the processes"
		}
		fmt.Fprintf(w, "k8slint counted %.0f search expansions and %.0f wasted NXDOMAIN answers over %s; it tracks %.0f %s (%s), %.0f evicted\n",
			r.Plugin["coredns_k8slint_search_expansions_total"], r.Plugin["coredns_k8slint_wasted_nxdomain_total"], over,
			tracked, noun, who, r.Plugin["coredns_k8slint_evictions_total"])
	}
	return nil
}

// loadCores returns the medians, over all measured runs of both
// processes, of the CPU dnsperf ([i][0]) and CoreDNS
// ([i][1]) used per second of wall time, for the fixed-rate ([0][]) and the
// saturated ([1][]) runs: how much of the machine the load generator took.
func (r *Result) loadCores() [2][2]float64 {
	var xs [2][2][]float64
	for _, run := range r.Runs {
		if run.Wall <= 0 {
			continue
		}
		i := 0
		if run.Saturated {
			i = 1
		}
		xs[i][0] = append(xs[i][0], run.LoadCPU.Seconds()/run.Wall.Seconds())
		xs[i][1] = append(xs[i][1], run.CPU.Seconds()/run.Wall.Seconds())
	}
	var out [2][2]float64
	for i := range xs {
		for j := range xs[i] {
			out[i][j] = median(xs[i][j])
		}
	}
	return out
}

// verdict judges the CPU ratio against the shape's target by the rounds'
// ratios (each round's pair ran seconds apart under nearly the same load
// from the rest of the machine): met when the median's confidence
// interval lies within the target, NOT met when it lies above it, not
// shown when it straddles it or there are too few rounds for one. The CPU
// profile, when taken, is reported beside it as an attribution: it names
// where k8slint's cost lies, but as a ratio it read above the rounds'
// interval in every run of 25 rounds measured (likely because it charges k8slint for
// first touches of memory after a system call that CoreDNS pays in its
// own code without k8slint; see README); it is not the verdict.
func (r *Result) verdict() string {
	target, m := r.Config.Target, r.Summarize()[0]
	s := fmt.Sprintf("target: CPU per answered query with/without <= %.2f, by the rounds' ratios: %s (median %s, %s; ratio of medians %s)",
		target, m.met(target), ratio(m.Paired), interval(m), ratio(m.Ratio))
	if sh := r.Share; sh != nil {
		ratio, high := sh.Ratio()
		s += fmt.Sprintf("\n  the CPU profile's attribution: k8slint's own code %.2f%% of CoreDNS's CPU, a ratio of %.3f (at most %.3f); not the verdict: it has read high against the rounds",
			100*sh.Fraction(ownerK8slint), ratio, high)
	}
	return s
}

// control reads an A/A run: both processes are the same, so the median
// ratio's interval should hold 1.000; where it does not, the rounds are
// biased (or the 5% chance came up), and no verdict of a run like it can
// be trusted.
func (r *Result) control() string {
	m := r.Summarize()[0]
	holds := "holds 1.000, as it should: a ratio away from 1.000 here is the measurement's noise"
	switch {
	case math.IsNaN(m.Level):
		holds = "cannot say whether the rounds are biased"
	case m.Interval[0] > 1 || m.Interval[1] < 1:
		holds = "does NOT hold 1.000: the rounds are biased on this machine now, and a verdict of the same load would not be trustworthy"
	}
	return fmt.Sprintf("A/A control: CPU per answered query, median %s (%s); the interval %s", ratio(m.Paired), interval(m), holds)
}

// comparison is an A/B run's result: the ratio of the two builds' CPU per
// answered query.
func (r *Result) comparison() string {
	m := r.Summarize()[0]
	return fmt.Sprintf("A/B: CPU per answered query, %s against %s: median %s (%s)", r.Config.Binary, r.Config.Against, ratio(m.Paired), interval(m))
}

// interval describes m's confidence interval of the median ratio.
func interval(m Metric) string {
	over := fmt.Sprintf("%d rounds at the rate", m.Rounds)
	if m.Pairs > 1 {
		over = fmt.Sprintf("the median ratios of %d pairs of processes (%d rounds at the rate)", m.Pairs, m.Rounds)
	}
	if math.IsNaN(m.Level) {
		return fmt.Sprintf("%s: too few for an interval (6 at least)", over)
	}
	return fmt.Sprintf("%.0f%% interval %.3f..%.3f over %s", math.Floor(100*m.Level), m.Interval[0], m.Interval[1], over)
}

// met judges the CPU metric m against target by its interval.
func (m Metric) met(target float64) string {
	switch {
	case m.Interval[1] <= target:
		return "met"
	case m.Interval[0] > target:
		return "NOT met"
	}
	return "not shown" // straddles the target, or no interval (NaN)
}

// Summary writes one line per result: the shape, its CPU ratio and the
// verdict on its target, so that several shapes' ratios stand together.
func Summary(w io.Writer, results []*Result) {
	fmt.Fprintln(w, "dnsperf summary: CoreDNS CPU per answered query with/without k8slint")
	for _, r := range results {
		cpu := r.Summarize()[0]
		by := ""
		if sh := r.Share; sh != nil {
			ratio, high := sh.Ratio()
			by = fmt.Sprintf("; CPU profile %.3f (at most %.3f)", ratio, high)
		}
		lowered := ""
		if r.lowered() {
			lowered = fmt.Sprintf("; at %d qps, lowered from %d to %.0f%% of the %.0f qps CoreDNS answered saturated", r.Config.Rate, r.AskedRate, 100*r.Config.Headroom, r.Capacity)
		}
		fmt.Fprintf(w, "  %-14s rounds' median %s (%s)%s, target <= %.2f: %s%s\n", r.Config.Shape+":", ratio(cpu.Paired), interval(cpu), by, r.Config.Target, cpu.met(r.Config.Target), lowered)
	}
}

// atRate reports whether x is a fixed-rate run that answered at least 97%
// of the rate offered. One that answered less ran on a machine too busy to
// keep up: its CPU per query was spent under another load than the
// rate's (on this 2-core VM, CoreDNS and dnsperf then contend for the
// cores), and is not compared.
func (r *Result) atRate(x Run) bool {
	return !x.Saturated && x.QPS >= 0.97*float64(r.Config.Rate)
}

// lowered reports whether the headroom lowered the fixed rate below the
// one asked for.
func (r *Result) lowered() bool { return r.Capacity > 0 && r.Config.Rate < r.AskedRate }

// rateNote says how the fixed rate was chosen, when CoreDNS's capacity
// was measured (Headroom).
func (r *Result) rateNote() string {
	switch {
	case !(r.Capacity > 0):
		return ""
	case r.lowered():
		return fmt.Sprintf(" (%d asked, lowered to %.0f%% of the %.0f qps CoreDNS answered saturated here, the slower process's median of %d runs)",
			r.AskedRate, 100*r.Config.Headroom, r.Capacity, calibrationRuns)
	default:
		return fmt.Sprintf(" (at most %.0f%% of the %.0f qps CoreDNS answered saturated here, the slower process's median of %d runs)",
			100*r.Config.Headroom, r.Capacity, calibrationRuns)
	}
}

// warnings lists what makes the numbers less trustworthy.
func (r *Result) warnings() []string {
	var out []string
	if r.lowered() {
		out = append(out, fmt.Sprintf("the fixed rate was lowered from %d to %d qps to leave CoreDNS %.0f%% of its capacity idle on this machine: CoreDNS's CPU per query changes with the rate, so these ratios are this rate's, not those of a run at %d qps",
			r.AskedRate, r.Config.Rate, 100*(1-r.Config.Headroom), r.AskedRate))
	}
	short, fixed, lowest := 0, 0, math.Inf(1)
	for _, run := range r.Runs {
		if run.Saturated {
			continue
		}
		fixed++
		if !r.atRate(run) {
			short++
			lowest = math.Min(lowest, run.QPS)
		}
	}
	if short > 0 {
		out = append(out, fmt.Sprintf("%d of %d fixed-rate runs answered less than 97%% of the %d qps offered (lowest %.0f): the machine was too busy, their CPU per query is not at the fixed rate and their rounds are left out of the ratios",
			short, fixed, r.Config.Rate, lowest))
	}
	for v, n := range r.Errors {
		if n > 0 {
			out = append(out, fmt.Sprintf("CoreDNS %s k8slint logged %d [ERROR] lines", Variant(v), n))
		}
	}
	if !sameShares(r.Rcodes[Without], r.Rcodes[With]) {
		out = append(out, fmt.Sprintf("response codes differ: without %s, with %s", rcodes(r.Rcodes[Without]), rcodes(r.Rcodes[With])))
	}
	return out
}

// sameShares reports whether two response code counts have the same codes
// in shares within one percentage point (runs differ in length).
func sameShares(a, b map[string]int) bool {
	total := func(m map[string]int) (n int) {
		for _, v := range m {
			n += v
		}
		return n
	}
	ta, tb := total(a), total(b)
	if ta == 0 || tb == 0 {
		return ta == tb
	}
	for _, k := range slices.Sorted(maps.Keys(a)) {
		if math.Abs(float64(a[k])/float64(ta)-float64(b[k])/float64(tb)) > 0.01 {
			return false
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok && float64(b[k])/float64(tb) > 0.01 {
			return false
		}
	}
	return true
}

func rcodes(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// ratio formats a ratio, "-" when there is none (no runs of the kind).
func ratio(x float64) string {
	if math.IsNaN(x) {
		return "-"
	}
	return fmt.Sprintf("%.3f", x)
}

func num(x float64) string {
	switch {
	case math.IsNaN(x):
		return "-"
	case x >= 1000:
		return fmt.Sprintf("%.0f", x)
	default:
		return fmt.Sprintf("%.3f", x)
	}
}

// loadLine describes who sends the load.
func (c Config) loadLine() string {
	if c.Sources == 1 {
		return fmt.Sprintf("one dnsperf process (one thread) from 127.0.0.1, the answer check's address: %d sockets taking the queries in turn, all from one client", c.sockets())
	}
	n := c.sockets()
	routed := "each routed from its own address"
	if n > c.Sources {
		routed = fmt.Sprintf("socket i routed from address i mod %d of", c.Sources)
	}
	return fmt.Sprintf("one dnsperf process (one thread), %d sockets on ports %d..%d, %s %s..%s: each socket sends the mix in order from its own starting lookup, about %.0f qps at the fixed rate",
		n, SourcePortBase, SourcePortBase+n-1, routed, SourceAddr(0), SourceAddr(c.Sources-1), float64(c.Rate)/float64(n))
}
