package testcluster

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Fixed names: one cluster per machine, whose node network namespace,
// addresses and lock are always these.
const (
	NodeNetns     = "kn"
	NodeName      = "kn"
	NodeIP        = "10.88.0.1"
	PodCIDR       = "10.88.0.0/24"
	ServiceCIDR   = "10.96.0.0/16"
	APIServiceIP  = "10.96.0.1"
	DNSServiceIP  = "10.96.0.10"
	ClusterDomain = "cluster.local"

	// LockPath is held by whoever runs the cluster (also by the processes of
	// a cluster left running by `make cluster-up`).
	LockPath = "/tmp/k8slint-cluster.lock"
	// pointerPath names the state directory of the cluster that exists (or
	// existed and was not torn down), so any process can tear it down.
	pointerPath = "/tmp/k8slint-cluster.state"
)

// state is what tear-down needs, kept in STATE_DIR/state.json and updated
// as the cluster comes up, so that a cluster can be torn down by another
// process (make cluster-down) or after its owner died.
type state struct {
	mu      sync.Mutex
	path    string
	Dir     string
	Owner   string // "make cluster-up", or "go test (pid N)"
	Procs   []procRecord
	Sysctls map[string]string // global sysctls as they were before kubelet started
	Created []string          // paths outside Dir that did not exist before
	Netns   []string          // network namespaces created (kn, hand-made pods)
	// CreatedEtcNetns: /etc/netns did not exist before the cluster.
	CreatedEtcNetns bool
	// Cgroups are the kubepods directories kubelet creates in every
	// hierarchy (absent before the cluster started).
	Cgroups        []string
	ContainerdSock string
	APIProxy       string // host loopback address of the API server proxy
}

// procRecord identifies a process the cluster started: its PID and the
// executable it ran, checked before it is signalled so that a reused PID
// is never killed.
type procRecord struct {
	Name string
	PID  int
	Exe  string
}

func newState(dir, owner string) *state {
	return &state{path: filepath.Join(dir, "state.json"), Dir: dir, Owner: owner, Sysctls: map[string]string{}}
}

func loadState(dir string) (*state, error) {
	s := &state{path: filepath.Join(dir, "state.json")}
	b, err := os.ReadFile(s.path)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("%s: %w", s.path, err)
	}
	return s, nil
}

// update applies f and writes the state through.
func (s *state) update(f func(*state)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, s.path)
}

// recordedStateDir returns the state directory the pointer file names, or "".
func recordedStateDir() string {
	b, err := os.ReadFile(pointerPath)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func writePointer(dir string) error { return os.WriteFile(pointerPath, []byte(dir+"\n"), 0o644) }

func clearPointer(dir string) {
	if recordedStateDir() == dir {
		_ = os.Remove(pointerPath)
	}
}

// procAlive reports whether the recorded process still runs the recorded
// executable.
func (p procRecord) alive() bool {
	if p.PID <= 1 { // never signal init, a process group or every process
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p.PID))
	if err != nil {
		return false
	}
	argv0, _, _ := strings.Cut(string(b), "\x00")
	return argv0 == p.Exe
}
