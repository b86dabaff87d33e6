// Command k8slint-dnsbench runs dnsperf against coredns-custom with and
// without k8slint and prints the ratios (the dnsperf part of make bench).
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
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return 2
	}
	cfg.Progress = stderr
	res, err := dnsbench.Bench(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "k8slint-dnsbench:", err)
		return 1
	}
	if err := res.Report(stdout); err != nil {
		fmt.Fprintln(stderr, "k8slint-dnsbench:", err)
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (dnsbench.Config, error) {
	cfg := dnsbench.DefaultConfig()
	fs := flag.NewFlagSet("k8slint-dnsbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Binary, "coredns", "bin/coredns-custom", "the coredns-custom binary")
	fs.IntVar(&cfg.Rounds, "rounds", cfg.Rounds, "rounds; each runs both variants at the fixed rate and saturated")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "length of each dnsperf run")
	fs.IntVar(&cfg.Rate, "rate", cfg.Rate, "queries per second offered in the fixed-rate runs")
	fs.IntVar(&cfg.Sources, "sources", cfg.Sources, "dnsperf processes run at once, each from its own loopback address (127.0.30.1, ...): the client addresses k8slint sees; 1 is one process from one address")
	fs.IntVar(&cfg.Clients, "clients", cfg.Clients, "sockets dnsperf sends from, over all sources (at least one each)")
	fs.IntVar(&cfg.Outstanding, "outstanding", cfg.Outstanding, "queries dnsperf keeps in flight at most, over all sources (at least 4 each)")
	fs.BoolVar(&cfg.Control, "control", false, "A/A control: run both processes without k8slint, to see the noise")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "k8slint-dnsbench: unexpected argument %q\n", fs.Arg(0))
		return cfg, fmt.Errorf("unexpected argument")
	}
	if cfg.Rounds < 1 || cfg.Duration <= 0 || cfg.Rate < 1 || cfg.Clients < 1 || cfg.Outstanding < 1 {
		fmt.Fprintln(stderr, "k8slint-dnsbench: -rounds, -duration, -rate, -clients and -outstanding must be positive")
		return cfg, fmt.Errorf("invalid flags")
	}
	if cfg.Sources < 1 || cfg.Sources > dnsbench.MaxSources || cfg.Sources > cfg.Rate {
		fmt.Fprintf(stderr, "k8slint-dnsbench: -sources must be 1 to %d and at most -rate\n", dnsbench.MaxSources)
		return cfg, fmt.Errorf("invalid flags")
	}
	return cfg, nil
}
