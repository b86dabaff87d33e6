package resolver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
)

// Options tune Send.
type Options struct {
	// Lose simulates the conntrack race on the first pair: the query of
	// this type (dns.TypeA or dns.TypeAAAA) is prepared but not sent. 0
	// loses nothing. Only parallel modes have a pair to race.
	Lose uint16
	// Timeout is how long to wait for an answer before acting as the
	// resolver does on a timeout. 0 takes the resolv.conf timeout.
	Timeout time.Duration
	// Source is the local address to send from (for example another
	// 127.0.0.0/8 address, so that one process can stand in for several
	// pods). Invalid: the system chooses.
	Source netip.Addr
}

// Sent is one query Send prepared, in the order it went out.
type Sent struct {
	Query
	ID        uint16
	Net       string // "udp" or "tcp"
	LocalPort int    // source port, to tell sockets apart
	// Lost is true for the query Options.Lose kept off the wire.
	Lost bool
	// Resend is true for a query sent again after a timeout.
	Resend bool
	// Answered is false when no answer came (a lost query, or a timeout).
	Answered bool
	At       time.Duration // since Send started
}

// Result is what one lookup did.
type Result struct {
	Sent  []Sent
	Found bool     // the lookup succeeded
	Addrs []net.IP // the addresses of the successful candidate
}

// Send performs one getaddrinfo(AF_UNSPEC)-style lookup of name against
// server (host:port) the way kind does with conf: the candidates of
// Candidates, each as an A/AAAA pair sent with kind's socket behaviour
// (see Mode), the walk steered by the real answers. It returns every
// query it prepared. An error means the server could not be reached or
// never answered; a lookup that ends without addresses is not an error.
//
// With Options.Lose the first pair loses one query, and the recovery
// follows the resolver: glibc waits the timeout, re-sends the answered
// query with the same ID from the same port, then the lost one, and stays
// one-after-the-other for the rest of the lookup; musl re-sends the
// unanswered query from the same socket after timeout/attempts; Go asks
// the lost type again from a new socket with a new ID after the timeout.
//
// SERVFAIL is handled as Plan describes for glibc. musl gives up at once
// instead of re-sending until its timeout, and Go moves on without asking
// each type again: Send replays the walk, not every retransmission.
func Send(ctx context.Context, server string, kind Kind, conf Conf, name string, opts Options) (Result, error) {
	s := Effective(kind, conf)
	if opts.Lose != 0 && !s.Mode.Parallel() {
		return Result{}, fmt.Errorf("resolver: losing a query needs a parallel mode, %s uses %s", kind, s.Mode)
	}
	x := &exchanger{ctx: ctx, server: server, kind: kind, settings: s, start: time.Now(),
		timeout: time.Duration(s.Timeout) * time.Second, lose: opts.Lose, source: opts.Source}
	if opts.Timeout > 0 {
		x.timeout = opts.Timeout
	}
	var res Result
	for step, cand := range Candidates(kind, conf, name) {
		for tries := 1; ; tries++ {
			a, aaaa, err := x.pair(step, cand)
			res.Sent = x.sent
			if err != nil {
				return res, err
			}
			if aaaa == nil {
				// glibc in single-request mode does not ask the AAAA after
				// a SERVFAILed A; it re-sends the A attempts times.
				if tries < s.Attempts {
					continue
				}
				break
			}
			v := decide(kind, s, AnswerOf(a, dns.TypeA), AnswerOf(aaaa, dns.TypeAAAA), tries)
			if v == retryAll && x.settings.Mode == TCP {
				v = next // send_vc hands the SERVFAIL back without a retry
			}
			switch v {
			case found:
				res.Found = true
				res.Addrs = addrs(a, aaaa)
				return res, nil
			case giveUp:
				return res, nil
			case retryAll:
				continue
			}
			break
		}
	}
	return res, nil
}

func addrs(ms ...*dns.Msg) []net.IP {
	var out []net.IP
	for _, m := range ms {
		for _, rr := range m.Answer {
			switch r := rr.(type) {
			case *dns.A:
				out = append(out, r.A)
			case *dns.AAAA:
				out = append(out, r.AAAA)
			}
		}
	}
	return out
}

// exchanger holds the state of one lookup on the wire.
type exchanger struct {
	ctx      context.Context
	server   string
	kind     Kind
	settings Settings
	timeout  time.Duration
	start    time.Time
	lose     uint16 // still to be lost; cleared once used
	source   netip.Addr
	sent     []Sent
}

// pending is one query of a pair and what came back for it.
type pending struct {
	q     Query
	msg   *dns.Msg
	index int // in exchanger.sent
	reply *dns.Msg
}

func (x *exchanger) newPending(step int, name string, qtype uint16) *pending {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = true
	return &pending{q: Query{Name: name, Type: qtype, Step: step, Mode: x.settings.Mode}, msg: m}
}

