package testcluster

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// Version is the Kubernetes release the cluster runs: the kubetools
// module pins k8s.io/kubernetes at it.
const Version = "v1.34.12"

// Commands are the Kubernetes commands built from kubetools, in one go
// build so that the packages they share compile once.
var Commands = []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy", "kubelet", "kubectl"}

// KubeBinaries returns the directory holding the Commands of Version,
// building them first if the cache has none: ROOT/.cache/kube/VERSION-KEY,
// KEY hashing the kubetools module's go.mod and go.sum and the Go version.
// The build (about 10 minutes on 2 cores with a cold Go build cache, a few
// seconds of linking with a warm one) holds /tmp/k8slint-kube-build.lock,
// so concurrent test processes build once. logf, if not nil, is told when a
// build starts.
func KubeBinaries(root string, logf func(string, ...any)) (string, error) {
	tools := filepath.Join(root, "internal", "testcluster", "kubetools")
	h := sha256.New()
	for _, f := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(tools, f))
		if err != nil {
			return "", err
		}
		h.Write(b)
	}
	h.Write([]byte(runtime.Version()))
	dir := filepath.Join(root, ".cache", "kube", Version+"-"+hex.EncodeToString(h.Sum(nil))[:12])
	if haveAll(dir) {
		return dir, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "k8slint-kube-build.lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	if haveAll(dir) { // built by another process meanwhile
		return dir, nil
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if logf != nil {
		logf("building Kubernetes %s (%s) into %s", Version, strings.Join(Commands, ", "), dir)
	}
	start := time.Now()
	minor := strings.Split(strings.TrimPrefix(Version, "v"), ".")[1]
	ldflags := strings.Join([]string{
		"-s", "-w",
		"-X k8s.io/component-base/version.gitVersion=" + Version,
		"-X k8s.io/component-base/version.gitMajor=1",
		"-X k8s.io/component-base/version.gitMinor=" + minor,
		"-X k8s.io/component-base/version.gitTreeState=clean",
		"-X k8s.io/component-base/version.buildDate=2025-01-01T00:00:00Z",
		"-X k8s.io/client-go/pkg/version.gitVersion=" + Version,
	}, " ")
	args := []string{"build", "-trimpath", "-ldflags", ldflags, "-o", tmp + "/"}
	for _, c := range Commands {
		args = append(args, "k8s.io/kubernetes/cmd/"+c)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = tools
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build of Kubernetes %s: %v\n%s", Version, err, out.String())
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", err
	}
	if logf != nil {
		logf("built Kubernetes %s in %s", Version, time.Since(start).Round(time.Second))
	}
	return dir, nil
}

func haveAll(dir string) bool {
	for _, c := range Commands {
		if fi, err := os.Stat(filepath.Join(dir, c)); err != nil || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}
