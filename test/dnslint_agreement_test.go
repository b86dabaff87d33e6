package test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/rules"
	"github.com/k8slint/k8slint/internal/testenv"
)

// agreementCorpus holds good and broken Corefiles: the testdata of
// corefile-invalid, whose `# want` lines say what dnslint reports (this
// test checks that the real binary rejects exactly those files, at the
// same line), and of the rules that report what CoreDNS accepts but
// should not be left so (corefile-malformed, corefile-setup-warning).
var agreementCorpus = []string{
	"../internal/lint/rules/testdata/corefile-invalid",
	"../internal/lint/rules/testdata/corefile-malformed",
	"../internal/lint/rules/testdata/corefile-setup-warning",
}

// corpusPort marks the ports a corpus file names (15300-15399): each is
// moved to a free loopback port before the binary runs it. Keys without a
// port get the binary's -dns.port, also a free port.
var corpusPort = regexp.MustCompile(`\b153\d\d\b`)

// binaryLine is where CoreDNS puts the line of a parse error: in the
// Corefile, or in an imported override snippet.
var binaryLine = regexp.MustCompile(`(?:/Corefile|\.override):(\d+) - `)

// overrideMain is the main Corefile an override snippet is run under, the
// way AKS's and k3s's CoreDNS import coredns-custom's keys: the snippet
// lands in the server block, so CoreDNS names the snippet's own lines.
const overrideMain = ".:53 {\n    import custom/*.override\n}\n"

// verdict is one side's answer on a Corefile.
type verdict struct {
	reject bool
	line   int    // 0 when the side gives none
	msg    string // what it said
}

func (v verdict) String() string {
	if !v.reject {
		return "accepts"
	}
	return fmt.Sprintf("rejects at line %d: %s", v.line, v.msg)
}

// dnslintVerdict is what the corefile-invalid rule says, with the rules
// that report some of CoreDNS's refusals in its place; its line is the
// first error's, as CoreDNS stops there.
func dnslintVerdict(t *testing.T, path string, src []byte) verdict {
	in, err := lint.Load(path, src)
	if err != nil {
		t.Fatal(err)
	}
	fs := lint.Run(in, lint.Options{
		// The binary reads this machine's files: so does dnslint, with
		// the machine's / as the pod's (--root /).
		Config: lint.Config{CoreDNSVersion: lint.DefaultCoreDNSVersion, ClusterDomain: "cluster.local", Root: "/"},
		// One defect, one finding: what CoreDNS rejects as an unknown or
		// removed plugin or option is those rules' finding.
		Rules: []lint.Rule{rules.Invalid, rules.UnknownPlugin, rules.RemovedOption},
	})
	var first *lint.Finding
	for i, f := range fs {
		if f.Severity == lint.Error && (first == nil || f.Line < first.Line) {
			first = &fs[i]
		}
	}
	if first == nil {
		return verdict{}
	}
	return verdict{reject: true, line: first.Line, msg: first.Message}
}

// inCluster runs the binary the way it runs in a pod: a private mount
// namespace gives it a service account token at the in-cluster path and
// the KUBERNETES_SERVICE_* variables point at a closed loopback port. The
// kubernetes plugin's setup then takes its real in-cluster path (no
// endpoint injected), and its start-up waits for an API that never
// answers until its startup timeout passes; it then serves unsynced.
const inCluster = `mount -t tmpfs dnslint-sa /run &&
mkdir -p /run/secrets/kubernetes.io/serviceaccount &&
echo not-a-token > /run/secrets/kubernetes.io/serviceaccount/token &&
exec "$@"`

// binaryVerdict starts coredns-custom on the Corefile and reports whether
// it came up (printed its banner) or exited first.
func binaryVerdict(t *testing.T, bin string, name string, src []byte) verdict {
	ports := map[string]string{}
	var err error
	text := corpusPort.ReplaceAllStringFunc(string(src), func(p string) string {
		if _, ok := ports[p]; !ok {
			var n int
			n, err = testenv.FreePort()
			ports[p] = strconv.Itoa(n)
		}
		return ports[p]
	})
	dnsPort, err2 := testenv.FreePort()
	closed, err3 := testenv.FreePort()
	if err != nil || err2 != nil || err3 != nil {
		t.Fatal(err, err2, err3)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "Corefile")
	if strings.HasSuffix(name, ".override") {
		if err := os.Mkdir(filepath.Join(dir, "custom"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "custom", name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		text = overrideMain
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "unshare", "--mount", "--propagation", "private", "sh", "-c", inCluster, "sh",
		bin, "-conf", path, "-dns.port", strconv.Itoa(dnsPort))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "KUBERNETES_SERVICE_HOST=127.0.0.1", "KUBERNETES_SERVICE_PORT="+strconv.Itoa(closed))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out := &testenv.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case werr := <-done:
			o := out.String()
			if strings.Contains(o, "CoreDNS-") {
				t.Fatalf("coredns printed its banner and exited (%v):\n%s", werr, o)
			}
			v := verdict{reject: true, msg: lastLine(o)}
			if m := binaryLine.FindStringSubmatch(o); m != nil {
				v.line, _ = strconv.Atoi(m[1])
			}
			return v
		case <-ctx.Done():
			t.Fatalf("coredns neither started nor exited:\n%s", out.String())
		case <-tick.C:
			if strings.Contains(out.String(), "CoreDNS-") {
				_ = cmd.Process.Kill()
				<-done
				return verdict{}
			}
		}
	}
}

func lastLine(s string) string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	return ls[len(ls)-1]
}

// TestDnslintAndCoreDNSAgreeOnEveryCorpusCorefile feeds every Corefile of
// the corpus to dnslint's corefile-invalid and corefile-removed-option rules
// and to the real coredns-custom binary, and requires the same answer: both
// accept, or both reject, at the same line when CoreDNS names one.
func TestDnslintAndCoreDNSAgreeOnEveryCorpusCorefile(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a private mount namespace (in-cluster service account)")
	}
	bin := coreDNSBinary(t)
	var paths []string
	for _, dir := range agreementCorpus {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".Corefile") || strings.HasSuffix(e.Name(), ".override") {
				paths = append(paths, filepath.Join(dir, e.Name()))
			}
		}
	}
	var mu sync.Mutex
	accepted, rejected := 0, 0
	t.Run("corpus", func(t *testing.T) {
		for _, path := range paths {
			name := filepath.Base(filepath.Dir(path)) + "/" + filepath.Base(path)
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				src, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				got, want := dnslintVerdict(t, path, src), binaryVerdict(t, bin, filepath.Base(path), src)
				mu.Lock()
				if want.reject {
					rejected++
				} else {
					accepted++
				}
				mu.Unlock()
				if got.reject != want.reject || (want.line > 0 && got.line != want.line) {
					t.Errorf("dnslint %s\ncoredns %s", got, want)
				}
				if strings.HasPrefix(filepath.Base(path), "ok") && want.reject {
					t.Errorf("an ok* corpus file is rejected by CoreDNS: %s", want)
				}
			})
		}
	})
	t.Logf("%d corpus files: CoreDNS accepts %d, rejects %d; dnslint agrees on all that passed", accepted+rejected, accepted, rejected)
	if accepted < 10 || rejected < 20 {
		t.Errorf("corpus too small: %d accepted, %d rejected files (want at least 10 and 20)", accepted, rejected)
	}
}
