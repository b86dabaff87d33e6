// Package resolver models the stub resolvers pods use — glibc, musl and
// Go's pure resolver — and predicts the exact DNS queries one
// getaddrinfo(AF_UNSPEC)-style lookup sends: which search candidates, in
// which order, A and AAAA sent how, and where the walk stops. The rules come
// from the resolvers' source (glibc resolv/res_query.c and res_send.c, musl
// src/network/lookup_name.c and resolvconf.c, Go net/dnsconfig_unix.go and
// dnsclient_unix.go) and are pinned against real glibc and musl by
// test/resolvers_test.go.
//
// Limits of the model: one nameserver is assumed (queries to the others
// are not listed), /etc/hosts is not consulted, and the retransmissions a
// resolver makes on a timeout are only produced by the network client
// (Send), not by Plan, whose oracle never loses a packet.
package resolver

import (
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/k8slint/k8slint/internal/resolvconf"
)

// Kind is a stub resolver implementation.
type Kind int

// The resolvers the model knows.
const (
	GLibc Kind = iota // Debian, Ubuntu, RHEL, distroless/base images
	Musl              // Alpine images and static musl binaries
	Go                // Go's pure resolver (CGO_ENABLED=0 binaries)
)

// Kinds are the resolvers the model knows, in the order of their values.
var Kinds = []Kind{GLibc, Musl, Go}

// ParseKind reads a resolver's name: glibc, musl or go.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if s == k.String() {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown resolver %q (want glibc, musl or go)", s)
}

