package test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/k8slint/k8slint/internal/testenv"
)

// The ground truth for k8slint's metrics: the custom CoreDNS runs with
// k8slint inside a network namespace, real resolvers (glibc's getent and a
// musl-built getaddrinfo program) look names up through it, and for every
// lookup the test computes what each metric must move from evidence the
// detector never sees: the log plugin's line per received query (name,
// type, port, ID, rcode), the errors plugin's line per failed forward, a
// tcpdump capture of the namespace's port 53 (nanosecond timestamps, source
// ports, what was sent but dropped on input), the firewall rule's drop
// counter, and what the resolver was told (its search list and the name
// asked). The definitions applied are those of plugin/k8slint/README.md.

const groundTruthCorefile = `.:53 {
    bind 127.0.0.1
    errors
    log
    prometheus 127.0.0.1:9153
    k8slint
    template ANY ANY nx.example svc default web shop {
        rcode NXDOMAIN
    }
    file ZONE cluster.local
    forward servfail.example 127.0.0.1:5302 {
        max_fails 0
    }
    forward silent.example 127.0.0.1:5303 {
        max_fails 0
    }
    forward closed.example 127.0.0.1:5304 {
        max_fails 0
    }
    forward . 127.0.0.1:5301 {
        max_fails 0
    }
}
`

// gtSearch is the search list kubelet writes for a pod in namespace shop.
var gtSearch = []string{"shop.svc.cluster.local", "svc.cluster.local", "cluster.local"}

// gtEnv is the namespace with CoreDNS, the stub upstreams and the capture.
type gtEnv struct {
	ns      *testenv.Netns
	coreDNS *testenv.CoreDNS
	capture *capture
	musl    string
	up      map[string]*testenv.Upstream

	logOff  int // bytes of CoreDNS output already consumed
	wireOff int // capture messages already consumed
	metrics map[string]float64
}