// record notes a query as sent (or lost) and returns its index.
func (x *exchanger) record(p *pending, network string, port int, lost, resend bool) {
	x.sent = append(x.sent, Sent{Query: p.q, ID: p.msg.Id, Net: network, LocalPort: port,
		Lost: lost, Resend: resend, At: time.Since(x.start)})
	p.index = len(x.sent) - 1
}

func (x *exchanger) answered(p *pending, r *dns.Msg) {
	p.reply = r
	x.sent[p.index].Answered = true
	x.sent[p.index].Answer = AnswerOf(r, p.q.Type)
}

// pair sends the A and AAAA queries for one candidate and returns their
// answers.
func (x *exchanger) pair(step int, name string) (*dns.Msg, *dns.Msg, error) {
	a := x.newPending(step, name, dns.TypeA)
	aaaa := x.newPending(step, name, dns.TypeAAAA)
	both := []*pending{a, aaaa}
	var err error
	switch x.settings.Mode {
	case ParallelSameSocket:
		err = x.parallelSameSocket(both)
	case ParallelSeparateSockets:
		err = x.parallelSeparateSockets(both)
	case SequentialSameSocket:
		err = x.sequential(both, false)
	case SequentialNewSocket:
		err = x.sequential(both, true)
	case TCP:
		err = x.overTCP(both)
	}
	if err != nil {
		return nil, nil, err
	}
	return a.reply, aaaa.reply, nil
}

func (x *exchanger) dialer(network string) *net.Dialer {
	var d net.Dialer
	if x.source.IsValid() {
		ap := netip.AddrPortFrom(x.source, 0)
		if network == "tcp" {
			d.LocalAddr = net.TCPAddrFromAddrPort(ap)
		} else {
			d.LocalAddr = net.UDPAddrFromAddrPort(ap)
		}
	}
	return &d
}

func (x *exchanger) dialUDP() (*net.UDPConn, int, error) {
	d := x.dialer("udp")
	c, err := d.DialContext(x.ctx, "udp", x.server)
	if err != nil {
		return nil, 0, err
	}
	return c.(*net.UDPConn), c.LocalAddr().(*net.UDPAddr).Port, nil
}

// write sends p on c, or records it as lost when it is the one to lose.
func (x *exchanger) write(c net.Conn, port int, p *pending, resend bool) error {
	if !resend && x.lose == p.q.Type {
		x.lose = 0
		x.record(p, "udp", port, true, false)
		return nil
	}
	x.record(p, "udp", port, false, resend)
	b, err := p.msg.Pack()
	if err != nil {
		return err
	}
	_, err = c.Write(b)
	return err
}

// writeBatch sends ps on c with one sendmmsg(2) call, as glibc's send_dg
// and musl's res_msend do: the packets leave back to back, microseconds
// apart. The one to lose is recorded and not sent.
func (x *exchanger) writeBatch(c *net.UDPConn, port int, ps []*pending) error {
	var ms []ipv4.Message
	for _, p := range ps {
		if x.lose == p.q.Type {
			x.lose = 0
			x.record(p, "udp", port, true, false)
			continue
		}
		x.record(p, "udp", port, false, false)
		b, err := p.msg.Pack()
		if err != nil {
			return err
		}
		ms = append(ms, ipv4.Message{Buffers: [][]byte{b}})
	}
	// The socket is connected: no address per message. ipv4.PacketConn
	// only wraps the file descriptor, so it serves IPv6 sockets too.
	pc := ipv4.NewPacketConn(c)
	for len(ms) > 0 {
		n, err := pc.WriteBatch(ms, 0)
		if err != nil {
			return err
		}
		ms = ms[n:]
	}
	return nil
}

// await reads answers on c until every query in ps is answered or the
// timeout passes. It returns the queries still without an answer.
func (x *exchanger) await(c *net.UDPConn, ps []*pending) ([]*pending, error) {
	deadline := time.Now().Add(x.timeout)
	if d, ok := x.ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := c.SetReadDeadline(deadline); err != nil {
		return ps, err
	}
	buf := make([]byte, 65535)
	waiting := append([]*pending(nil), ps...)
	for len(waiting) > 0 {
		n, err := c.Read(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if x.ctx.Err() != nil {
				return waiting, x.ctx.Err()
			}
			return waiting, nil
		}
		if err != nil {
			return waiting, err
		}
		r := new(dns.Msg)
		if r.Unpack(buf[:n]) != nil {
			continue // not DNS: resolvers ignore it too
		}
		for i, p := range waiting {
			// A reply matches by ID and question, as glibc's
			// res_queriesmatch and musl's check require.
			if r.Id == p.msg.Id && len(r.Question) == 1 && r.Question[0].Qtype == p.q.Type &&
				dns.CanonicalName(r.Question[0].Name) == dns.CanonicalName(p.q.Name) {
				x.answered(p, r)
				waiting = append(waiting[:i], waiting[i+1:]...)
				break
			}
		}
	}
	return nil, nil
}