// String returns the resolver's name.
func (k Kind) String() string {
	switch k {
	case GLibc:
		return "glibc"
	case Musl:
		return "musl"
	case Go:
		return "go"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Conf is a resolv.conf as package resolvconf reads it.
type Conf = resolvconf.Conf

// Mode says how a query is sent relative to its twin (the A for an AAAA
// and the other way round).
type Mode int

// The ways resolvers send the A/AAAA pair.
const (
	// ParallelSameSocket: both at once from one UDP socket (glibc default,
	// musl always). The pair shares a source port, which exposes it to the
	// conntrack insertion race.
	ParallelSameSocket Mode = iota
	// ParallelSeparateSockets: both at once, each from its own UDP socket
	// (Go's default).
	ParallelSeparateSockets
	// SequentialSameSocket: the second only after the first is answered,
	// from the same socket (glibc single-request).
	SequentialSameSocket
	// SequentialNewSocket: one after the other, the second from a new
	// socket and so a new source port (glibc single-request-reopen; Go with
	// either single-request option, as Go dials a socket per query).
	SequentialNewSocket
	// TCP: over TCP, one after the other (use-vc, glibc and Go).
	TCP
)

// String returns the mode's name.
func (m Mode) String() string {
	switch m {
	case ParallelSameSocket:
		return "parallel-same-socket"
	case ParallelSeparateSockets:
		return "parallel-separate-sockets"
	case SequentialSameSocket:
		return "sequential-same-socket"
	case SequentialNewSocket:
		return "sequential-new-socket"
	case TCP:
		return "tcp"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Parallel reports whether both queries of a pair leave before an answer.
func (m Mode) Parallel() bool { return m == ParallelSameSocket || m == ParallelSeparateSockets }

// Answer is what a server says to one question, as far as the search walk
// cares.
type Answer int

// The answers that steer a search walk.
const (
	Data     Answer = iota // NOERROR with records of the asked type
	NoData                 // NOERROR without records of the asked type
	NXDomain               // the name does not exist
	ServFail               // the server failed
)

// String returns the answer's name.
func (a Answer) String() string {
	switch a {
	case Data:
		return "data"
	case NoData:
		return "nodata"
	case NXDomain:
		return "nxdomain"
	case ServFail:
		return "servfail"
	}
	return fmt.Sprintf("Answer(%d)", int(a))
}

// AnswerOf classifies a DNS response for question type qtype. Rcodes the
// model does not distinguish (REFUSED, NOTIMP) count as ServFail.
func AnswerOf(m *dns.Msg, qtype uint16) Answer {
	switch m.Rcode {
	case dns.RcodeSuccess:
		for _, rr := range m.Answer {
			if rr.Header().Rrtype == qtype {
				return Data
			}
		}
		return NoData
	case dns.RcodeNameError:
		return NXDomain
	}
	return ServFail
}

// Oracle tells what the server answers for a fully qualified name and a
// query type (dns.TypeA or dns.TypeAAAA).
type Oracle func(name string, qtype uint16) Answer

// Query is one DNS query a lookup sends.
type Query struct {
	Name string // fully qualified, with the trailing dot
	Type uint16 // dns.TypeA or dns.TypeAAAA
	// Step is the index of the search candidate in Candidates (the name
	// as-is is one of them).
	Step int
	Mode Mode
	// Answer is what the oracle (Plan) or the server (Send) answered.
	Answer Answer
}

// String returns "A name" or "AAAA name".
func (q Query) String() string { return dns.TypeToString[q.Type] + " " + q.Name }

// Settings are the parts of a resolv.conf one resolver acts on, after its
// own defaults, caps and ignored options.
type Settings struct {
	Ndots    int
	Timeout  int // seconds per try
	Attempts int
	Search   []string // as the resolver uses them, without trailing dots
	Mode     Mode
}

// Effective returns the settings kind takes from conf.
func Effective(kind Kind, conf Conf) Settings {
	s := Settings{Ndots: 1, Timeout: 5, Attempts: 2, Mode: ParallelSameSocket}
	timeoutCap, attemptsCap := 30, 5 // glibc's RES_MAXRETRANS and RES_MAXRETRY
	switch kind {
	case Musl:
		timeoutCap, attemptsCap = 60, 10
	case Go:
		s.Mode = ParallelSeparateSockets
		timeoutCap, attemptsCap = 1<<31-1, 1<<31-1
	}
	s.Ndots = clamp(conf.IntOption("ndots", 1), 0, 15)
	s.Timeout = clamp(conf.IntOption("timeout", 5), 1, timeoutCap)
	s.Attempts = clamp(conf.IntOption("attempts", 2), 1, attemptsCap)
	s.Search = conf.Search
	if kind == Musl && searchLineLen(conf) > MuslMaxLine {
		s.Search = nil // musl skips the whole line
	}
	for i, d := range s.Search {
		if strings.HasSuffix(d, ".") {
			// A copy without the dots (and, for Go, without ".", which
			// dnsconfig_unix.go drops), made only when one is needed.
			out := slices.Clone(s.Search[:i])
			for _, d := range s.Search[i:] {
				d = strings.TrimSuffix(d, ".")
				if kind != Go || d != "" {
					out = append(out, d)
				}
			}
			s.Search = out
			break
		}
	}
	switch kind {
	case GLibc:
		// The options are flags that add up: use-vc decides the transport,
		// and reopen implies one-after-the-other.
		switch {
		case conf.Has("use-vc"):
			s.Mode = TCP
		case conf.Has("single-request-reopen"):
			s.Mode = SequentialNewSocket
		case conf.Has("single-request"):
			s.Mode = SequentialSameSocket
		}
	case Go:
		switch {
		case conf.Has("use-vc"):
			s.Mode = TCP
		case conf.Has("single-request"), conf.Has("single-request-reopen"):
			s.Mode = SequentialNewSocket
		}
	}
	return s
}

// MuslMaxLine is the longest resolv.conf line musl reads: it reads lines
// with fgets into a 256-byte buffer and skips, rather than misreads, any
// line that does not fit with its newline (src/network/resolvconf.c).
const MuslMaxLine = 254

// searchLineLen is len(SearchLine(conf)).
func searchLineLen(conf Conf) int {
	if len(conf.Search) == 0 {
		return 0
	}
	n := len("search")
	for _, d := range conf.Search {
		n += 1 + len(d)
	}
	return n
}

// SearchLine is the search line of conf as kubelet and Conf.String write
// it, without the newline; "" when there is no search list.
func SearchLine(conf Conf) string {
	if len(conf.Search) == 0 {
		return ""
	}
	return "search " + strings.Join(conf.Search, " ")
}

func clamp(n, lo, hi int) int {
	return max(lo, min(n, hi))
}

// Candidates returns the fully qualified names kind tries for name, in
// order: the search walk before any answer stops it.
func Candidates(kind Kind, conf Conf, name string) []string {
	return candidates(kind, Effective(kind, conf), name)
}

func candidates(kind Kind, s Settings, name string) []string {
	if strings.HasSuffix(name, ".") {
		return []string{name} // absolute: every resolver asks only this
	}
	dots := strings.Count(name, ".")
	asIs := name + "."
	withSearch := make([]string, 0, len(s.Search)+1)
	for _, d := range s.Search {
		if d == "" {
			withSearch = append(withSearch, asIs) // glibc and musl: "." is the root
			continue
		}
		withSearch = append(withSearch, name+"."+d+".")
	}
	if kind == Musl {
		if dots >= s.Ndots {
			return []string{asIs} // musl does not search names with enough dots
		}
		return append(withSearch, asIs)
	}
	var out []string
	if dots >= s.Ndots {
		out = append(append(make([]string, 0, len(withSearch)+1), asIs), withSearch...)
	} else {
		out = append(withSearch, asIs)
	}
	// A repeated candidate is asked once: glibc does not ask the name
	// as-is again when "." was on the search list (root_on_list), and Go
	// never has it twice.
	return resolvconf.Unique(out)
}

// verdict is what a resolver does after a candidate's answers.
type verdict int

const (
	found    verdict = iota // the lookup succeeded
	next                    // try the next candidate
	giveUp                  // the lookup failed
	retryAll                // send the pair again (glibc on SERVFAIL)
)

// decide applies kind's rule to the answers for one candidate. tries is
// how many times the pair has been sent for it.
func decide(kind Kind, s Settings, a, aaaa Answer, tries int) verdict {
	if kind == Musl {
		// name_from_dns looks at A's rcode, then AAAA's, before any
		// record: SERVFAIL gives up ("Try again"), NXDOMAIN goes on to the
		// next candidate; then records succeed and none (NODATA) gives up.
		for _, x := range []Answer{a, aaaa} {
			switch x {
			case ServFail:
				return giveUp
			case NXDomain:
				return next
			}
		}
		if a == Data || aaaa == Data {
			return found
		}
		return giveUp
	}
	if a == Data || aaaa == Data {
		return found
	}
	switch kind {
	case GLibc:
		if a == ServFail && aaaa == ServFail && tries < s.Attempts {
			return retryAll // res_nsend tries the server again
		}
	}
	// glibc's res_nsearch and Go go on past NXDOMAIN, NODATA and SERVFAIL.
	return next
}

// Plan returns the queries one AF_UNSPEC lookup of name by kind sends,
// in order, until it succeeds or gives up, with exists answering each.
// Within a pair the order is A then AAAA, the order the resolvers write
// them; a server may log them either way round.
//
// SERVFAIL follows what test/resolvers_test.go observes: glibc re-sends a
// parallel pair attempts times; in single-request modes it re-sends the A
// attempts times and never asks the AAAA; over TCP it does not retry;
// then it moves on. musl re-sends a SERVFAILed query at once up to
// 2×queries times per retry interval (timeout/attempts), sends the
// unanswered ones again each interval, and gives up after the timeout. Go
// asks each type again on every attempt, then moves on.
func Plan(kind Kind, conf Conf, name string, exists Oracle) []Query {
	s := Effective(kind, conf)
	cands := candidates(kind, s, name)
	out := make([]Query, 0, 2*len(cands))
	for step, cand := range cands {
		ask := func(qtype uint16) Query {
			return Query{Name: cand, Type: qtype, Step: step, Mode: s.Mode, Answer: exists(cand, qtype)}
		}
		a, aaaa := ask(dns.TypeA), ask(dns.TypeAAAA)
		switch {
		case kind == GLibc && a.Answer == ServFail && (s.Mode == SequentialSameSocket || s.Mode == SequentialNewSocket):
			for range s.Attempts {
				out = append(out, a)
			}
			continue
		case kind == Musl && (a.Answer == ServFail || aaaa.Answer == ServFail):
			return append(out, muslServfail(s, a, aaaa)...)
		}
		for tries := 1; ; tries++ {
			for _, q := range []Query{a, aaaa} {
				out = append(out, q)
				if kind == Go && q.Answer == ServFail {
					// tryOneName asks the type again, alone, on every
					// attempt before reporting the failure.
					for range s.Attempts - 1 {
						out = append(out, q)
					}
				}
			}
			v := decide(kind, s, a.Answer, aaaa.Answer, tries)
			if v == retryAll && s.Mode == TCP {
				v = next // send_vc hands the SERVFAIL back without a retry
			}
			switch v {
			case found, giveUp:
				return out
			case retryAll:
				continue
			}
			break
		}
	}
	return out
}

// muslServfail lists what musl's res_msend sends for a pair in which a
// query is answered SERVFAIL: such an answer is never accepted, so each
// retry interval re-sends the unanswered queries and spends a budget of
// 2×queries immediate re-sends on SERVFAIL replies, until the timeout.
func muslServfail(s Settings, a, aaaa Query) []Query {
	var out []Query
	for interval := range s.Attempts {
		var failing []Query
		for _, q := range []Query{a, aaaa} {
			if interval == 0 || q.Answer == ServFail {
				out = append(out, q)
			}
			if q.Answer == ServFail {
				failing = append(failing, q)
			}
		}
		for i := range 4 {
			out = append(out, failing[i%len(failing)])
		}
	}
	return out
}

// Cost returns how many queries a plan sends and how many of them were
// answered NXDOMAIN: the load a lookup puts on cluster DNS and how much of
// it the search list wasted.
func Cost(plan []Query) (queries, nxdomain int) {
	for _, q := range plan {
		if q.Answer == NXDomain {
			nxdomain++
		}
	}
	return len(plan), nxdomain
}
