package dnsbench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// perfResult is what one dnsperf run reports.
type perfResult struct {
	Sent, Completed, Lost int
	RunTime               float64 // seconds
	QPS                   float64 // completed queries per second
	Rcodes                map[string]int
	// Latencies are the answered queries' latencies in seconds, from -v
	// output (nil without it).
	Latencies []float64
}

// perfArgs are the settings of one dnsperf process.
type perfArgs struct {
	Source      string // local address to send from ("": the kernel's choice, 127.0.0.1)
	Port        int
	Datafile    string
	Duration    time.Duration
	Rate        int // queries per second offered; 0: as fast as answers come
	Clients     int // sockets dnsperf sends from
	Outstanding int // queries in flight at most
	Verbose     bool
}

func (a perfArgs) list() []string {
	args := []string{"-s", "127.0.0.1", "-p", strconv.Itoa(a.Port), "-d", a.Datafile,
		"-l", strconv.FormatFloat(a.Duration.Seconds(), 'f', -1, 64),
		"-c", strconv.Itoa(a.Clients), "-q", strconv.Itoa(a.Outstanding), "-t", "2", "-T", "1"}
	if a.Source != "" {
		args = append(args, "-a", a.Source)
	}
	if a.Rate > 0 {
		args = append(args, "-Q", strconv.Itoa(a.Rate))
	}
	if a.Verbose {
		args = append(args, "-v")
	}
	return args
}

// DNSPerfPath returns the dnsperf on PATH, or an error that says how to
// install it.
func DNSPerfPath() (string, error) {
	p, err := exec.LookPath("dnsperf")
	if err != nil {
		return "", errors.New("dnsperf not found on PATH: install it (Debian/Ubuntu: apt-get install dnsperf)")
	}
	return p, nil
}

// SourceAddr returns the loopback address source i (from 0) sends from:
// 127.0.30.1 to 127.0.30.250, then 127.0.31.1 and on. All of 127/8 is
// local on Linux, so dnsperf can bind any of them without setup.
func SourceAddr(i int) string {
	return fmt.Sprintf("127.0.%d.%d", 30+i/250, i%250+1)
}

// MaxSources is the most dnsperf processes the bench runs at once.
const MaxSources = 1000

// share returns source i's part of total split over n sources, the
// remainder going to the first ones, and at least min.
func share(total, n, i, min int) int {
	s := total / n
	if i < total%n {
		s++
	}
	return max(s, min)
}

// minInFlight is the fewest queries a dnsperf process may keep in flight.
// With one thread per process and 64 processes on two cores, dnsperf's own
// threads wait milliseconds for the CPU: at 2 in flight each, 64 sources
// answered about 10,000 of the 20,000 qps offered (p99 18 ms); at 4 each
// they answered the full rate.
const minInFlight = 4

// loadArgs splits one load over n dnsperf processes, one per source
// address: each offers its share of the rate (0 stays 0: saturated) and
// has its share of the sockets (at least one) and of the queries in
// flight (at least minInFlight). A single process sends from 127.0.0.1,
// like the answer check: then CoreDNS sees one client.
func loadArgs(a perfArgs, n int) []perfArgs {
	if n == 1 {
		return []perfArgs{a}
	}
	out := make([]perfArgs, n)
	for i := range out {
		b := a
		b.Source = SourceAddr(i)
		if a.Rate > 0 {
			b.Rate = share(a.Rate, n, i, 1)
		}
		b.Clients = share(a.Clients, n, i, 1)
		b.Outstanding = share(a.Outstanding, n, i, min(minInFlight, a.Outstanding))
		out[i] = b
	}
	return out
}

// loadResult is what the dnsperf processes of one load report together.
type loadResult struct {
	perfResult
	// CPU is the CPU time (user and system) all dnsperf processes used.
	CPU time.Duration
}

