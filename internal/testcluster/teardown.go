package testcluster

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Paths kubelet, containerd and CNI write outside any directory they are
// given. Those absent before the cluster started are removed with it.
var hostPaths = []string{
	"/var/lib/kubelet", "/var/lib/cni", "/var/log/containers", "/var/log/pods",
	"/run/containerd", "/run/kubernetes", "/etc/cni/net.d/cni.lock",
}

// Sysctls kubelet sets machine-wide (setupKernelTunables), and the
// conntrack table size kube-proxy would set: read before kubelet starts,
// restored by tear-down.
var globalSysctls = []string{
	"vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic", "kernel/panic_on_oops",
	"kernel/keys/root_maxkeys", "kernel/keys/root_maxbytes", "net/netfilter/nf_conntrack_max",
}

// TearDown removes the cluster whose state is in dir: it stops kubelet,
// kills the containers (every process in the kubepods cgroups), the
// containerd shims serving its socket and every process it started (by PID,
// after checking the PID still runs the same executable), unmounts what
// lives under dir, in /run/netns/cni-* and the host paths kubelet and
// containerd use, deletes the network namespaces, the kubepods cgroups and
// the host paths the cluster created, and restores the sysctls kubelet
// changed. It keeps dir/log and removes the rest of dir. Every step runs
// even when an earlier one fails; the errors are joined.
func TearDown(dir string) error {
	s, err := loadState(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			clearPointer(dir)
			return nil
		}
		return err
	}
	var errs []error
	note := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	byName := map[string]procRecord{}
	for _, p := range s.Procs {
		byName[p.Name] = p
	}
	// kubelet first, so that it restarts nothing.
	if p, ok := byName["kubelet"]; ok {
		stopProc(p, 10*time.Second)
	}
	for _, cg := range s.Cgroups {
		killCgroup(cg)
	}
	if s.ContainerdSock != "" {
		for _, pid := range shimsOf(s.ContainerdSock) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if p, ok := byName["containerd"]; ok {
		stopProc(p, 10*time.Second)
	}
	for i := len(s.Procs) - 1; i >= 0; i-- {
		stopProc(s.Procs[i], 10*time.Second)
	}
	note(unmountUnder(append([]string{dir, "/run/netns/cni-"}, hostPaths...)))
	for _, n := range listNetns() {
		if strings.HasPrefix(n, "cni-") {
			note(delNetns(n))
		}
	}
	for _, n := range s.Netns {
		note(delNetns(n))
		_ = os.RemoveAll(filepath.Join("/etc/netns", n))
	}
	for _, cg := range s.Cgroups {
		note(removeCgroup(cg))
	}
	for name, v := range s.Sysctls {
		note(os.WriteFile("/proc/sys/"+name, []byte(v), 0o644))
	}
	for _, p := range s.Created {
		note(os.RemoveAll(p))
	}
	if s.CreatedEtcNetns {
		_ = os.Remove("/etc/netns") // only if empty: other tests may use it
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "log" {
			note(os.RemoveAll(filepath.Join(dir, e.Name())))
		}
	}
	clearPointer(dir)
	return errors.Join(errs...)
}

// stopProc sends SIGTERM, then SIGKILL after grace, and waits for the
// process to be gone.
func stopProc(p procRecord, grace time.Duration) {
	if !p.alive() {
		return
	}
	_ = syscall.Kill(p.PID, syscall.SIGTERM)
	deadline := time.Now().Add(grace)
	for p.alive() && time.Now().Before(deadline) {
		reap(p.PID)
		time.Sleep(50 * time.Millisecond)
	}
	if p.alive() {
		_ = syscall.Kill(p.PID, syscall.SIGKILL)
		for i := 0; i < 100 && p.alive(); i++ {
			reap(p.PID)
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// reap collects pid if it is a child of this process that exited (a
// zombie would otherwise look alive).
func reap(pid int) {
	var ws syscall.WaitStatus
	_, _ = syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
}

// shimsOf returns the containerd-shim-runc-v2 processes whose command line
// names the containerd socket sock.
func shimsOf(sock string) []int {
	var pids []int
	ds, _ := os.ReadDir("/proc")
	for _, d := range ds {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if !strings.HasSuffix(args[0], "containerd-shim-runc-v2") {
			continue
		}
		for i := 0; i+1 < len(args); i++ {
			if args[i] == "-address" && args[i+1] == sock {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// killCgroup SIGKILLs every process in the cgroup tree root.
func killCgroup(root string) {
	for i := 0; i < 20; i++ {
		n := 0
		_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || d.Name() != "cgroup.procs" {
				return nil
			}
			b, _ := os.ReadFile(p)
			for _, f := range strings.Fields(string(b)) {
				if pid, err := strconv.Atoi(f); err == nil {
					_ = syscall.Kill(pid, syscall.SIGKILL)
					n++
				}
			}
			return nil
		})
		if n == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// removeCgroup removes the cgroup tree root, leaves first.
func removeCgroup(root string) error {
	var dirs []string
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
	var last error
	for _, d := range dirs {
		for i := 0; i < 50; i++ {
			if last = os.Remove(d); last == nil || errors.Is(last, os.ErrNotExist) {
				last = nil
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if last != nil {
		return fmt.Errorf("cgroup %s: %w", root, last)
	}
	return nil
}

// unmountUnder lazily unmounts every mount point starting with one of the
// prefixes, deepest first.
func unmountUnder(prefixes []string) error {
	var errs []error
	for pass := 0; pass < 3; pass++ {
		var points []string
		f, err := os.Open("/proc/self/mountinfo")
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 5 {
				continue
			}
			mp := unescapeMount(fields[4])
			for _, p := range prefixes {
				if mp == p || strings.HasPrefix(mp, strings.TrimSuffix(p, "/")+"/") || (strings.HasSuffix(p, "-") && strings.HasPrefix(mp, p)) {
					points = append(points, mp)
					break
				}
			}
		}
		f.Close()
		if len(points) == 0 {
			return nil
		}
		sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
		errs = errs[:0]
		for _, mp := range points {
			if err := unix.Unmount(mp, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
				errs = append(errs, fmt.Errorf("umount %s: %w", mp, err))
			}
		}
	}
	return errors.Join(errs...)
}

func unescapeMount(s string) string {
	r := strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`)
	return r.Replace(s)
}

func listNetns() []string {
	ds, _ := os.ReadDir("/run/netns")
	var out []string
	for _, d := range ds {
		out = append(out, d.Name())
	}
	return out
}

func delNetns(name string) error {
	if _, err := os.Stat(filepath.Join("/run/netns", name)); err != nil {
		return nil
	}
	out, err := exec.Command("ip", "netns", "del", name).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip netns del %s: %v: %s", name, err, out)
	}
	return nil
}

func readSysctl(name string) (string, error) {
	b, err := os.ReadFile("/proc/sys/" + name)
	return strings.TrimSpace(string(b)), err
}
