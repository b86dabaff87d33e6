// Package testcluster runs a real single-node Kubernetes for tests and for
// `make cluster-up`: etcd, kube-apiserver (token auth, RBAC),
// kube-controller-manager, kube-scheduler, containerd with runc and the
// CNI bridge, kubelet and kube-proxy (iptables), all inside the network
// namespace kn with the bridge cni0 at 10.88.0.1/24, so pods reach
// 10.96.0.1 and 10.96.0.10 through kube-proxy's DNAT and no rule or address
// of the host changes. The Kubernetes commands are built from the module
// proxy (kubetools, Version); etcd, containerd, runc, the CNI plugins and
// conntrack are Debian's. Images are built here (internal/image) and
// imported with ctr; pods use imagePullPolicy Never.
//
// The node's resolver, which kubelet gives dnsPolicy: Default pods (the
// CoreDNS pods among them, whose `forward . /etc/resolv.conf` reaches it),
// is a stub DNS server at 10.88.0.1:53 inside kn that answers every A
// question with 192.0.2.53: nothing ever reaches the machine's real
// resolver.
//
// One cluster exists per machine: Start holds LockPath while it runs.
// TearDown removes everything the cluster made (see there); Stop calls it,
// and a Cluster started by a test also tears down on SIGINT and SIGTERM.
package testcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/k8slint/k8slint/internal/testenv"
)

// Options configure Start.
type Options struct {
	// Root is the repository root (the kubetools module and the cache of
	// built Kubernetes commands are found from it).
	Root string
	// StateDir holds everything of the cluster (PKI, etcd's data,
	// containerd's root, kubelet's root, logs under log/). It must not be
	// inside a path that tear-down removes.
	StateDir string
	// CoreDNS is the coredns-custom binary: it runs the node's stub
	// resolver and goes into the CoreDNS image.
	CoreDNS string
	// Images are extra images to import (besides the pause image).
	Images []Image
	// Users are static-token users besides the built-in ones; their tokens
	// are in Cluster.Tokens and kubeconfigs in Kubeconfig(name).
	Users []User
	// Detached leaves the cluster running when this process exits
	// (make cluster-up); its processes hold LockPath until TearDown.
	Detached bool
	// Owner is recorded for other processes waiting for the lock.
	Owner string
	// Logf receives progress lines (nil: none).
	Logf func(format string, args ...any)
}

// Cluster is a running cluster.
type Cluster struct {
	opts    Options
	Dir     string
	Bin     string // directory of the Kubernetes commands
	Tokens  map[string]string
	Node    *testenv.Netns // the node network namespace kn
	Config  *rest.Config   // admin, through the API proxy on host loopback
	Client  *kubernetes.Clientset
	APIAddr string // host loopback address of the API proxy
	state   *state
	lock    *os.File
	procs   map[string]*exec.Cmd
	mu      sync.Mutex
	stopped bool
	sigCh   chan os.Signal
	proxyL  net.Listener
	started time.Time
}

// Prerequisites returns nil when a cluster can start here, or what is
// missing (for t.Skip).
func Prerequisites() error {
	if os.Geteuid() != 0 {
		return errors.New("the test cluster needs root")
	}
	var missing []string
	for _, tool := range []struct{ bin, pkg string }{
		{"etcd", "etcd-server"}, {"containerd", "containerd"}, {"ctr", "containerd"}, {"runc", "runc"},
		{"conntrack", "conntrack"}, {"iptables", "iptables"}, {"ip", "iproute2"}, {"nsenter", "util-linux"},
	} {
		if _, err := exec.LookPath(tool.bin); err != nil {
			missing = append(missing, tool.bin+" (Debian "+tool.pkg+")")
		}
	}
	for _, p := range []string{"bridge", "host-local", "loopback", "portmap"} {
		if _, err := os.Stat(filepath.Join(cniBinDir, p)); err != nil {
			missing = append(missing, "CNI plugin "+p+" (Debian containernetworking-plugins)")
		}
	}
	if _, err := exec.LookPath("go"); err != nil {
		missing = append(missing, "go (to build the Kubernetes commands)")
	}
	if len(missing) > 0 {
		return fmt.Errorf("the test cluster needs %s", strings.Join(missing, ", "))
	}
	return nil
}

const cniBinDir = "/usr/lib/cni"

