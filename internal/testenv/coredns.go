package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// CoreDNS is a running coredns-custom process.
type CoreDNS struct {
	*Process
	Corefile string // path of the Corefile it runs
	out      *SyncBuffer
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
	c := &CoreDNS{Corefile: path, out: &SyncBuffer{}}
	cmd := command(bin, "-conf", path)
	cmd.Dir = dir
	cmd.Stdout = c.out
	cmd.Stderr = c.out
	// Die with the test process, whatever happens to it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var err error
	if c.Process, err = StartProcess(cmd); err != nil {
		return nil, err
	}
	deadline := time.After(timeout)
	for !strings.Contains(c.out.String(), "CoreDNS-") {
		select {
		case <-c.Done():
			return nil, fmt.Errorf("coredns exited: %v\n%s", c.Err(), c.out.String())
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
