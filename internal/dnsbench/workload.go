package dnsbench

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/miekg/dns"

	"github.com/k8slint/k8slint/internal/resolvconf"
	"github.com/k8slint/k8slint/internal/resolver"
)

// clusterDomain is the zone the bench's Corefile serves with the file
// plugin, standing in for what the kubernetes plugin answers.
const clusterDomain = "cluster.local"

// namespaces and their services: every namespace runs the same pods, so
// each looks up its own services by short name, one service of another
// namespace, and the external names below.
var namespaces = []struct {
	name     string
	services []string
}{
	{"shop", []string{"web", "cart", "catalog"}},
	{"payments", []string{"api", "db", "ledger"}},
	{"auth", []string{"oauth", "sessions"}},
	{"search", []string{"query", "indexer"}},
	{"media", []string{"thumbs", "upload"}},
	{"ingest", []string{"collector", "kafka"}},
	{"monitoring", []string{"prometheus", "grafana"}},
	{"default", []string{"kubernetes"}},
}

// externalNames are what pods look up outside the cluster. With ndots:5
// each costs three NXDOMAIN pairs before the name as-is is asked.
var externalNames = []string{
	"api.stripe.com",
	"www.googleapis.com",
	"oauth2.googleapis.com",
	"s3.amazonaws.com",
	"sqs.us-east-1.amazonaws.com",
	"hooks.slack.com",
	"registry-1.docker.io",
	"api.github.com",
}

// Zone returns the zone file for cluster.local: an A record for every
// service, and two pods of a headless StatefulSet in every namespace
// (<svc>-0.<svc>.<ns>.svc), as the kubernetes plugin would answer them.
// Negative answers are cached 5 s, the kubernetes plugin's default TTL.
func Zone() string {
	var b strings.Builder
	b.WriteString("$ORIGIN cluster.local.\n$TTL 5\n")
	b.WriteString("@ IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5\n")
	b.WriteString("@ IN NS ns.dns.cluster.local.\n")
	b.WriteString("ns.dns IN A 10.96.0.10\n")
	for i, ns := range namespaces {
		for j, svc := range ns.services {
			fmt.Fprintf(&b, "%s.%s.svc IN A 10.96.%d.%d\n", svc, ns.name, i+1, j+1)
		}
		first := ns.services[0]
		for p := range 2 {
			fmt.Fprintf(&b, "%s-%d.%s.%s.svc IN A 10.244.%d.%d\n", first, p, first, ns.name, i+1, p+1)
		}
	}
	return b.String()
}

// zoneNames returns the owner names of Zone, fully qualified, with the
// types they hold.
func zoneNames() map[string][]uint16 {
	names := map[string][]uint16{}
	zp := dns.NewZoneParser(strings.NewReader(Zone()), "", "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		h := rr.Header()
		names[strings.ToLower(h.Name)] = append(names[strings.ToLower(h.Name)], h.Rrtype)
	}
	return names
}

// oracle answers as the bench's CoreDNS does: names under cluster.local
// from Zone (NXDOMAIN for what does not exist, NODATA for an empty
// non-terminal or a missing type), every other name positively (the stub
// upstream answers A and AAAA for any name).
func oracle() resolver.Oracle {
	names := zoneNames()
	ents := map[string]bool{}
	for n := range names {
		labels := dns.SplitDomainName(n)
		for i := 1; i < len(labels); i++ {
			ents[dns.Fqdn(strings.Join(labels[i:], "."))] = true
		}
	}
	return func(name string, qtype uint16) resolver.Answer {
		name = strings.ToLower(dns.Fqdn(name))
		if !dns.IsSubDomain(clusterDomain+".", name) {
			return resolver.Data
		}
		types, ok := names[name]
		if !ok {
			if ents[name] {
				return resolver.NoData
			}
			return resolver.NXDomain
		}
		for _, t := range types {
			if t == qtype {
				return resolver.Data
			}
		}
		return resolver.NoData
	}
}

// Query is one line of a dnsperf datafile and the answer the bench's
// CoreDNS gives it.
type Query struct {
	Name   string // fully qualified
	Type   uint16
	Answer resolver.Answer
}

// Workload is the query mix the bench sends, in order.
type Workload struct {
	Queries []Query
	Lookups int   // getaddrinfo calls the queries come from
	starts  []int // the index of each lookup's first query
}

