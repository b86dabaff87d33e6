package testenv

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Do runs f on an OS thread that has entered the namespace, so that the
// sockets f opens belong to it (a socket stays in the namespace it was
// created in). The test process itself stays in its own namespace.
func (n *Netns) Do(f func() error) error {
	target, err := os.Open(filepath.Join("/var/run/netns", n.Name))
	if err != nil {
		return err
	}
	defer target.Close()
	runtime.LockOSThread()
	self, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", syscall.Gettid()))
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer self.Close()
	if err := setns(target); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("setns %s: %w", n.Name, err)
	}
	ferr := f()
	if err := setns(self); err != nil {
		// The thread stays locked and ends with this goroutine: the
		// runtime never reuses a thread left in another namespace.
		return fmt.Errorf("setns back from %s: %w", n.Name, err)
	}
	runtime.UnlockOSThread()
	return ferr
}

func setns(f *os.File) error {
	return unix.Setns(int(f.Fd()), unix.CLONE_NEWNET)
}

// DialContext dials addr from inside the namespace.
func (n *Netns) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := n.Do(func() error {
		var err error
		c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

// StartUpstream starts a stub upstream (see StartUpstream) on 127.0.0.1 at
// port inside the namespace (0: a port the kernel picks).
func (n *Netns) StartUpstream(mode UpstreamMode, port int) (*Upstream, error) {
	return n.StartUpstreamAt(mode, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
}

// StartUpstreamAt starts a stub upstream on addr (host:port) inside the
// namespace, for an address of the namespace other than loopback.
func (n *Netns) StartUpstreamAt(mode UpstreamMode, addr string) (*Upstream, error) {
	var (
		pc net.PacketConn
		l  net.Listener
	)
	err := n.Do(func() error {
		var err error
		pc, l, err = ListenBoth(addr)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("stub upstream in %s: %w", n.Name, err)
	}
	return serveUpstream(mode, pc, l)
}

// HTTPClient returns a client whose connections are dialed inside the
// namespace, giving up on a request after timeout (0: never).
func (n *Netns) HTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout:   timeout,
		Transport: &http.Transport{DialContext: n.DialContext, DisableKeepAlives: true},
	}
}

// Scrape reads http://addr/metrics inside the namespace.
func (n *Netns) Scrape(addr string) (Metrics, error) {
	return scrape(n.HTTPClient(5*time.Second), addr)
}