func (x *exchanger) parallelSameSocket(both []*pending) error {
	c, port, err := x.dialUDP()
	if err != nil {
		return err
	}
	defer c.Close()
	if err := x.writeBatch(c, port, both); err != nil {
		return err
	}
	missing, err := x.await(c, both)
	if err != nil || len(missing) == 0 {
		return err
	}
	if len(missing) == 2 {
		return fmt.Errorf("resolver: no answer from %s for %s within %s", x.server, both[0].q.Name, x.timeout)
	}
	lost := missing[0]
	switch x.kind {
	case GLibc:
		// send_dg after a timeout with one answer: the pair again, one
		// after the other, same socket and IDs; and RES_SNGLKUP stays set
		// for the rest of the lookup.
		for _, p := range both {
			if err := x.write(c, port, p, true); err != nil {
				return err
			}
			if missing, err := x.await(c, []*pending{p}); err != nil || len(missing) > 0 {
				return x.noAnswer(p, err)
			}
		}
		x.settings.Mode = SequentialSameSocket
	default:
		// musl's res_msend re-sends what is unanswered every
		// timeout/attempts; the wait above was the full timeout, so the
		// re-send comes later than musl's would.
		if err := x.write(c, port, lost, true); err != nil {
			return err
		}
		if missing, err := x.await(c, []*pending{lost}); err != nil || len(missing) > 0 {
			return x.noAnswer(lost, err)
		}
	}
	return nil
}

func (x *exchanger) noAnswer(p *pending, err error) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("resolver: no answer from %s for %s within %s", x.server, p.q, x.timeout)
}

// parallelSeparateSockets is Go's default: a goroutine and a socket per
// type. A lost query is asked again on a new socket with a new ID, as
// tryOneName's next attempt does.
func (x *exchanger) parallelSeparateSockets(both []*pending) error {
	type conn struct {
		c    *net.UDPConn
		port int
	}
	conns := make([]conn, len(both))
	for i, p := range both {
		c, port, err := x.dialUDP()
		if err != nil {
			return err
		}
		defer c.Close()
		conns[i] = conn{c, port}
		if err := x.write(c, port, p, false); err != nil {
			return err
		}
	}
	errs := make([]error, len(both))
	done := make(chan int)
	for i := range both {
		go func() {
			var missing []*pending
			missing, errs[i] = x.await(conns[i].c, both[i:i+1])
			if errs[i] == nil && len(missing) > 0 {
				errs[i] = errTimeout
			}
			done <- i
		}()
	}
	for range both {
		<-done
	}
	for i, p := range both {
		if !errors.Is(errs[i], errTimeout) {
			if errs[i] != nil {
				return errs[i]
			}
			continue
		}
		c, port, err := x.dialUDP()
		if err != nil {
			return err
		}
		defer c.Close()
		p.msg.Id = dns.Id()
		if err := x.write(c, port, p, true); err != nil {
			return err
		}
		if missing, err := x.await(c, []*pending{p}); err != nil || len(missing) > 0 {
			return x.noAnswer(p, err)
		}
	}
	return nil
}

var errTimeout = errors.New("timeout")

// sequential sends the pair one after the other over UDP, from one socket
// or from a new socket for the second.
func (x *exchanger) sequential(both []*pending, reopen bool) error {
	var c *net.UDPConn
	var port int
	for i, p := range both {
		if i == 0 || reopen {
			if c != nil {
				c.Close()
			}
			var err error
			if c, port, err = x.dialUDP(); err != nil {
				return err
			}
		}
		if err := x.write(c, port, p, false); err != nil {
			c.Close()
			return err
		}
		if missing, err := x.await(c, []*pending{p}); err != nil || len(missing) > 0 {
			c.Close()
			return x.noAnswer(p, err)
		}
		if i == 0 && x.kind == GLibc && AnswerOf(p.reply, p.q.Type) == ServFail {
			break // the AAAA stays unsent (reply nil)
		}
	}
	c.Close()
	return nil
}

// overTCP sends the pair one after the other over TCP: on one connection
// for glibc and musl, on one connection per query for Go.
func (x *exchanger) overTCP(both []*pending) error {
	var conn *dns.Conn
	var port int
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for i, p := range both {
		if i == 0 || x.kind == Go {
			if conn != nil {
				conn.Close()
			}
			d := x.dialer("tcp")
			c, err := d.DialContext(x.ctx, "tcp", x.server)
			if err != nil {
				return err
			}
			conn = &dns.Conn{Conn: c}
			port = c.LocalAddr().(*net.TCPAddr).Port
		}
		x.record(p, "tcp", port, false, false)
		if err := conn.SetDeadline(time.Now().Add(x.timeout)); err != nil {
			return err
		}
		if err := conn.WriteMsg(p.msg); err != nil {
			return err
		}
		r, err := conn.ReadMsg()
		if err != nil {
			return x.noAnswer(p, err)
		}
		x.answered(p, r)
	}
	return nil
}
