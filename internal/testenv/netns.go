package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Netns is a network namespace a test created, with only loopback up:
// whatever runs inside can reach nothing but itself.
type Netns struct {
	Name string
}

var netnsSeq atomic.Int64

// NetnsSupport returns nil when network namespaces can be made here (root
// and the ip tool), or the reason they cannot, for t.Skip.
func NetnsSupport() error {
	if os.Geteuid() != 0 {
		return errors.New("network namespaces need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return errors.New("network namespaces need the ip tool")
	}
	return nil
}

// NewNetns creates a namespace named prefix-PID-N and brings up its
// loopback. Call Delete when done, also when the test fails.
func NewNetns(prefix string) (*Netns, error) {
	n := &Netns{Name: fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), netnsSeq.Add(1))}
	if out, err := exec.Command("ip", "netns", "add", n.Name).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ip netns add %s: %v: %s", n.Name, err, out)
	}
	if out, err := exec.Command("ip", "-n", n.Name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		n.Delete()
		return nil, fmt.Errorf("lo up in %s: %v: %s", n.Name, err, out)
	}
	return n, nil
}

// etcDir is where ip netns exec finds files it bind-mounts over /etc.
func (n *Netns) etcDir() string { return filepath.Join("/etc/netns", n.Name) }

// WriteResolvConf sets the /etc/resolv.conf that programs started with
// Command see.
func (n *Netns) WriteResolvConf(text string) error {
	if err := os.MkdirAll(n.etcDir(), 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(n.etcDir(), "resolv.conf"), []byte(text), 0o644)
}

// Command returns a command that runs name with args inside the namespace.
func (n *Netns) Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command("ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// StartCoreDNS is StartCoreDNS run inside the namespace: ip netns exec
// replaces itself with CoreDNS, so Stop signals CoreDNS directly.
func (n *Netns) StartCoreDNS(bin, dir, corefile string, timeout time.Duration) (*CoreDNS, error) {
	path := filepath.Join(dir, "Corefile")
	if err := os.WriteFile(path, []byte(corefile), 0o644); err != nil {
		return nil, err
	}
	c := &CoreDNS{Corefile: path, out: &syncBuffer{}, done: make(chan struct{})}
	c.Cmd = n.Command(bin, "-conf", path)
	c.Cmd.Dir = dir
	c.Cmd.Stdout = c.out
	c.Cmd.Stderr = c.out
	if err := c.Cmd.Start(); err != nil {
		return nil, err
	}
	go func() { c.waitErr = c.Cmd.Wait(); close(c.done) }()
	deadline := time.After(timeout)
	for !strings.Contains(c.out.String(), "CoreDNS-") {
		select {
		case <-c.done:
			return nil, fmt.Errorf("coredns exited: %v\n%s", c.waitErr, c.out.String())
		case <-deadline:
			c.Stop()
			return nil, fmt.Errorf("coredns did not start within %s\n%s", timeout, c.out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return c, nil
}

// Delete removes the namespace and its /etc/netns directory. It is safe
// to call more than once.
func (n *Netns) Delete() error {
	errEtc := os.RemoveAll(n.etcDir())
	out, err := exec.Command("ip", "netns", "del", n.Name).CombinedOutput()
	if err != nil && !strings.Contains(string(out), "No such file") {
		return fmt.Errorf("ip netns del %s: %v: %s", n.Name, err, out)
	}
	return errEtc
}