func (c *Cluster) logf(format string, args ...any) {
	if c.opts.Logf != nil {
		c.opts.Logf("[%5.1fs] "+format, append([]any{time.Since(c.started).Seconds()}, args...)...)
	}
}

// Start brings a cluster up: it takes LockPath (waiting for a cluster of
// another test process to finish, failing if one from make cluster-up
// runs), tears down a cluster whose owner died, builds the Kubernetes
// commands if needed, and returns once the node is Ready, kube-proxy's
// rules are in place and the kube-dns Service exists. On error everything
// started is torn down.
func Start(ctx context.Context, opts Options) (c *Cluster, err error) {
	if err := Prerequisites(); err != nil {
		return nil, err
	}
	c = &Cluster{opts: opts, Dir: opts.StateDir, procs: map[string]*exec.Cmd{}, started: time.Now(), Node: &testenv.Netns{Name: NodeNetns}}
	if n := len(c.containerdSock() + ".ttrpc"); n >= 108 {
		return nil, fmt.Errorf("state directory %s: containerd's socket path would be %d bytes, the limit is 107", c.Dir, n)
	}
	if c.lock, err = acquireLock(ctx, c.logf); err != nil {
		return nil, err
	}
	if err := tearDownLeftover(c.logf); err != nil {
		c.lock.Close()
		return nil, err
	}
	if c.Bin, err = KubeBinaries(opts.Root, c.logf); err != nil {
		c.lock.Close()
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(c.Dir, "log"), 0o755); err != nil {
		c.lock.Close()
		return nil, err
	}
	owner := opts.Owner
	if owner == "" {
		owner = fmt.Sprintf("go test (pid %d)", os.Getpid())
	}
	c.state = newState(c.Dir, owner)
	if err := c.state.update(func(*state) {}); err != nil {
		c.lock.Close()
		return nil, err
	}
	if err := writePointer(c.Dir); err != nil {
		c.lock.Close()
		return nil, err
	}
	if !opts.Detached {
		c.sigCh = make(chan os.Signal, 1)
		signal.Notify(c.sigCh, syscall.SIGINT, syscall.SIGTERM)
		go func() {
			if s, ok := <-c.sigCh; ok {
				fmt.Fprintf(os.Stderr, "testcluster: %v: tearing the cluster down\n", s)
				_ = c.Stop()
				os.Exit(130)
			}
		}()
	}
	defer func() {
		if err != nil {
			c.dumpLogs(os.Stderr, 30)
			_ = c.Stop()
			c = nil
		}
	}()
	if err := c.up(ctx); err != nil {
		return c, err
	}
	c.logf("cluster up")
	return c, nil
}

// tearDownLeftover tears down the cluster the pointer names, whose owner
// died (the caller holds LockPath, so no live cluster is recorded).
func tearDownLeftover(logf func(string, ...any)) error {
	prev := recordedStateDir()
	if prev == "" {
		return nil
	}
	logf("tearing down the cluster left in %s", prev)
	if err := TearDown(prev); err != nil {
		return fmt.Errorf("tearing down the cluster left in %s: %w", prev, err)
	}
	return nil
}

// acquireLock takes LockPath, waiting while another test process holds it.
func acquireLock(ctx context.Context, logf func(string, ...any)) (*os.File, error) {
	f, err := os.OpenFile(LockPath, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
		return f, nil
	}
	if dir := recordedStateDir(); dir != "" {
		if s, err := loadState(dir); err == nil && s.Owner == "make cluster-up" {
			f.Close()
			return nil, fmt.Errorf("a cluster started by make cluster-up runs (state in %s): stop it with make cluster-down", dir)
		}
	}
	logf("waiting for %s (another process runs the test cluster)", LockPath)
	done := make(chan error, 1)
	go func() { done <- syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }()
	select {
	case err := <-done:
		if err != nil {
			f.Close()
			return nil, err
		}
		return f, nil
	case <-ctx.Done():
		f.Close() // the goroutine's flock fails or returns on a closed file
		return nil, ctx.Err()
	}
}

// Stop tears the cluster down (see TearDown) and releases the lock. It is
// safe to call more than once.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return nil
	}
	c.stopped = true
	c.mu.Unlock()
	if c.sigCh != nil {
		signal.Stop(c.sigCh)
	}
	if c.proxyL != nil {
		c.proxyL.Close()
	}
	err := TearDown(c.Dir)
	// Collect the children, so none is left a zombie.
	for _, cmd := range c.procs {
		if cmd.Process != nil {
			reap(cmd.Process.Pid)
		}
	}
	if c.lock != nil {
		c.lock.Close()
	}
	return err
}

