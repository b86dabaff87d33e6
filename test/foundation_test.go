// Package test holds end-to-end tests that run the built binaries.
package test

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coredns/coredns/core/dnsserver"
	"github.com/miekg/dns"

	"github.com/k8slint/k8slint/corefiles"
	"github.com/k8slint/k8slint/internal/testenv"
	"github.com/k8slint/k8slint/internal/validate"
)

func coreDNSBinary(t *testing.T) string {
	t.Helper()
	bin, err := testenv.Binary("./cmd/coredns-custom")
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func TestPluginsOfTheCustomBuildAreTheStockOnesPlusK8slint(t *testing.T) {
	out, err := testenv.RunCoreDNS(coreDNSBinary(t), 30*time.Second, "-plugins")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := strings.Fields(out)
	slices.Sort(got)
	want := append(slices.Clone(dnsserver.Directives), "k8slint")
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("-plugins lists\n%v\nwant the stock directives of the CoreDNS module plus k8slint:\n%v", got, want)
	}
}

func TestVersionReportsCoreDNSReleaseAndK8slint(t *testing.T) {
	out, err := testenv.RunCoreDNS(coreDNSBinary(t), 30*time.Second, "-version")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if lines[0] != "CoreDNS-1.15.0" {
		t.Errorf("first line %q, want CoreDNS-1.15.0", lines[0])
	}
	if !strings.Contains(out, "k8slint-") {
		t.Errorf("no k8slint version in:\n%s", out)
	}
}

func TestTheBinaryIsStatic(t *testing.T) {
	b, err := os.ReadFile(coreDNSBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	// A dynamically linked ELF names its interpreter (ld-linux) in PT_INTERP.
	if strings.Contains(string(b[:min(len(b), 4096)]), "ld-linux") {
		t.Fatal("coredns-custom is dynamically linked; build with CGO_ENABLED=0")
	}
}

// TestEveryShippedCorefileRuns starts the built binary on every file in
// corefiles/ (ports moved to free loopback ports, non-local upstreams
// replaced by a stub) and asks it one in-cluster and one external name.
// The kubeadm Corefile needs a Kubernetes API, so here it is only run
// through every plugin's setup code.
func TestEveryShippedCorefileRuns(t *testing.T) {
	bin := coreDNSBinary(t)
	up, err := testenv.StartUpstream(testenv.Answer, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	for _, name := range corefiles.Names() {
		t.Run(name, func(t *testing.T) {
			body, err := corefiles.Read(name)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(body, "# "+name+":") {
				t.Errorf("%s does not start with a comment saying what it is for", name)
			}
			if strings.Contains(body, "\n    kubernetes ") {
				if err := validate.Corefile(name, []byte(body)); err != nil {
					t.Fatal(err)
				}
				return
			}
			rel, err := testenv.Relocate(body, up.Addr)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := corefiles.WriteSupport(dir); err != nil {
				t.Fatal(err)
			}
			// A Corefile's own loopback upstream (the demo's) is a stub too.
			for orig, port := range rel.Ports {
				if orig == 15353 {
					u, err := testenv.StartUpstream(testenv.Answer, port)
					if err != nil {
						t.Fatal(err)
					}
					defer u.Close()
				}
			}
			c, err := testenv.StartCoreDNS(bin, dir, rel.Corefile, 20*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Stop()
			addr := net.JoinHostPort("127.0.0.1", itoa(rel.Port(mainPort(body))))
			for _, q := range []string{"example.com.", "kubernetes.default.svc.cluster.local."} {
				r, err := testenv.Query(addr, q, dns.TypeA)
				if err != nil {
					t.Fatalf("%s: %v\n%s", q, err, c.Output())
				}
				if r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 {
					t.Fatalf("%s: got %s with %d answers\n%s", q, dns.RcodeToString[r.Rcode], len(r.Answer), c.Output())
				}
			}
		})
	}
}

func TestSupportFilesAreWritten(t *testing.T) {
	dir := t.TempDir()
	if err := corefiles.WriteSupport(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "db.cluster.local")); err != nil {
		t.Fatal(err)
	}
}

// mainPort is the port of the Corefile's first server key.
func mainPort(corefile string) int {
	for _, line := range strings.Split(corefile, "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && f[len(f)-1] == "{" && !strings.HasPrefix(line, " ") {
			if i := strings.LastIndexByte(f[0], ':'); i >= 0 {
				return atoi(f[0][i+1:])
			}
			return 53
		}
	}
	return 53
}
