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

	"github.com/k8slint/k8slint/internal/testenv"
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
	Port        int
	Datafile    string
	Duration    time.Duration
	Rate        int // queries per second offered; 0: as fast as answers come
	Clients     int // sockets dnsperf sends from, in turn (at most MaxSockets)
	Outstanding int // queries in flight at most
	// LocalPort is the local port of the first socket; dnsperf binds the
	// next ones to the ports after it (0: ports the kernel picks).
	LocalPort int
	Verbose   bool
	// CPUs are the CPUs dnsperf runs on, as taskset lists them ("": any).
	CPUs string
}

func (a perfArgs) list() []string {
	args := []string{"-s", "127.0.0.1", "-p", strconv.Itoa(a.Port), "-d", a.Datafile,
		"-l", strconv.FormatFloat(a.Duration.Seconds(), 'f', -1, 64),
		"-c", strconv.Itoa(a.Clients), "-q", strconv.Itoa(a.Outstanding), "-t", "2", "-T", "1"}
	if a.LocalPort > 0 {
		args = append(args, "-x", strconv.Itoa(a.LocalPort))
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

// MaxSockets is the most sockets one dnsperf thread sends from (its
// MAX_SOCKETS; asked for more, it takes that many and warns).
const MaxSockets = 256

// loadResult is what the dnsperf process of one load reports.
type loadResult struct {
	perfResult
	// CPU is the CPU time (user and system) the dnsperf process used.
	CPU time.Duration
}

// runLoad runs dnsperf with a inside ns to completion and reads its report.
func runLoad(ctx context.Context, ns *testenv.Netns, path string, a perfArgs) (*loadResult, error) {
	name, args := testenv.OnCPUs(a.CPUs, path, a.list()...)
	cmd := ns.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Start()
	if err == nil && a.CPUs != "" {
		if perr := waitRunsOn(cmd.Process.Pid, path, a.CPUs); perr != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return nil, fmt.Errorf("dnsperf: %w", perr)
		}
	}
	if err == nil {
		err = cmd.Wait()
	}
	res := &loadResult{}
	if cmd.ProcessState != nil {
		res.CPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if err != nil {
		return nil, fmt.Errorf("dnsperf %s: %v\n%s%s", strings.Join(a.list(), " "), err, stderr.String(), tail(stdout.String(), 2000))
	}
	r, err := parseDNSPerf(&stdout)
	if err != nil {
		return nil, fmt.Errorf("dnsperf %s: %v\n%s", strings.Join(a.list(), " "), err, tail(stdout.String(), 2000))
	}
	res.perfResult = *r
	return res, nil
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