// path returns a path in the state directory.
func (c *Cluster) path(elem ...string) string {
	return filepath.Join(append([]string{c.Dir}, elem...)...)
}

// LogFile returns the path of a component's log (etcd, kube-apiserver,
// kubelet, containerd, node-stub, ...).
func (c *Cluster) LogFile(name string) string { return c.path("log", name+".log") }

// Kubeconfig returns the path of a kubeconfig for user (an Options.Users
// name, "admin", "coredns" or "linter") that reaches the API server
// through the proxy on host loopback.
func (c *Cluster) Kubeconfig(user string) string {
	return c.path("kubeconfigs", strings.ReplaceAll(user, ":", "-")+".kubeconfig")
}

// Kubectl returns the command kubectl ARGS as user admin.
func (c *Cluster) Kubectl(args ...string) *exec.Cmd {
	return exec.Command(filepath.Join(c.Bin, "kubectl"), append([]string{"--kubeconfig", c.Kubeconfig("admin")}, args...)...)
}

// startProc starts a long-running component with its output in
// log/NAME.log, inside kn when inNode (nsenter --net only: kubelet and
// containerd must share the host's mount namespace).
func (c *Cluster) startProc(name string, inNode bool, bin string, args ...string) error {
	argv := append([]string{bin}, args...)
	if inNode {
		argv = append([]string{"nsenter", "--net=/run/netns/" + NodeNetns, "--"}, argv...)
	}
	logf, err := os.OpenFile(c.LogFile(name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = c.Dir
	if c.opts.Detached {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		cmd.ExtraFiles = []*os.File{c.lock} // the lock lives as long as the cluster
	} else {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	c.procs[name] = cmd
	rec := procRecord{Name: name, PID: cmd.Process.Pid, Exe: bin}
	if c.opts.Detached {
		_ = cmd.Process.Release() // sets Process.Pid to -1
	}
	return c.state.update(func(s *state) { s.Procs = append(s.Procs, rec) })
}

// stopProcNamed stops one component (SIGTERM, SIGKILL after grace).
func (c *Cluster) stopProcNamed(name string, grace time.Duration) {
	for _, p := range c.state.Procs {
		if p.Name == name {
			stopProc(p, grace)
		}
	}
	c.state.update(func(s *state) {
		var keep []procRecord
		for _, p := range s.Procs {
			if p.Name != name {
				keep = append(keep, p)
			}
		}
		s.Procs = keep
	})
}

// waitFor polls ok every interval until it returns true, ctx ends or
// timeout passes; the error names what was awaited and the last error.
func waitFor(ctx context.Context, what string, timeout time.Duration, ok func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		done, err := ok()
		if done {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("%s: not within %s: %v", what, timeout, last)
			}
			return fmt.Errorf("%s: not within %s", what, timeout)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// httpInNode GETs url from inside kn (TLS not verified: used for health
// endpoints only).
func (c *Cluster) httpInNode(ctx context.Context, url string, header http.Header) (int, string, error) {
	client := &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			DialContext:     c.Node.DialContext,
			TLSClientConfig: insecureTLS(),
		},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b), nil
}

// dumpLogs writes the last lines of every component's log to w.
func (c *Cluster) dumpLogs(w io.Writer, lines int) {
	ents, _ := os.ReadDir(c.path("log"))
	var files []string
	for _, e := range ents {
		files = append(files, c.path("log", e.Name()))
	}
	// And the containers of kube-system's pods (CoreDNS's errors plugin),
	// as kubelet keeps them.
	pods, _ := filepath.Glob(c.path("pod-logs", "kube-system_*", "*", "*.log"))
	for _, f := range append(files, pods...) {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		ls := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		if len(ls) > lines {
			ls = ls[len(ls)-lines:]
		}
		name, err := filepath.Rel(c.Dir, f)
		if err != nil {
			name = f
		}
		fmt.Fprintf(w, "==> %s <==\n%s\n", name, strings.Join(ls, "\n"))
	}
}

// DumpLogs writes the last lines of every component's log to w (for a
// failed test).
func (c *Cluster) DumpLogs(w io.Writer, lines int) { c.dumpLogs(w, lines) }
