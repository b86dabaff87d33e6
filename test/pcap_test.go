package test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/k8slint/k8slint/internal/testenv"
)

// A packet capture with tcpdump, the independent witness of what the real
// resolvers sent: every DNS message on port 53 of a namespace's loopback,
// with the kernel's nanosecond timestamp. tcpdump sees a packet when it is
// sent, so a packet that a firewall rule then drops on input is in the
// capture but never reaches CoreDNS.

// wireMsg is one DNS message seen on the wire.
type wireMsg struct {
	at       time.Duration // capture timestamp since the Unix epoch
	tcp      bool
	client   int // the client's port
	query    bool
	id       uint16
	name     string // lower case, fully qualified
	qtype    uint16
	rcode    int
	nanswers int
}

func (m wireMsg) String() string {
	dir, proto := "<", "udp"
	if m.query {
		dir = ">"
	}
	if m.tcp {
		proto = "tcp"
	}
	return fmt.Sprintf("%s %s %s:%d id %d %s %s", time.Unix(0, int64(m.at)).Format("15:04:05.000000000"),
		dir, proto, m.client, m.id, dns.TypeToString[m.qtype], m.name)
}

// capture is a running tcpdump writing a pcap file.
type capture struct {
	*testenv.Process
	path string
}

// startCapture runs tcpdump on the namespace's loopback for DNS on port 53
// and returns once it listens.
func startCapture(ns *testenv.Netns, path string) (*capture, error) {
	// Immediate mode delivers each packet at once, in fixed frames of
	// the snapshot length: a small snapshot (DNS messages here are
	// small) and a large buffer keep bursts from being dropped, which
	// the default 256 KiB snapshot in a 2 MiB buffer does.
	cmd := ns.Command("tcpdump", "-i", "lo", "-n", "-s", "4096", "-B", "16384", "-U", "--immediate-mode",
		"--time-stamp-precision=nano", "-w", path, "port", "53")
	stderr := &testenv.SyncBuffer{}
	cmd.Stderr = stderr
	p, err := testenv.StartProcess(cmd)
	if err != nil {
		return nil, err
	}
	c := &capture{Process: p, path: path}
	deadline := time.After(10 * time.Second)
	for !strings.Contains(stderr.String(), "listening on") {
		select {
		case <-c.Done():
			return nil, fmt.Errorf("tcpdump exited: %v: %s", c.Err(), stderr.String())
		case <-deadline:
			c.Stop()
			return nil, fmt.Errorf("tcpdump did not start: %s", stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	return c, nil
}

// read parses the capture so far. A record tcpdump is still writing is
// left for the next read.
func (c *capture) read() ([]wireMsg, error) {
	b, err := os.ReadFile(c.path)
	if err != nil {
		return nil, err
	}
	return parsePcap(b)
}

// parsePcap reads a pcap file (microsecond or nanosecond) of IPv4 DNS
// traffic on port 53 and returns its messages in capture order. DNS over
// TCP is reassembled per connection (loopback neither loses nor reorders).
func parsePcap(b []byte) ([]wireMsg, error) {
	if len(b) < 24 {
		return nil, nil // tcpdump has not written its header yet
	}
	var bo binary.ByteOrder = binary.LittleEndian
	nano := false
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4:
	case 0xa1b23c4d:
		nano = true
	default:
		switch binary.BigEndian.Uint32(b) {
		case 0xa1b2c3d4:
			bo = binary.BigEndian
		case 0xa1b23c4d:
			bo, nano = binary.BigEndian, true
		default:
			return nil, errors.New("pcap: bad magic")
		}
	}
	var skip int
	switch link := bo.Uint32(b[20:]); link {
	case 1: // Ethernet: what Linux uses for lo
		skip = 14
	case 113: // Linux cooked
		skip = 16
	case 276: // Linux cooked v2
		skip = 20
	default:
		return nil, fmt.Errorf("pcap: link type %d", link)
	}
	type flow struct{ src, dst uint16 }
	streams := map[flow][]byte{}
	var msgs []wireMsg
	for off := 24; off+16 <= len(b); {
		sec, frac := bo.Uint32(b[off:]), bo.Uint32(b[off+4:])
		incl := int(bo.Uint32(b[off+8:]))
		if off+16+incl > len(b) {
			break
		}
		pkt := b[off+16 : off+16+incl]
		off += 16 + incl
		at := time.Duration(sec) * time.Second
		if nano {
			at += time.Duration(frac)
		} else {
			at += time.Duration(frac) * time.Microsecond
		}
		if len(pkt) < skip+20 || pkt[skip]>>4 != 4 {
			continue
		}
		ip := pkt[skip:]
		ihl := int(ip[0]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(ip[2:]))
		if total > len(ip) || total < ihl {
			continue
		}
		ip = ip[:total]
		proto, l4 := ip[9], ip[ihl:]
		if len(l4) < 8 {
			continue
		}
		src, dst := binary.BigEndian.Uint16(l4), binary.BigEndian.Uint16(l4[2:])
		var payloads [][]byte
		tcp := false
		switch proto {
		case 17:
			payloads = [][]byte{l4[8:]}
		case 6:
			tcp = true
			if len(l4) < 20 {
				continue
			}
			data := l4[int(l4[12]>>4)*4:]
			f := flow{src, dst}
			buf := append(streams[f], data...)
			for len(buf) >= 2 && len(buf) >= 2+int(binary.BigEndian.Uint16(buf)) {
				n := int(binary.BigEndian.Uint16(buf))
				payloads = append(payloads, buf[2:2+n])
				buf = buf[2+n:]
			}
			streams[f] = append([]byte(nil), buf...)
		default:
			continue
		}
		for _, p := range payloads {
			m := new(dns.Msg)
			if err := m.Unpack(p); err != nil || len(m.Question) != 1 {
				continue
			}
			w := wireMsg{at: at, tcp: tcp, query: !m.Response, id: m.Id,
				name: strings.ToLower(m.Question[0].Name), qtype: m.Question[0].Qtype,
				rcode: m.Rcode, nanswers: len(m.Answer)}
			if w.query {
				w.client = int(src)
			} else {
				w.client = int(dst)
			}
			msgs = append(msgs, w)
		}
	}
	return msgs, nil
}
