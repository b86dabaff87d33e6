package dnsbench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// ProcessCPU returns the CPU time (user and system, all threads, those that
// ended included) that process pid has used so far, read from its
// process-wide CPU-time clock (clock_getcpuclockid): nanosecond
// resolution, where /proc/PID/stat counts 10 ms ticks.
func ProcessCPU(pid int) (time.Duration, error) {
	if pid <= 0 || pid >= 1<<22 { // PID_MAX_LIMIT
		return 0, fmt.Errorf("CPU clock of process %d: no such process id", pid)
	}
	// MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED) in the kernel's
	// posix-timers.h, what glibc's clock_getcpuclockid returns.
	clock := (^int32(pid))<<3 | 2
	var ts syscall.Timespec
	_, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, uintptr(clock), uintptr(unsafe.Pointer(&ts)), 0)
	if errno != 0 {
		return 0, fmt.Errorf("CPU clock of process %d: %w", pid, errno)
	}
	return time.Duration(ts.Nano()), nil
}

// statCPU returns utime+stime of process pid from /proc/PID/stat, in
// clock ticks (USER_HZ, 100 on Linux): a coarse second opinion on
// ProcessCPU.
func statCPU(pid int) (ticks int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	for _, x := range f[11:13] {
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return ticks, nil
}