// NewWorkload builds the query mix: every namespace's glibc pods (kubelet's
// ClusterFirst resolv.conf, ndots:5, A and AAAA in parallel) look up each
// external name once, each of their own services by short name twice, one
// pod of their headless StatefulSet, a service of the next namespace as
// <svc>.<ns>, the API server by its absolute name, and a service of the
// next namespace by its relative full name (four dots: searched first).
// The queries are what resolver.Plan says glibc sends for each lookup,
// with the lookups shuffled (seeded, so every run sends the same file).
func NewWorkload() (*Workload, error) {
	exists := oracle()
	type lookup struct {
		conf resolvconf.Conf
		name string
	}
	var lookups []lookup
	for i, ns := range namespaces {
		res, err := resolvconf.ForPod(resolvconf.Pod{Namespace: ns.name},
			resolvconf.Node{ClusterDomain: clusterDomain, ClusterDNS: []string{"10.96.0.10"}})
		if err != nil {
			return nil, err
		}
		add := func(name string, times int) {
			for range times {
				lookups = append(lookups, lookup{res.Conf, name})
			}
		}
		for _, n := range externalNames {
			add(n, 1)
		}
		for _, svc := range ns.services {
			add(svc, 2)
		}
		first := ns.services[0]
		add(first+"-0."+first, 1)
		other := namespaces[(i+1)%len(namespaces)]
		add(other.services[0]+"."+other.name, 1)
		add(other.services[len(other.services)-1]+"."+other.name+".svc."+clusterDomain, 1)
		add("kubernetes.default.svc."+clusterDomain+".", 1)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(lookups), func(i, j int) { lookups[i], lookups[j] = lookups[j], lookups[i] })
	w := &Workload{Lookups: len(lookups)}
	for _, l := range lookups {
		w.starts = append(w.starts, len(w.Queries))
		for _, q := range resolver.Plan(resolver.GLibc, l.conf, l.name, exists) {
			w.Queries = append(w.Queries, Query{Name: q.Name, Type: q.Type, Answer: q.Answer})
		}
	}
	return w, nil
}

// Datafile returns the workload in dnsperf's input format: "NAME TYPE" per
// line.
func (w *Workload) Datafile() string { return w.Streams(1) }

// Streams returns the datafile for one dnsperf thread sending from n
// sockets, so that each socket sends the whole mix in order, as one pod
// would: its A and AAAA of a name one after the other, a lookup's search
// candidates in turn. dnsperf takes the sockets in turn, one per line
// (line j goes to socket j mod n, wrapping at the end of the file), so
// line k*n+i is socket i's k-th query. Socket i starts at lookup
// i*Lookups/n, so the sockets do not walk the same names in lockstep.
//
// A send that fails still takes its line and its socket, so the turns
// stay in step; only a socket dnsperf reports not ready (never for UDP)
// would shift them.
func (w *Workload) Streams(n int) string {
	start := make([]int, n) // socket i's first query
	if len(w.starts) > 0 {
		for i := range start {
			start[i] = w.starts[i*len(w.starts)/n]
		}
	}
	var b strings.Builder
	for k := range w.Queries {
		for i := range n {
			q := w.Queries[(start[i]+k)%len(w.Queries)]
			fmt.Fprintf(&b, "%s %s\n", q.Name, dns.TypeToString[q.Type])
		}
	}
	return b.String()
}

// Summary describes the mix in one line: its size and its shares of
// NXDOMAIN answers, AAAA queries and names outside the cluster.
func (w *Workload) Summary() string {
	n := len(w.Queries)
	if n == 0 {
		return "no queries"
	}
	var nx, aaaa, external int
	for _, q := range w.Queries {
		if q.Answer == resolver.NXDomain {
			nx++
		}
		if q.Type == dns.TypeAAAA {
			aaaa++
		}
		if !dns.IsSubDomain(clusterDomain+".", strings.ToLower(q.Name)) {
			external++
		}
	}
	pct := func(k int) float64 { return 100 * float64(k) / float64(n) }
	return fmt.Sprintf("%d queries from %d glibc lookups (ndots:5, %d namespaces): %.0f%% NXDOMAIN search candidates, %.0f%% AAAA, %.0f%% forwarded names",
		n, w.Lookups, len(namespaces), pct(nx), pct(aaaa), pct(external))
}

// distinctQuestions returns each distinct question of the workload once,
// sorted, for checking the oracle against the server.
func (w *Workload) distinctQuestions() []Query {
	seen := map[Query]bool{}
	var out []Query
	for _, q := range w.Queries {
		if !seen[q] {
			seen[q] = true
			out = append(out, q)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Type < out[j].Type
	})
	return out
}
