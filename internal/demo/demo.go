// Package demo runs coredns-custom with k8slint on loopback, sends it
// traffic shaped like real pods' lookups with the project's resolver
// simulator, and prints what the plugin saw. It needs no root and no
// cluster.
package demo

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/miekg/dns"

	"github.com/k8slint/k8slint/corefiles"
	"github.com/k8slint/k8slint/internal/resolvconf"
	"github.com/k8slint/k8slint/internal/resolver"
	"github.com/k8slint/k8slint/internal/testenv"
)

// lookup is one pod's lookups in the demo.
type lookup struct {
	who   string // what the pod is, for the table
	ns    string
	kind  resolver.Kind
	opts  []string // resolv.conf options besides ndots
	names []string
	times int
	lose  uint16 // lose this query type of the first pair (once)
}

var traffic = []lookup{
	{who: "checkout (glibc, ndots:5)", ns: "shop", kind: resolver.GLibc,
		names: []string{"api.stripe.com", "www.googleapis.com", "web", "api.payments"}, times: 6},
	{who: "ledger (musl/Alpine, ndots:5)", ns: "payments", kind: resolver.Musl,
		names: []string{"hooks.slack.com", "db.payments.svc.cluster.local"}, times: 4},
	{who: "reporter (glibc, single-request-reopen)", ns: "payments", kind: resolver.GLibc, opts: []string{"single-request-reopen"},
		names: []string{"s3.amazonaws.com"}, times: 2},
	{who: "batch (glibc, use-vc)", ns: "shop", kind: resolver.GLibc, opts: []string{"use-vc"},
		names: []string{"api.github.com."}, times: 2},
	{who: "cart (glibc, one AAAA lost in conntrack)", ns: "shop", kind: resolver.GLibc, opts: []string{"timeout:1"},
		names: []string{"api.stripe.com."}, times: 1, lose: dns.TypeAAAA},
	{who: "notifier (glibc, upstream down)", ns: "shop", kind: resolver.GLibc,
		names: []string{"api.dead.example."}, times: 12},
}

// Run starts the demo with the coredns-custom binary bin and writes the
// report to out. It stops every process it started before it returns.
func Run(ctx context.Context, bin string, out io.Writer) error {
	bin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	body, err := corefiles.Read("demo.Corefile")
	if err != nil {
		return err
	}
	rel, err := testenv.Relocate(body, "")
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "k8slint-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := corefiles.WriteSupport(dir); err != nil {
		return err
	}
	up, err := testenv.StartUpstream(testenv.Answer, rel.Port(15353))
	if err != nil {
		return err
	}
	defer up.Close()
	c, err := testenv.StartCoreDNS(bin, dir, rel.Corefile, 20*time.Second)
	if err != nil {
		return err
	}
	defer c.Stop()
	server := fmt.Sprintf("127.0.0.1:%d", rel.Port(1053))
	metricsAddr := fmt.Sprintf("127.0.0.1:%d", rel.Port(9253))
	fmt.Fprintf(out, "k8slint demo: coredns-custom (corefiles/demo.Corefile) on %s, metrics on http://%s/metrics\n", server, metricsAddr)
	fmt.Fprintf(out, "upstream stub on %s; dead.example forwards to 127.0.0.1:%d where nothing listens\n\n", up.Addr, rel.Port(15354))

	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "POD\tADDRESS\tNAMESPACE\tLOOKUPS\tQUERIES SENT\tFOUND")
	for pod, l := range traffic {
		// Each pod sends from its own loopback address, as pods have their
		// own IPs: k8slint keeps its state per client address.
		src := netip.AddrFrom4([4]byte{127, 0, 10, byte(pod + 1)})
		conf := resolvconf.Conf{
			Nameservers: []string{"127.0.0.1"},
			Search:      []string{l.ns + ".svc.cluster.local", "svc.cluster.local", "cluster.local"},
			Options:     []resolvconf.Option{{Name: "ndots", Value: "5"}},
		}
		for _, o := range l.opts {
			conf.Options = append(conf.Options, resolvconf.ParseOption(o))
		}
		sent, found, lookups := 0, 0, 0
		for i := 0; i < l.times; i++ {
			for _, n := range l.names {
				opts := resolver.Options{Timeout: 700 * time.Millisecond, Source: src}
				if i == 0 && l.lose != 0 {
					opts.Lose = l.lose
					opts.Timeout = time.Second
				}
				res, err := resolver.Send(ctx, server, l.kind, conf, n, opts)
				if err != nil && len(res.Sent) == 0 {
					return fmt.Errorf("%s: %s: %w", l.who, n, err)
				}
				lookups++
				for _, s := range res.Sent {
					if !s.Lost {
						sent++
					}
				}
				if res.Found {
					found++
				}
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d/%d\n", l.who, src, l.ns, lookups, sent, found, lookups)
	}
	tw.Flush()

	// Let the plugin judge storms and upstream health (2 s windows) and
	// log a worst-offenders report of a window that saw traffic (3 s).
	mark := len(c.Output())
	time.Sleep(2500 * time.Millisecond)
	for deadline := time.Now().Add(4 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if strings.Contains(c.Output()[mark:], "plugin/k8slint: report 1/") {
			break
		}
	}
	m, err := testenv.Scrape(metricsAddr)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "\nWhat k8slint saw (coredns_k8slint_* from /metrics):")
	report(out, m)
	fmt.Fprintln(out, "\nk8slint log lines (of the worst-offenders reports only the last):")
	for _, line := range lastReport(strings.Split(c.Output(), "\n")) {
		fmt.Fprintln(out, "  "+line)
	}
	if err := c.Stop(); err != nil {
		return err
	}
	fmt.Fprintln(out, "\ncoredns-custom stopped; demo done.")
	return nil
}

