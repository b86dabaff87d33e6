package testenv

import (
	"context"
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
	return n.CommandContext(context.Background(), name, args...)
}

// CommandContext is Command, killed when ctx is done. ip netns exec
// replaces itself with name: the process is name's, its CPU time too.
func (n *Netns) CommandContext(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// StartCoreDNS is StartCoreDNS run inside the namespace: ip netns exec
// replaces itself with CoreDNS, so Stop signals CoreDNS directly.
func (n *Netns) StartCoreDNS(bin, dir, corefile string, timeout time.Duration) (*CoreDNS, error) {
	return startCoreDNS(n.Command, bin, dir, corefile, timeout)
}

// StartCoreDNSOn is StartCoreDNS with CoreDNS bound to cpus (OnCPUs):
// its Go runtime then sizes GOMAXPROCS to those CPUs.
func (n *Netns) StartCoreDNSOn(cpus, bin, dir, corefile string, timeout time.Duration) (*CoreDNS, error) {
	return startCoreDNS(func(name string, args ...string) *exec.Cmd {
		name, args = OnCPUs(cpus, name, args...)
		return n.Command(name, args...)
	}, bin, dir, corefile, timeout)
}

// OnCPUs returns the command line that runs name with args on cpus, a
// list as taskset takes it ("1", "0,2-3"; "": any CPU, name and args as
// they are): taskset sets the affinity and replaces itself with name.
func OnCPUs(cpus, name string, args ...string) (string, []string) {
	if cpus == "" {
		return name, args
	}
	return "taskset", append([]string{"-c", cpus, name}, args...)
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
