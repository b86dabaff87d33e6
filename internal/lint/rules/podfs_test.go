package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/k8slint/k8slint/internal/testenv"
)

// TestFilesFromRootNameNoUpstreamTheLintingMachineResolves: CoreDNS
// 1.15.0's forward resolves upstream host names in its setup. A Corefile
// text imported from --root is validated as the input's own text is:
// every DNS lookup of the process goes to a resolver that counts it, and
// none may happen. The imported file is still validated (its typo is
// reported, at its path under --root).
func TestFilesFromRootNameNoUpstreamTheLintingMachineResolves(t *testing.T) {
	dials := testenv.CountLookups(t)

	root := t.TempDir()
	custom := filepath.Join(root, "etc", "coredns", "custom")
	if err := os.MkdirAll(custom, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(custom, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("upstream.server", "example.org:53 {\n    forward . dns.example.net tls://dns.example.net:853%dns.example.net\n}\n")
	write("stub.conf", "forward . upstream.example.org:5353\n")
	src := []byte("import custom/*.server\n.:53 {\n    kubernetes cluster.local {\n        fallthrough\n    }\n    import custom/stub.conf\n}\n")

	opts := options(Invalid)
	opts.Rules = append(opts.Rules, SetupWarning, NoTerminalResolver)
	opts.Config.Root = root
	for _, f := range lintBytes(t, "Corefile", src, opts) {
		t.Errorf("unexpected finding: %s [%s]", f.Message, f.RuleID)
	}
	if n := dials.Load(); n != 0 {
		t.Fatalf("validating files under --root sent %d DNS lookups", n)
	}

	// The copy is still CoreDNS's verdict on the file under --root.
	write("stub.conf", "forwardd . upstream.example.org:5353\n")
	fs := lintBytes(t, "Corefile", src, opts)
	if len(fs) != 1 || fs[0].RuleID != Invalid.ID || !strings.Contains(fs[0].Message, filepath.Join(custom, "stub.conf")) || !strings.Contains(fs[0].Message, "Unknown directive 'forwardd'") {
		t.Fatalf("a typo in a file under --root: %v", fs)
	}
	if n := dials.Load(); n != 0 {
		t.Fatalf("validating files under --root sent %d DNS lookups", n)
	}
}
