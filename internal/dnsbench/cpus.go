package dnsbench

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// pinCPUs splits the CPUs this process may run on for Pin: the last for
// the CoreDNS processes, the others for the load, each as taskset lists
// them.
func pinCPUs() (coredns, load string, err error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return "", "", fmt.Errorf("the CPUs this process may use: %w", err)
	}
	var cpus []string
	for i := range len(set) * 64 {
		if set.IsSet(i) {
			cpus = append(cpus, strconv.Itoa(i))
		}
	}
	if len(cpus) < 2 {
		return "", "", fmt.Errorf("pinning CoreDNS to a CPU of its own needs two CPUs, this process may use %d (run it unpinned: -pin=false)", len(cpus))
	}
	return cpus[len(cpus)-1], strings.Join(cpus[:len(cpus)-1], ","), nil
}

// allowedCPUs returns the CPUs process pid may run on, as the kernel
// lists them in /proc/PID/status (Cpus_allowed_list: "1", "0-2,4").
func allowedCPUs(pid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("/proc/%d/status: no Cpus_allowed_list", pid)
}

// waitRunsOn waits until process pid (started through testenv.OnCPUs, so taskset
// first) runs exe, and checks that it may run on cpus alone: what taskset
// set must have reached the program it replaced itself with. A process
// that ends first is not checked: its exit says what went wrong.
func waitRunsOn(pid int, exe, cpus string) error {
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		got, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if err != nil {
			return nil // ended (or a zombie): nothing left to check
		}
		if got == exe {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("process %d runs %s, not %s, after 5 s", pid, got, exe)
		}
	}
	return runsOn(pid, cpus)
}

// runsOn checks that process pid may run on the CPUs of the list cpus,
// and on no others.
func runsOn(pid int, cpus string) error {
	want, err := cpuSet(cpus)
	if err != nil {
		return err
	}
	list, err := allowedCPUs(pid)
	if err != nil {
		return err
	}
	got, err := cpuSet(list)
	if err != nil {
		return err
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("process %d runs on CPUs %s, not %s", pid, list, cpus)
	}
	return nil
}

// cpuSet parses a CPU list as taskset takes it and the kernel prints it
// ("0", "0,2-3") into its CPUs in order.
func cpuSet(list string) ([]int, error) {
	var out []int
	for _, r := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(r, "-")
		a, err := strconv.Atoi(lo)
		b := a
		if err == nil && isRange {
			b, err = strconv.Atoi(hi)
		}
		if err != nil || b < a {
			return nil, fmt.Errorf("CPU list %q: %q is not a CPU or a range of them", list, r)
		}
		for i := a; i <= b; i++ {
			out = append(out, i)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