func newGTEnv(t *testing.T) *gtEnv {
	t.Helper()
	if err := testenv.NetnsSupport(); err != nil {
		t.Skip(err)
	}
	for _, tool := range []string{"getent", "musl-gcc", "tcpdump", "iptables"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	bin := coreDNSBinary(t)
	dir := t.TempDir()
	e := &gtEnv{musl: buildMusl(t, dir), up: map[string]*testenv.Upstream{}}
	e.ns = newNetns(t, "k8slint-gt")
	for name, u := range map[string]struct {
		mode testenv.UpstreamMode
		port int
	}{"ok": {testenv.Answer, 5301}, "servfail": {testenv.ServFail, 5302}, "silent": {testenv.Silent, 5303}} {
		up, err := e.ns.StartUpstream(u.mode, u.port)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(up.Close)
		e.up[name] = up
	}
	zone, err := filepath.Abs("testdata/resolvers/cluster.local.db")
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.ns.StartCoreDNS(bin, dir, strings.ReplaceAll(groundTruthCorefile, "ZONE", zone), 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop() })
	e.coreDNS = c
	e.capture, err = startCapture(e.ns, filepath.Join(dir, "dns.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.capture.Stop() })
	e.metrics = e.scrape(t)
	return e
}

func (e *gtEnv) scrape(t *testing.T) map[string]float64 {
	t.Helper()
	m, err := e.ns.Scrape("127.0.0.1:9153")
	if err != nil {
		t.Fatal(err)
	}
	return k8slintCounters(m)
}

// k8slintCounters flattens the plugin's counters (and histogram counts,
// as NAME_count) into "name{label=value,...}" keys, without the server
// label (one server here). Gauges are left out: they are not per lookup.
func k8slintCounters(m testenv.Metrics) map[string]float64 {
	out := map[string]float64{}
	for name, f := range m {
		if !strings.HasPrefix(name, "coredns_k8slint_") {
			continue
		}
		for _, s := range f.GetMetric() {
			var ls []string
			for _, l := range s.GetLabel() {
				if l.GetName() != "server" {
					ls = append(ls, l.GetName()+"="+l.GetValue())
				}
			}
			key := strings.TrimPrefix(name, "coredns_k8slint_") + "{" + strings.Join(ls, ",") + "}"
			switch {
			case s.Counter != nil:
				out[key] = s.GetCounter().GetValue()
			case s.Histogram != nil:
				out[strings.TrimPrefix(name, "coredns_k8slint_")+"_count{"+strings.Join(ls, ",")+"}"] = float64(s.GetHistogram().GetSampleCount())
				out[strings.TrimPrefix(name, "coredns_k8slint_")+"_sum{"+strings.Join(ls, ",")+"}"] = s.GetHistogram().GetSampleSum()
			}
		}
	}
	return out
}

// errLine matches the errors plugin: "[ERROR] plugin/errors: 2 NAME. A: ERR".
var errLine = regexp.MustCompile(`\[ERROR\] plugin/errors: \d+ (\S+) (\S+): (.*)`)

// observed is what one lookup left behind.
type observed struct {
	out      string // the resolver's output
	logged   []logged
	errs     [][]string // name, type, error text
	wire     []wireMsg
	received []bool // per wire message: a query that reached CoreDNS (has a log line)
	drops    int
	deltas   map[string]float64
}

// run runs cmd (a resolver in the namespace), waits until every query it
// sent is answered and logged (drops: the firewall's counter, read by
// drops()), and returns the evidence and the metric deltas.
func (e *gtEnv) run(t *testing.T, cmd *exec.Cmd, drops func() int, wait time.Duration) observed {
	t.Helper()
	var o observed
	done := make(chan struct{})
	go func() {
		out, _ := cmd.CombinedOutput() // a failed lookup exits non-zero
		o.out = strings.TrimSpace(string(out))
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%v did not end", cmd.Args)
	}
	deadline := time.Now().Add(wait)
	lastLog, lastWire := -1, -1
	for {
		out := e.coreDNS.Output()[e.logOff:]
		// Only whole lines: CoreDNS may be writing the next one.
		out = out[:strings.LastIndexByte(out, '\n')+1]
		all, err := e.capture.read()
		if err != nil {
			t.Fatal(err)
		}
		wire := all[e.wireOff:]
		o.logged, o.errs = parseLog(out), nil
		for _, m := range errLine.FindAllStringSubmatch(out, -1) {
			o.errs = append(o.errs, m[1:])
		}
		if drops != nil {
			o.drops = drops()
		}
		o.wire = wire
		unmatched, unseen := o.match()
		stable := len(o.logged) == lastLog && len(wire) == lastWire
		lastLog, lastWire = len(o.logged), len(wire)
		if (stable && len(o.logged) > 0 && unseen == 0 && unmatched == o.drops && o.answered()) || time.Now().After(deadline) {
			if unmatched != o.drops || unseen != 0 || !o.answered() {
				t.Errorf("%d queries on the wire have no log line, %d dropped by the firewall; %d logged queries not on the wire; all answered: %v\n%s",
					unmatched, o.drops, unseen, o.answered(), o.show())
			}
			e.logOff += len(out)
			e.wireOff += len(wire)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	now := e.scrape(t)
	o.deltas = map[string]float64{}
	for k, v := range now {
		if d := v - e.metrics[k]; d != 0 {
			o.deltas[k] = d
		}
	}
	e.metrics = now
	return o
}

// match pairs every query on the wire with a log line (proto, port, ID,
// type, name) and returns how many queries have none, and how many log
// lines have no query (the capture is behind, or lost packets).
func (o *observed) match() (unmatched, unseen int) {
	key := func(tcp bool, port int, id uint16, qtype, name string) string {
		return fmt.Sprintf("%v %d %d %s %s", tcp, port, id, qtype, strings.ToLower(name))
	}
	left := map[string]int{}
	for _, l := range o.logged {
		left[key(l.proto == "tcp", atoi(l.port), uint16(atoi(l.id)), l.qtype, l.name)]++
	}
	// Of identical queries (a retransmission with the same ID from the
	// same port), the later ones are taken as received: the firewall
	// rules here drop the first packet that matches.
	o.received = make([]bool, len(o.wire))
	for i := len(o.wire) - 1; i >= 0; i-- {
		m := o.wire[i]
		if !m.query {
			continue
		}
		k := key(m.tcp, m.client, m.id, dns.TypeToString[m.qtype], m.name)
		if left[k] > 0 {
			left[k]--
			o.received[i] = true
		} else {
			unmatched++
		}
	}
	for _, n := range left {
		unseen += n
	}
	return unmatched, unseen
}

// answered reports whether every received query has its answer on the
// wire.
func (o *observed) answered() bool {
	return len(o.answers()) == len(slices.DeleteFunc(slices.Clone(o.received), func(b bool) bool { return !b }))
}

// answers maps each received query (index in wire) to the index of its
// answer.
func (o *observed) answers() map[int]int {
	res := map[int]int{}
	used := map[int]bool{}
	for i, q := range o.wire {
		if !o.received[i] {
			continue
		}
		for j := i + 1; j < len(o.wire); j++ {
			a := o.wire[j]
			if !a.query && !used[j] && a.tcp == q.tcp && a.client == q.client && a.id == q.id && a.qtype == q.qtype && a.name == q.name {
				res[i], used[j] = j, true
				break
			}
		}
	}
	return res
}

func (o *observed) show() string {
	var b strings.Builder
	fmt.Fprintf(&b, "resolver printed: %s\nwire:\n", o.out)
	for _, m := range o.wire {
		fmt.Fprintf(&b, "  %s\n", m)
	}
	b.WriteString("logged:\n")
	for _, l := range o.logged {
		fmt.Fprintf(&b, "  %s %s %s:%s id %s %s\n", l.qtype, l.name, l.proto, l.port, l.id, l.rcode)
	}
	var ds []string
	for k, v := range o.deltas {
		ds = append(ds, fmt.Sprintf("%s %+g", k, v))
	}
	sort.Strings(ds)
	fmt.Fprintf(&b, "metric deltas: %s", strings.Join(ds, ", "))
	return b.String()
}

// expectSearch applies the README's definition of a search expansion to
// the queries a lookup of name really sent, knowing the client's search
// list (whose first three entries are the cluster's): the walk opens at
// the first of the cluster's candidates answered NXDOMAIN when base has a
// dot, and is confirmed when a later candidate or the bare name follows
// it; then every candidate query from the opening one on counts, and each
// answered NXDOMAIN is wasted.
func expectSearch(name string, search []string, qs []logged) (expansions, wasted int) {
	if strings.HasSuffix(name, ".") {
		return 0, 0 // absolute: no candidate is ever built
	}
	base := strings.ToLower(name)
	if !strings.Contains(base, ".") {
		return 0, 0 // a short service name: searching is how it resolves
	}
	cand := map[string]int{}
	for i, s := range search {
		cand[base+"."+s+"."] = i
	}
	opened, confirmed := -1, false
	for _, q := range qs {
		i, ok := cand[strings.ToLower(q.name)]
		switch {
		case opened < 0 && ok && i < 3 && q.rcode == "NXDOMAIN":
			// Only an NXDOMAIN candidate opens a walk (README,
			// "Search-path expansion"): one answered with records ends
			// the search, also when the server logs it before the bare
			// name asked earlier (ndots:1, web-0.web: both in flight).
			opened = i
		case opened >= 0 && (ok && i > opened || strings.ToLower(q.name) == base+"."):
			confirmed = true
		}
	}
	if !confirmed {
		return 0, 0
	}
	for _, q := range qs {
		if i, ok := cand[strings.ToLower(q.name)]; ok && i >= opened {
			expansions++
			if q.rcode == "NXDOMAIN" {
				wasted++
			}
		}
	}
	return expansions, wasted
}

// pairGap and the pairing rule are the README's: an A and an AAAA for the
// same name from the same client form a pair when the second arrives while
// the first is unanswered or within 90 ms of its answer. The mode is read
// from the wire: the same UDP port with the second sent before the first's
// answer went out is parallel; after it, same_socket; another port after
// the answer, new_socket; both over TCP, tcp.
const wirePairGap = 90 * time.Millisecond

type wirePair struct {
	mode        string // parallel, same_socket, new_socket, tcp, or "" (two sockets at once)
	first, next wireMsg
	answer      time.Duration // the first's answer, 0 if none yet when next was sent
}

func (o *observed) pairs() []wirePair {
	ans := o.answers()
	paired := map[int]bool{}
	var ps []wirePair
	for j, q := range o.wire {
		if !o.received[j] || (q.qtype != dns.TypeA && q.qtype != dns.TypeAAAA) {
			continue
		}
		for i := 0; i < j; i++ {
			e := o.wire[i]
			if !o.received[i] || paired[i] || e.name != q.name || e.tcp != q.tcp ||
				(e.qtype != dns.TypeA && e.qtype != dns.TypeAAAA) || e.qtype == q.qtype {
				continue
			}
			var answer time.Duration
			if a, ok := ans[i]; ok && o.wire[a].at <= q.at {
				answer = o.wire[a].at
			}
			if answer != 0 && q.at-answer > wirePairGap {
				continue
			}
			p := wirePair{first: e, next: q, answer: answer}
			switch {
			case q.tcp:
				p.mode = "tcp"
			case e.client == q.client && answer == 0:
				p.mode = "parallel"
			case e.client == q.client:
				p.mode = "same_socket"
			case answer != 0:
				p.mode = "new_socket"
			}
			paired[i], paired[j] = true, true
			ps = append(ps, p)
			break
		}
	}
	return ps
}

// expected is the metric deltas a lookup must cause, keyed as
// k8slintCounters keys them; pair and race counts are summed over
// namespaces (a pair seen before the client's namespace is known is
// _unknown).
func (o *observed) expected(name string, search []string) map[string]float64 {
	want := map[string]float64{}
	if x, w := expectSearch(name, search, o.logged); x > 0 {
		want["search_expansions_total{namespace=shop}"] = float64(x)
		if w > 0 {
			want["wasted_nxdomain_total{namespace=shop}"] = float64(w)
		}
	}
	for _, p := range o.pairs() {
		switch p.mode {
		case "parallel", "same_socket":
			want[oneUDPSocket]++
		case "new_socket", "tcp":
			want["sequential_a_aaaa_total{mode="+p.mode+"}"]++
		}
	}
	return want
}

// oneUDPSocket is the sum of parallel_a_aaaa_total and
// sequential_a_aaaa_total{mode=same_socket}: pairs from one UDP socket.
// Which of the two a pair lands in is decided by timing the server cannot
// measure reliably (see TestGroundTruthFromRealResolvers); the sum is
// exact.
const oneUDPSocket = "a_aaaa_pairs_from_one_udp_socket"

// foldDeltas sums pair and race counts over the namespace label and
// leaves out the retry delay's sum (compared with a tolerance).
func foldDeltas(d map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range d {
		if strings.HasPrefix(k, "parallel_") || strings.HasPrefix(k, "sequential_") || strings.HasPrefix(k, "race_suspected") {
			name, labels, _ := strings.Cut(strings.TrimSuffix(k, "}"), "{")
			var keep []string
			for _, l := range strings.Split(labels, ",") {
				if l != "" && !strings.HasPrefix(l, "namespace=") {
					keep = append(keep, l)
				}
			}
			k = name
			if len(keep) > 0 {
				k += "{" + strings.Join(keep, ",") + "}"
			}
		}
		switch {
		case strings.HasPrefix(k, "race_retry_delay_seconds_sum"):
			continue
		case k == "parallel_a_aaaa_total" || k == "sequential_a_aaaa_total{mode=same_socket}":
			k = oneUDPSocket
		}
		out[k] += v
	}
	return out
}

func diffDeltas(want, got map[string]float64) string {
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var bad []string
	for _, k := range keys {
		if want[k] != got[k] {
			bad = append(bad, fmt.Sprintf("%s: want %+g, got %+g", k, want[k], got[k]))
		}
	}
	return strings.Join(bad, "; ")
}

// gaps collects, per pair mode, the time between the two queries on the
// wire, and for sequential pairs the time from the first answer to the
// second query: the numbers behind the plugin's 50 µs parallel window.
type gaps map[string][]time.Duration

func (g gaps) add(intent string, ps []wirePair) {
	for _, p := range ps {
		k := "resolver sends " + intent + ", on the wire " + p.mode
		g[k+": query to query"] = append(g[k+": query to query"], p.next.at-p.first.at)
		if p.answer != 0 {
			g[k+": answer to next query"] = append(g[k+": answer to next query"], p.next.at-p.answer)
		}
	}
}

// intent is how the resolver sends a pair, by its code: glibc with
// sendmmsg (both queries in one system call) unless told otherwise, musl
// always both at once from one socket, whatever the options.
func intent(kind, opt string) string {
	switch {
	case kind == "musl" || opt == "":
		return "parallel"
	case opt == " single-request":
		return "same_socket"
	case opt == " single-request-reopen":
		return "new_socket"
	default:
		return "tcp"
	}
}

func (g gaps) report(t *testing.T) {
	var keys []string
	for k := range g {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		d := g[k]
		slices.Sort(d)
		t.Logf("wire gap, %s: n=%d min %v p50 %v p99 %v max %v", k, len(d), d[0], d[len(d)/2], d[len(d)*99/100], d[len(d)-1])
	}
}

func (e *gtEnv) resolverCommand(kind, name string) *exec.Cmd {
	if kind == "musl" {
		return e.ns.Command(e.musl, name)
	}
	return e.ns.Command("getent", "ahosts", name)
}

func (e *gtEnv) resolvConf(t *testing.T, ndots int, opts string) {
	t.Helper()
	text := fmt.Sprintf("nameserver 127.0.0.1\nsearch %s\noptions ndots:%d timeout:1 attempts:2%s\n", strings.Join(gtSearch, " "), ndots, opts)
	if err := e.ns.WriteResolvConf(text); err != nil {
		t.Fatal(err)
	}
}

// TestGroundTruthFromRealResolvers runs the whole comparison in one
// namespace: one CoreDNS, whose per-client state carries over from lookup
// to lookup as it does for a real pod.
func TestGroundTruthFromRealResolvers(t *testing.T) {
	e := newGTEnv(t)
	t.Run("search and pairs", e.searchAndPairs)
	t.Run("race", e.race)
	t.Run("upstream", e.upstream)
}

// searchAndPairs is the matrix: glibc and musl, ndots 5, 2 and 1, each
// resolv.conf option, names with 0 to 4 dots, absolute, in-cluster
// services and headless names that exist.
func (e *gtEnv) searchAndPairs(t *testing.T) {
	names := []string{
		"db", "nope", "txt", // 0 dots: a service, nothing, NODATA
		"kubernetes.default", "db.shop", "web-0.web", // 1 dot: service.namespace, headless pod
		"api.stripe.com", "kubernetes.default.svc", "nope.nx.example", // 2 dots
		"web-0.web.shop.svc",                            // 3 dots
		"kubernetes.default.svc.cluster.local",          // 4 dots
		"api.stripe.com.", "db.shop.svc.cluster.local.", // absolute
	}
	g := gaps{}
	totals := map[string]float64{}
	split := map[string]float64{} // by what the resolver does: how pairs from one UDP socket were counted
	lookups, cleanLookups := 0, 0
	for _, kind := range []string{"glibc", "musl"} {
		for _, ndots := range []int{5, 2, 1} {
			for _, opt := range []string{"", " single-request", " single-request-reopen", " use-vc"} {
				e.resolvConf(t, ndots, opt)
				for _, name := range names {
					o := e.run(t, e.resolverCommand(kind, name), nil, 3*time.Second)
					lookups++
					want := o.expected(name, gtSearch)
					got := foldDeltas(o.deltas)
					if d := diffDeltas(want, got); d != "" {
						t.Errorf("%s, options ndots:%d%s, %s: %s\n%s", kind, ndots, opt, name, d, o.show())
					}
					// The clean cases: absolute names, names found at their
					// first candidate, external names asked as they are.
					if clean := strings.HasSuffix(name, ".") || name == "db" || name == "web-0.web" || (ndots == 1 && name == "api.stripe.com"); clean {
						cleanLookups++
						if got["search_expansions_total{namespace=shop}"] != 0 || got["wasted_nxdomain_total{namespace=shop}"] != 0 || want["search_expansions_total{namespace=shop}"] != 0 {
							t.Errorf("%s, options ndots:%d%s, %s: a clean lookup moved the search metrics (%v), or the ground truth counts it (%v)", kind, ndots, opt, name, got, want)
						}
					}
					in := intent(kind, opt)
					g.add(in, o.pairs())
					if in == "parallel" || in == "same_socket" {
						for _, p := range o.pairs() {
							if p.mode == "parallel" || p.mode == "same_socket" {
								split[in+", on the wire "+p.mode]++
							}
						}
						split[in+", counted parallel"] += o.deltas["parallel_a_aaaa_total{namespace=shop}"] + o.deltas["parallel_a_aaaa_total{namespace=_unknown}"]
						split[in+", counted same_socket"] += o.deltas["sequential_a_aaaa_total{mode=same_socket,namespace=shop}"] + o.deltas["sequential_a_aaaa_total{mode=same_socket,namespace=_unknown}"]
					}
					for k, v := range want {
						totals[k] += v
					}
				}
			}
		}
	}
	g.report(t)
	t.Logf("%d lookups (%d clean); ground truth totals: %v", lookups, cleanLookups, totals)
	var keys []string
	for k := range split {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("pairs from one UDP socket, resolver sends %s: %g", k, split[k])
	}
	// The matrix must exercise every count it checks, or it proves nothing.
	for _, k := range []string{"search_expansions_total{namespace=shop}", "wasted_nxdomain_total{namespace=shop}",
		oneUDPSocket, "sequential_a_aaaa_total{mode=new_socket}", "sequential_a_aaaa_total{mode=tcp}"} {
		if totals[k] == 0 {
			t.Errorf("the matrix never produced %s", k)
		}
	}
}

// dropRule installs, in the client namespace's INPUT chain, a rule that
// drops the first query for name of type qtype (a drop on output would be
// reported to the resolver's socket, which would just send again) and
// returns a function reading its packet counter.
func (e *gtEnv) dropRule(t *testing.T, name string, qtype uint16) func() int {
	t.Helper()
	wire := make([]byte, 512)
	n, err := dns.PackDomainName(dns.Fqdn(name), wire, 0, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	hex := fmt.Sprintf("|%x%04x0001|", wire[:n], qtype)
	rule := []string{"INPUT", "-p", "udp", "--dport", "53", "-m", "string", "--algo", "bm", "--hex-string", hex,
		"-m", "limit", "--limit", "1/hour", "--limit-burst", "1", "-j", "DROP"}
	if out, err := e.ns.Command("iptables", append([]string{"-I"}, rule...)...).CombinedOutput(); err != nil {
		t.Fatalf("iptables: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = e.ns.Command("iptables", append([]string{"-D"}, rule...)...).Run() })
	return func() int {
		out, err := e.ns.Command("iptables", "-nvxL", "INPUT").Output()
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) > 2 && f[2] == "DROP" && strings.Contains(line, strings.Trim(hex, "|")) {
				total += atoi(f[0])
			}
		}
		return total
	}
}

// race drops one packet of a pair on its way into CoreDNS: the real
// resolver times out (timeout:1) and sends again; the plugin must count
// exactly the drops the firewall counted.
func (e *gtEnv) race(t *testing.T) {
	cases := []struct {
		kind, opt, name string
		drop            uint16
	}{
		{"glibc", "", "race-aaaa.example.", dns.TypeAAAA},
		{"glibc", "", "race-a.example.", dns.TypeA},
		{"glibc", " single-request", "race-sr.example.", dns.TypeAAAA},
		{"musl", "", "race-musl-aaaa.example.", dns.TypeAAAA},
		{"musl", "", "race-musl-a.example.", dns.TypeA},
	}
	for _, c := range cases {
		e.resolvConf(t, 5, c.opt)
		drops := e.dropRule(t, c.name, c.drop)
		o := e.run(t, e.resolverCommand(c.kind, c.name), drops, 5*time.Second)
		what := fmt.Sprintf("%s%s, %s, %s dropped", c.kind, c.opt, c.name, dns.TypeToString[c.drop])
		if o.drops != 1 {
			t.Errorf("%s: the firewall dropped %d packets, want 1\n%s", what, o.drops, o.show())
			continue
		}
		want := o.expected(c.name, gtSearch)
		want["race_suspected_total"] = float64(o.drops)
		want["race_retry_delay_seconds_count{}"] = float64(o.drops)
		got := foldDeltas(o.deltas)
		if d := diffDeltas(want, got); d != "" {
			t.Errorf("%s: %s\n%s", what, d, o.show())
		}
		// The stall: from the lone query to the first query for the
		// name that followed more than 90 ms after it, on the wire.
		var lone, retry time.Duration
		for i, m := range o.wire {
			if !m.query || !o.received[i] {
				continue
			}
			if lone == 0 {
				lone = m.at
			} else if m.at-lone > wirePairGap {
				retry = m.at
				break
			}
		}
		delay := o.deltas["race_retry_delay_seconds_sum{}"]
		if wireDelay := (retry - lone).Seconds(); retry == 0 || delay < wireDelay-0.02 || delay > wireDelay+0.02 {
			t.Errorf("%s: retry delay recorded %.3fs, on the wire %.3fs\n%s", what, delay, wireDelay, o.show())
		} else {
			t.Logf("%s: retry delay %.3fs (wire %.3fs)", what, delay, wireDelay)
		}
	}
}

// upstream looks up names served by an upstream that answers SERVFAIL, one
// that never answers and a port where nothing listens.
func (e *gtEnv) upstream(t *testing.T) {
	e.resolvConf(t, 5, "")
	cases := []struct {
		name, reason string
		up           *testenv.Upstream
	}{
		{"a.servfail.example.", "servfail", e.up["servfail"]},
		{"a.closed.example.", "connection_refused", nil},
		{"a.silent.example.", "timeout", e.up["silent"]},
	}
	for _, kind := range []string{"glibc", "musl"} {
		for _, c := range cases {
			upBefore := int64(0)
			if c.up != nil {
				upBefore = c.up.Queries()
			}
			// A silent upstream holds each query 4 s (forward: two tries,
			// 2 s read timeout each) after the resolver gave up.
			o := e.run(t, e.resolverCommand(kind, c.name), nil, 8*time.Second)
			what := kind + ", " + c.name
			want := o.expected(c.name, gtSearch)
			failed := 0
			for _, l := range o.logged {
				if l.rcode == "SERVFAIL" {
					failed++
				}
			}
			reasons := map[string]int{}
			for _, er := range o.errs {
				switch {
				case strings.Contains(er[2], "i/o timeout"):
					reasons["timeout"]++
				case strings.Contains(er[2], "connection refused"):
					reasons["connection_refused"]++
				default:
					reasons["error"]++
				}
			}
			// A SERVFAIL with no error behind it is an answer the upstream
			// gave.
			if n := failed - len(o.errs); n > 0 {
				reasons["servfail"] += n
			}
			for r, n := range reasons {
				want["upstream_failures_total{reason="+r+"}"] = float64(n)
			}
			if failed == 0 || len(reasons) != 1 || reasons[c.reason] != failed {
				t.Errorf("%s: %d SERVFAIL answers, by reason %v: want all %s\n%s", what, failed, reasons, c.reason, o.show())
			}
			got := foldDeltas(o.deltas)
			if d := diffDeltas(want, got); d != "" {
				t.Errorf("%s: %s\n%s", what, d, o.show())
			}
			// What reached the upstream, counted by the stub itself: one
			// query per SERVFAIL answer; forward tries a silent upstream
			// more than once per client query, which the metric does not
			// count (it counts what clients were answered).
			if c.up != nil {
				n := int(c.up.Queries() - upBefore)
				if (c.reason == "servfail" && n != failed) || (c.reason == "timeout" && n < failed) {
					t.Errorf("%s: the upstream received %d queries for %d failed answers", what, n, failed)
				}
				t.Logf("%s: %d queries received, %d client-visible failures (%s), %d queries reached the upstream",
					what, len(o.logged), failed, c.reason, c.up.Queries()-upBefore)
			} else {
				t.Logf("%s: %d queries received, %d client-visible failures (%s)", what, len(o.logged), failed, c.reason)
			}
		}
	}
}

// newNetns creates a namespace and deletes it (and its /etc/netns
// directory) when the test ends, whatever happened.
func newNetns(t *testing.T, prefix string) *testenv.Netns {
	t.Helper()
	ns, err := testenv.NewNetns(prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ns.Delete(); err != nil {
			t.Error(err)
		}
		if _, err := os.Stat("/etc/netns/" + ns.Name); !os.IsNotExist(err) {
			t.Errorf("/etc/netns/%s still there: %v", ns.Name, err)
		}
	})
	return ns
}

// buildMusl compiles testdata/resolvers/gai.c with musl-gcc into dir.
func buildMusl(t *testing.T, dir string) string {
	t.Helper()
	gai := filepath.Join(dir, "gai-musl")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "musl-gcc", "-static", "-O2", "-o", gai, "testdata/resolvers/gai.c").CombinedOutput(); err != nil {
		t.Fatalf("musl-gcc: %v\n%s", err, out)
	}
	return gai
}
