package testenv

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// Query sends one question over UDP to addr and returns the answer.
func Query(addr, name string, qtype uint16) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	c := &dns.Client{Net: "udp", Timeout: 3 * time.Second}
	r, _, err := c.Exchange(m, addr)
	return r, err
}

// UpstreamMode says how a stub upstream answers.
type UpstreamMode int

// The behaviours a stub upstream can have.
const (
	Answer   UpstreamMode = iota // A 192.0.2.1 / AAAA 2001:db8::1 for every name
	ServFail                     // SERVFAIL for every query
	Refused                      // REFUSED for every query
	Silent                       // reads queries, never answers
)

// Upstream is a stub DNS server on a loopback port, UDP and TCP.
type Upstream struct {
	Addr    string
	Mode    UpstreamMode
	queries atomic.Int64
	servers []*dns.Server
}

// Queries returns how many queries it has received.
func (u *Upstream) Queries() int64 { return u.queries.Load() }

// StartUpstream starts a stub upstream on 127.0.0.1 at port (0: any free
// port).
func StartUpstream(mode UpstreamMode, port int) (*Upstream, error) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	pc, l, err := ListenBoth(addr)
	if err != nil {
		return nil, fmt.Errorf("stub upstream on %s: %w", addr, err)
	}
	return serveUpstream(mode, pc, l)
}

// ListenBoth binds UDP and TCP on one address, as a DNS server listens.
// Port 0 stands for a free port, chosen at random outside the kernel's
// range of ephemeral ports (pickPort): a port from that range, which the
// kernel would pick, can have its TCP side taken by the local end of a
// connection some other test made (a CI run failed so, binding TCP on
// the port UDP got). A port taken either way is given up for another.
func ListenBoth(addr string) (net.PacketConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, err
	}
	if port != "0" {
		return listenBoth(addr)
	}
	var last error
	for range 100 {
		p := pickPort()
		if p == 0 {
			break // no room outside the range
		}
		pc, l, err := listenBoth(net.JoinHostPort(host, strconv.Itoa(p)))
		if !errors.Is(err, syscall.EADDRINUSE) {
			return pc, l, err
		}
		last = err
	}
	for range 50 {
		pc, l, err := listenBoth(addr) // the kernel's pick
		if !errors.Is(err, syscall.EADDRINUSE) {
			return pc, l, err
		}
		last = err
	}
	return nil, nil, last
}

// listenBoth binds UDP on addr, then TCP on the address UDP got.
func listenBoth(addr string) (net.PacketConn, net.Listener, error) {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, nil, err
	}
	l, err := net.Listen("tcp", pc.LocalAddr().String())
	if err != nil {
		pc.Close()
		return nil, nil, err
	}
	return pc, l, nil
}

// serveUpstream answers on pc (UDP) and l (TCP), bound to the same address.
func serveUpstream(mode UpstreamMode, pc net.PacketConn, l net.Listener) (*Upstream, error) {
	u := &Upstream{Addr: pc.LocalAddr().String(), Mode: mode}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		u.queries.Add(1)
		if mode == Silent {
			return
		}
		m := new(dns.Msg)
		m.SetReply(r)
		m.RecursionAvailable = true
		switch mode {
		case ServFail:
			m.Rcode = dns.RcodeServerFailure
		case Refused:
			m.Rcode = dns.RcodeRefused
		default:
			if len(r.Question) == 1 {
				q := r.Question[0]
				hdr := dns.RR_Header{Name: q.Name, Class: dns.ClassINET, Ttl: 30, Rrtype: q.Qtype}
				switch q.Qtype {
				case dns.TypeA:
					m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: net.IPv4(192, 0, 2, 1)})
				case dns.TypeAAAA:
					m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr, AAAA: net.ParseIP("2001:db8::1")})
				}
			}
		}
		_ = w.WriteMsg(m)
	})
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, s := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: l, Handler: h}} {
		wg.Add(1)
		s.NotifyStartedFunc = wg.Done
		u.servers = append(u.servers, s)
		go func() {
			if err := s.ActivateAndServe(); err != nil {
				errs <- err
			}
		}()
	}
	started := make(chan struct{})
	go func() { wg.Wait(); close(started) }()
	select {
	case <-started:
		return u, nil
	case err := <-errs:
		u.Close()
		return nil, fmt.Errorf("stub upstream on %s: %w", u.Addr, err)
	case <-time.After(5 * time.Second):
		u.Close()
		return nil, fmt.Errorf("stub upstream on %s did not start", u.Addr)
	}
}

// Close stops the upstream.
func (u *Upstream) Close() {
	for _, s := range u.servers {
		_ = s.Shutdown()
	}
}
