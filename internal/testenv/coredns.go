package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// CoreDNS is a running coredns-custom process.
type CoreDNS struct {
	Cmd      *exec.Cmd
	Corefile string // path of the Corefile it runs
	out      *syncBuffer
	done     chan struct{}
	waitErr  error
}

// StartCoreDNS writes corefile into dir and starts the coredns-custom
// binary on it, with dir as its working directory. It returns once CoreDNS
// has printed its start-up banner, or an error with its output.
func StartCoreDNS(bin, dir, corefile string, timeout time.Duration) (*CoreDNS, error) {
	return startCoreDNS(exec.Command, bin, dir, corefile, timeout)
}

// startCoreDNS starts CoreDNS through command (exec.Command, or one that
// runs it inside a network namespace) and waits for its banner.
func startCoreDNS(command func(string, ...string) *exec.Cmd, bin, dir, corefile string, timeout time.Duration) (*CoreDNS, error) {
	path := filepath.Join(dir, "Corefile")
	if err := os.WriteFile(path, []byte(corefile), 0o644); err != nil {
		return nil, err
	}
	c := &CoreDNS{Corefile: path, out: &syncBuffer{}, done: make(chan struct{})}
	c.Cmd = command(bin, "-conf", path)
	c.Cmd.Dir = dir
	c.Cmd.Stdout = c.out
	c.Cmd.Stderr = c.out
	// Die with the test process, whatever happens to it.
	c.Cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
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

// Output returns what CoreDNS printed so far.
func (c *CoreDNS) Output() string { return c.out.String() }

// Exited reports whether the process has ended.
func (c *CoreDNS) Exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Stop ends CoreDNS with SIGTERM (SIGKILL after 5 s) and waits for it.
func (c *CoreDNS) Stop() error {
	if c.Exited() {
		return nil
	}
	_ = c.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		_ = c.Cmd.Process.Kill()
		<-c.done
	}
	return nil
}

// RunCoreDNS runs the binary with args to completion (for -version,
// -plugins, or a Corefile expected to fail) and returns its output.
func RunCoreDNS(bin string, timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	out, err := cmd.CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return string(out), fmt.Errorf("timed out after %s", timeout)
	}
	return string(out), err
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