func report(out io.Writer, m testenv.Metrics) {
	const p = "coredns_k8slint_"
	nss := map[string]bool{}
	for _, f := range []string{"search_expansions_total", "wasted_nxdomain_total", "parallel_a_aaaa_total", "sequential_a_aaaa_total", "race_suspected_total", "storms_total"} {
		if fam, ok := m[p+f]; ok {
			for _, s := range fam.GetMetric() {
				for _, l := range s.GetLabel() {
					if l.GetName() == "namespace" {
						nss[l.GetValue()] = true
					}
				}
			}
		}
	}
	names := make([]string, 0, len(nss))
	for n := range nss {
		names = append(names, n)
	}
	sort.Strings(names)
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAMESPACE\tSEARCH EXPANSIONS\tWASTED NXDOMAIN\tSTORMS\tPARALLEL A/AAAA\tSEQUENTIAL same/new/tcp\tRACE SUSPECTED")
	for _, n := range names {
		ns := map[string]string{"namespace": n}
		seq := func(mode string) float64 {
			return m.Sum(p+"sequential_a_aaaa_total", map[string]string{"namespace": n, "mode": mode})
		}
		fmt.Fprintf(tw, "%s\t%g\t%g\t%g\t%g\t%g/%g/%g\t%g\n", n,
			m.Sum(p+"search_expansions_total", ns), m.Sum(p+"wasted_nxdomain_total", ns), m.Sum(p+"storms_total", ns),
			m.Sum(p+"parallel_a_aaaa_total", ns), seq("same_socket"), seq("new_socket"), seq("tcp"),
			m.Sum(p+"race_suspected_total", ns))
	}
	tw.Flush()
	var fails []string
	if fam, ok := m[p+"upstream_failures_total"]; ok {
		for _, s := range fam.GetMetric() {
			if v := s.GetCounter().GetValue(); v > 0 {
				for _, l := range s.GetLabel() {
					if l.GetName() == "reason" {
						fails = append(fails, fmt.Sprintf("%s=%g", l.GetValue(), v))
					}
				}
			}
		}
	}
	sort.Strings(fails)
	fmt.Fprintf(out, "upstream failures: %s; upstream degraded (any server): %g\n", orNone(fails), max1(m, p+"upstream_degraded"))
	fmt.Fprintf(out, "race retry delays observed: %g; tracked clients: %g\n",
		m.Sum(p+"race_retry_delay_seconds", nil), max1(m, p+"tracked_clients"))
}

func orNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}

func max1(m testenv.Metrics, name string) float64 {
	best := 0.0
	if fam, ok := m[name]; ok {
		for _, s := range fam.GetMetric() {
			best = max(best, s.GetGauge().GetValue())
		}
	}
	return best
}

// lastReport keeps the plugin's log lines, dropping every worst-offenders
// report but the last one.
func lastReport(lines []string) []string {
	last := -1
	for i, l := range lines {
		if strings.Contains(l, "plugin/k8slint: report on ") {
			last = i
		}
	}
	var out []string
	for i, l := range lines {
		if !strings.Contains(l, "plugin/k8slint") {
			continue
		}
		if strings.Contains(l, "plugin/k8slint: report") && i < last {
			continue
		}
		out = append(out, l)
	}
	return out
}
