package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"

	"github.com/k8slint/k8slint/internal/testenv"
)

// TestTheImagesCoreDNSBindsPort53AsUser65532 unpacks /coredns from the
// image's layer as a container runtime does (the PAX xattr record becomes
// the file's security.capability) and runs it as 65532:65532 with no
// capability of its own, in a network namespace: it binds :53 and answers.
// The same file without the record cannot bind, so the record is what
// grants the port.
func TestTheImagesCoreDNSBindsPort53AsUser65532(t *testing.T) {
	if err := testenv.NetnsSupport(); err != nil {
		t.Skip(err)
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("setpriv not installed (util-linux)")
	}
	bin, err := testenv.Binary("./cmd/coredns-custom")
	if err != nil {
		t.Fatal(err)
	}
	s, err := CoreDNSSpec(BuildInfo{Version: "test", Created: time.Unix(0, 0), Binaries: map[string]string{"linux/amd64": bin}})
	if err != nil {
		t.Fatal(err)
	}
	gz, err := Layer(s.Platforms[0].Files, s.Created)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} { // 65532 must reach the files
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	withCap := unpack(t, gz, "coredns", filepath.Join(dir, "with-cap"))
	plain := filepath.Join(dir, "plain")
	data, err := os.ReadFile(withCap)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(plain, data, 0o755); err != nil {
		t.Fatal(err)
	}
	corefile := filepath.Join(dir, "Corefile")
	if err := os.WriteFile(corefile, []byte(".:53 {\n    bind 127.0.0.1\n    whoami\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		bin      string
		wantBind bool
	}{{withCap, true}, {plain, false}} {
		t.Run(filepath.Base(tc.bin), func(t *testing.T) {
			ns, err := testenv.NewNetns("k8slint-img")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ns.Delete() })
			var out bytes.Buffer
			cmd := ns.Command("setpriv", "--reuid=65532", "--regid=65532", "--clear-groups", "--inh-caps=-all", tc.bin, "-conf", corefile)
			cmd.Dir, cmd.Stdout, cmd.Stderr = dir, &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			t.Cleanup(func() {
				_ = cmd.Process.Signal(syscall.SIGTERM)
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					_ = cmd.Process.Kill()
					<-done
				}
			})
			var answer *dns.Msg
			deadline := time.Now().Add(30 * time.Second)
			for answer == nil && time.Now().Before(deadline) {
				select {
				case err := <-done:
					done <- err
					if tc.wantBind {
						t.Fatalf("coredns as 65532 exited: %v\n%s", err, out.String())
					}
					if !strings.Contains(out.String(), "bind: permission denied") {
						t.Fatalf("coredns without the capability exited without a permission error: %v\n%s", err, out.String())
					}
					return
				case <-time.After(100 * time.Millisecond):
				}
				_ = ns.Do(func() error {
					r, err := testenv.Query("127.0.0.1:53", "example.org", dns.TypeA)
					if err == nil {
						answer = r
					}
					return nil
				})
			}
			if !tc.wantBind {
				t.Fatalf("coredns without the capability answered on :53 as 65532\n%s", out.String())
			}
			if answer == nil {
				t.Fatalf("no answer on :53 within 30 s\n%s", out.String())
			}
			status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(status), "\nUid:\t65532\t65532\t65532\t65532\n") {
				t.Fatalf("coredns does not run as 65532:\n%s", status)
			}
		})
	}
}

// unpack writes the regular file name of a gzipped layer to dst and sets
// the extended attributes its PAX records carry, as containerd does.
func unpack(t *testing.T, gz []byte, name, dst string) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			t.Fatalf("%s not in the layer", name)
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name != name {
			continue
		}
		f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(f, tr); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		for k, v := range h.PAXRecords {
			if x, ok := strings.CutPrefix(k, "SCHILY.xattr."); ok {
				if err := unix.Setxattr(dst, x, []byte(v), 0); err != nil {
					t.Fatalf("setxattr %s: %v", x, err)
				}
			}
		}
		return dst
	}
}
