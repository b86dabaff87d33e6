package testenv

import (
	"fmt"
	"net"
	"testing"
)

// The ports testenv hands out lie outside the kernel's ephemeral range,
// where no connection's local end can take them, and are free for both
// UDP and TCP.
func TestPortsLieOutsideTheEphemeralRange(t *testing.T) {
	lo, hi := ephemeralRange()
	for range 20 {
		pc, l, err := ListenBoth("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		u, tc := pc.LocalAddr().(*net.UDPAddr).Port, l.Addr().(*net.TCPAddr).Port
		pc.Close()
		l.Close()
		if u != tc || (lo <= u && u <= hi) {
			t.Fatalf("ListenBoth: UDP port %d, TCP port %d; the ephemeral range is %d-%d", u, tc, lo, hi)
		}
		p, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		if lo <= p && p <= hi {
			t.Fatalf("FreePort: %d, in the ephemeral range %d-%d", p, lo, hi)
		}
		pc, l, err = ListenBoth(fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			t.Fatalf("FreePort's %d: %v", p, err)
		}
		pc.Close()
		l.Close()
	}
}
