// Command k8slint-dnsbench runs dnsperf against coredns-custom with and
// without k8slint and prints the ratios (the dnsperf part of make bench):
// by default in both shapes of load, from 64 client addresses and from one
// client sending everything, then both ratios together.
//
// Exit codes: 0 the bench ran (whether or not the target was met), 1 it
// could not run, 2 bad flags.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/k8slint/k8slint/internal/dnsbench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfgs, err := parseFlags(args, stderr)
	if err != nil {
		return 2
	}
	var results []*dnsbench.Result
	for i, cfg := range cfgs {
		cfg.Progress = stderr
		res, err := dnsbench.Bench(ctx, cfg)
		if err != nil {
			fmt.Fprintln(stderr, "k8slint-dnsbench:", err)
			return 1
		}
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		if err := res.Report(stdout); err != nil {
			fmt.Fprintln(stderr, "k8slint-dnsbench:", err)
			return 1
		}
		results = append(results, res)
	}
	if len(results) > 1 && !cfgs[0].Control && cfgs[0].Against == "" {
		fmt.Fprintln(stdout)
		dnsbench.Summary(stdout, results)
	}
	return 0
}

// Shape names for -shape.
const (
	shapeAddresses = "addresses"
	shapeOneClient = "one-client"
	shapeBoth      = "both"
)

func parseFlags(args []string, stderr io.Writer) ([]dnsbench.Config, error) {
	cfg := dnsbench.DefaultConfig()
	shape := shapeBoth
	fs := flag.NewFlagSet("k8slint-dnsbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Binary, "coredns", "bin/coredns-custom", "the coredns-custom binary")
	fs.IntVar(&cfg.Rounds, "rounds", cfg.Rounds, "rounds; each runs both variants at the fixed rate (25 give the median CPU ratio a 95% interval)")
	fs.IntVar(&cfg.Pairs, "pairs", cfg.Pairs, "how many times the two CoreDNS processes are started afresh, the rounds split among them; the verdict's interval is over the pairs' median ratios (1: once, over the rounds)")
	fs.IntVar(&cfg.SaturatedRounds, "saturated-rounds", cfg.SaturatedRounds, "how many of the first rounds also run both variants saturated")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "length of each dnsperf run")
	fs.IntVar(&cfg.Rate, "rate", cfg.Rate, "queries per second offered in the fixed-rate runs, at most (see -headroom)")
	fs.Float64Var(&cfg.Headroom, "headroom", cfg.Headroom, "lower the fixed rate to this fraction of what CoreDNS answers saturated, measured before the rounds, where -rate is above it (0: offer -rate whatever the machine)")
	fs.StringVar(&shape, "shape", shape, "load shape: addresses (-sources client addresses, each one or more of dnsperf's sockets, each socket sending the mix in order, as from pods), one-client (one dnsperf from 127.0.0.1 with 8 sockets, as behind NodeLocal DNSCache), or both, one after the other")
	fs.IntVar(&cfg.Sources, "sources", cfg.Sources, "with -shape addresses: the client addresses k8slint sees (127.0.30.1, ...), each one or more of dnsperf's sockets, routed by local port; 1 is 127.0.0.1")
	fs.IntVar(&cfg.Clients, "clients", cfg.Clients, "with -shape addresses: sockets dnsperf sends from (at least one per source)")
	fs.IntVar(&cfg.Outstanding, "outstanding", cfg.Outstanding, "queries dnsperf keeps in flight at most")
	fs.DurationVar(&cfg.Profile, "profile", cfg.Profile, "length of the CPU profile of CoreDNS with k8slint taken after the rounds, at the fixed rate, to measure k8slint's part of its CPU (0: none)")
	fs.StringVar(&cfg.ProfileDir, "profile-dir", "", "write each shape's profile to this directory (made if missing) as k8slint-<shape>.pprof, with a profile of the process without k8slint as without-<shape>.pprof, for go tool pprof (-diff_base)")
	fs.BoolVar(&cfg.Pin, "pin", cfg.Pin, "run the CoreDNS processes on one CPU of their own (the last this process may use) and dnsperf on the others; needs two CPUs")
	fs.BoolVar(&cfg.Control, "control", false, "A/A control: run both processes without k8slint, to see the noise")
	fs.StringVar(&cfg.Against, "against", "", "A/B: another coredns-custom binary, which the process \"without\" runs, both with k8slint: the ratios compare the two builds")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "k8slint-dnsbench: unexpected argument %q\n", fs.Arg(0))
		return nil, fmt.Errorf("unexpected argument")
	}
	if cfg.Rounds < 1 || cfg.Duration <= 0 || cfg.Rate < 1 || cfg.Clients < 1 || cfg.Outstanding < 1 {
		fmt.Fprintln(stderr, "k8slint-dnsbench: -rounds, -duration, -rate, -clients and -outstanding must be positive")
		return nil, fmt.Errorf("invalid flags")
	}
	if !(cfg.Headroom >= 0 && cfg.Headroom <= 1) {
		fmt.Fprintln(stderr, "k8slint-dnsbench: -headroom must be 0 to 1")
		return nil, fmt.Errorf("invalid flags")
	}
	if cfg.SaturatedRounds < 0 || cfg.Pairs < 0 {
		fmt.Fprintln(stderr, "k8slint-dnsbench: -saturated-rounds and -pairs must not be negative")
		return nil, fmt.Errorf("invalid flags")
	}
	if cfg.Sources < 1 || cfg.Sources > dnsbench.MaxSockets || cfg.Clients > dnsbench.MaxSockets {
		fmt.Fprintf(stderr, "k8slint-dnsbench: -sources and -clients must be 1 to %d (dnsperf's sockets per thread)\n", dnsbench.MaxSockets)
		return nil, fmt.Errorf("invalid flags")
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if (set["sources"] || set["clients"]) && shape != shapeAddresses {
		fmt.Fprintln(stderr, "k8slint-dnsbench: -sources and -clients go with -shape addresses")
		return nil, fmt.Errorf("invalid flags")
	}
	switch shape {
	case shapeAddresses:
		return []dnsbench.Config{cfg}, nil
	case shapeOneClient:
		return []dnsbench.Config{dnsbench.OneClient(cfg)}, nil
	case shapeBoth:
		return dnsbench.Shapes(cfg), nil
	}
	fmt.Fprintf(stderr, "k8slint-dnsbench: -shape must be %s, %s or %s, not %q\n", shapeAddresses, shapeOneClient, shapeBoth, shape)
	return nil, fmt.Errorf("invalid flags")
}