// runLoad runs one dnsperf process per args, all at once, to completion,
// and sums their reports: queries and per-second rates add up, the run
// time is the longest, the latencies are the union of all processes'.
func runLoad(ctx context.Context, path string, args []perfArgs) (*loadResult, error) {
	ctx, cancel := context.WithCancel(ctx) // on an error, stops the processes still running
	type proc struct {
		cmd            *exec.Cmd
		stdout, stderr bytes.Buffer
	}
	procs := make([]*proc, len(args))
	var started []*proc
	defer func() {
		cancel()
		for _, p := range started {
			if p.cmd.ProcessState == nil {
				_ = p.cmd.Wait()
			}
		}
	}()
	for i, a := range args {
		p := &proc{cmd: exec.CommandContext(ctx, path, a.list()...)}
		p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
		if err := p.cmd.Start(); err != nil {
			return nil, fmt.Errorf("dnsperf %s: %v", strings.Join(a.list(), " "), err)
		}
		procs[i] = p
		started = append(started, p)
	}
	res := &loadResult{perfResult: perfResult{Rcodes: map[string]int{}}}
	var firstErr error
	for i, p := range procs {
		err := p.cmd.Wait()
		if p.cmd.ProcessState != nil {
			res.CPU += p.cmd.ProcessState.UserTime() + p.cmd.ProcessState.SystemTime()
		}
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("dnsperf %s: %v\n%s%s", strings.Join(args[i].list(), " "), err, p.stderr.String(), tail(p.stdout.String(), 2000))
				cancel()
			}
			continue
		}
		r, err := parseDNSPerf(&p.stdout)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("dnsperf %s: %v\n%s", strings.Join(args[i].list(), " "), err, tail(p.stdout.String(), 2000))
				cancel()
			}
			continue
		}
		res.add(r)
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return res, nil
}

// add sums one process's report into r.
func (r *loadResult) add(p *perfResult) {
	r.Sent += p.Sent
	r.Completed += p.Completed
	r.Lost += p.Lost
	r.RunTime = max(r.RunTime, p.RunTime)
	r.QPS += p.QPS
	for k, v := range p.Rcodes {
		r.Rcodes[k] += v
	}
	r.Latencies = append(r.Latencies, p.Latencies...)
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// parseDNSPerf reads dnsperf 2.x output: the "Statistics:" block and, with
// -v, one line per query: "> RCODE NAME TYPE LATENCY".
func parseDNSPerf(r io.Reader) (*perfResult, error) {
	res := &perfResult{Rcodes: map[string]int{}}
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "> "); ok {
			f := strings.Fields(rest)
			if len(f) < 4 {
				continue
			}
			lat, err := strconv.ParseFloat(f[len(f)-1], 64)
			if err != nil || f[0] == "T" { // a timed-out query has no latency
				continue
			}
			res.Latencies = append(res.Latencies, lat)
			continue
		}
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		first := strings.Fields(val + " ")
		var err error
		switch key {
		case "Queries sent":
			res.Sent, err = strconv.Atoi(first[0])
		case "Queries completed":
			res.Completed, err = strconv.Atoi(first[0])
		case "Queries lost":
			res.Lost, err = strconv.Atoi(first[0])
		case "Run time (s)":
			res.RunTime, err = strconv.ParseFloat(first[0], 64)
		case "Queries per second":
			res.QPS, err = strconv.ParseFloat(first[0], 64)
		case "Response codes":
			// "NOERROR 50 (50.00%), NXDOMAIN 50 (50.00%)"
			for _, part := range strings.Split(val, ",") {
				w := strings.Fields(part)
				if len(w) < 2 {
					continue
				}
				n, e := strconv.Atoi(w[1])
				if e != nil {
					err = e
					break
				}
				res.Rcodes[w[0]] = n
			}
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%q: %v", line, err)
		}
		seen[key] = true
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, k := range []string{"Queries sent", "Queries completed", "Run time (s)", "Queries per second"} {
		if !seen[k] {
			return nil, fmt.Errorf("no %q in the output", k)
		}
	}
	return res, nil
}

// quantile returns the q-quantile (0 < q <= 1) of xs by the nearest-rank
// method, or NaN for no values. It sorts xs.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	slices.Sort(xs)
	i := int(math.Ceil(q*float64(len(xs)))) - 1
	return xs[max(0, min(i, len(xs)-1))]
}

// median returns the median of xs (the mean of the middle two for an even
// count), or NaN for none. It does not change xs.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
