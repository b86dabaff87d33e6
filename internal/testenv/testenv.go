// Package testenv starts real parts for tests and the demo: the built
// coredns-custom binary on loopback ports, stub upstream DNS servers, and
// helpers to query them and scrape their metrics. It sends traffic only to
// loopback addresses.
package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// ModuleRoot returns the directory holding the project's go.mod (module
// github.com/k8slint/k8slint), found from the working directory upwards,
// so that the tests of a nested tools module (deploy/monitoring) find it
// too.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && modulePath(b) == "github.com/k8slint/k8slint" {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testenv: the go.mod of github.com/k8slint/k8slint not found above the working directory")
		}
		dir = parent
	}
}

// modulePath returns the module path a go.mod declares.
func modulePath(gomod []byte) string {
	for _, line := range strings.Split(string(gomod), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

var (
	buildMu    sync.Mutex
	buildCache = map[string]string{}
)

// Binary builds the main package pkg (for example "./cmd/coredns-custom")
// into ROOT/bin/NAME and returns its path. The go tool skips the link when
// the binary is up to date; an exclusive file lock keeps concurrently
// running test packages (and checkouts: the lock file is machine-wide, in
// the temporary directory) from building CoreDNS at the same time. Set
// K8SLINT_COREDNS_BIN to use a prebuilt coredns-custom instead.
func Binary(pkg string) (string, error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := buildCache[pkg]; ok {
		return p, nil
	}
	if env := os.Getenv("K8SLINT_COREDNS_BIN"); env != "" && filepath.Base(pkg) == "coredns-custom" {
		buildCache[pkg] = env
		return env, nil
	}
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	out := filepath.Join(root, "bin", filepath.Base(pkg))
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "k8slint-build.lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, stderr.String())
	}
	buildCache[pkg] = out
	return out, nil
}

// FreePort returns a loopback port that is free for both UDP and TCP at
// the time of the call, for a process to bind later. It is chosen as
// ListenBoth chooses one: outside the kernel's range of ephemeral ports,
// from which the local end of every outgoing connection is taken, so that
// no test's connection takes it before the caller binds it.
func FreePort() (int, error) {
	pc, l, err := ListenBoth("127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("testenv: no free loopback port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	pc.Close()
	return port, nil
}

// pickPort returns a random port outside the ephemeral range, from 10000
// up to it (or above it, when it starts too low), or 0 when there is no
// room for one.
func pickPort() int {
	lo, hi := ephemeralRange()
	switch {
	case lo > 11000:
		return 10000 + rand.IntN(lo-10000)
	case hi < 64535:
		return hi + 1 + rand.IntN(65535-hi)
	}
	return 0
}

// ephemeralRange is the kernel's range of ephemeral ports
// (net.ipv4.ip_local_port_range), or its default where it cannot be read.
func ephemeralRange() (lo, hi int) {
	lo, hi = 32768, 60999
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		var a, z int
		if n, _ := fmt.Sscan(string(b), &a, &z); n == 2 && 0 < a && a <= z {
			lo, hi = a, z
		}
	}
	return lo, hi
}
