package dnsbench

import (
	"fmt"
	"os"
	"strconv"
	"strings"

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
