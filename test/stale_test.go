package test

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/k8slint/k8slint/internal/testenv"
)

// TestAWriterHeldAfterTheAnswerStillWorks: cache's serve_stale in verify
// mode with a timeout answers from the stale entry when the refresh takes
// longer than the timeout, and leaves the refresh running in a goroutine
// that still holds the query's writer, k8slint's recorder included.
// forward asks that writer for the client's address on each attempt at
// the upstream, so with a silent upstream it calls it again seconds after
// the query returned. CoreDNS must go on answering, with k8slint as
// without it (the control: the test's own steps pass on stock CoreDNS).
// On the build before the fix, the k8slint run failed: CoreDNS exited
// with a nil dereference in k8slint's recorder.
func TestAWriterHeldAfterTheAnswerStillWorks(t *testing.T) {
	bin := coreDNSBinary(t)
	for _, line := range []string{"k8slint", "# no k8slint"} {
		t.Run(line, func(t *testing.T) {
			up, err := testenv.StartUpstream(testenv.Answer, 0)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(up.Close) // closed again below, when it goes silent
			upAddr := up.Addr
			port, err := testenv.FreePort()
			if err != nil {
				t.Fatal(err)
			}
			// Answers kept one second, then served stale for an hour
			// when the upstream takes more than 100 ms to refresh them;
			// forward waits 2 s for each attempt, and sends no health
			// checks (max_fails 0), so the upstream sees only its
			// attempts.
			c, err := testenv.StartCoreDNS(bin, t.TempDir(), fmt.Sprintf(`.:%d {
    %s
    cache 1 {
        serve_stale 1h verify 100ms
    }
    forward . %s {
        max_fails 0
    }
}
`, port, line, upAddr), 30*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Stop() })
			addr := fmt.Sprintf("127.0.0.1:%d", port)
			r, err := testenv.Query(addr, "stale.example.", dns.TypeA)
			up.Close()
			if err != nil || len(r.Answer) != 1 {
				t.Fatalf("the first query: %v %v", r, err)
			}
			// The upstream goes silent on the same address, and the
			// entry expires.
			_, upPort, _ := net.SplitHostPort(upAddr)
			silent, err := testenv.StartUpstream(testenv.Silent, atoi(upPort))
			if err != nil {
				t.Fatal(err)
			}
			defer silent.Close()
			time.Sleep(1500 * time.Millisecond)
			r, err = testenv.Query(addr, "stale.example.", dns.TypeA)
			if err != nil || len(r.Answer) != 1 {
				t.Fatalf("the query of the stale entry: %v %v\n%s", r, err, c.Output())
			}
			// Its refresh, the only one, tries the upstream twice, 2 s
			// apart, and the second attempt asks the held writer for the
			// client's address.
			time.Sleep(2500 * time.Millisecond)
			if n := silent.Queries(); n != 2 {
				t.Errorf("the silent upstream got %d queries, want the refresh's two attempts\n%s", n, c.Output())
			}
			r, err = testenv.Query(addr, "stale.example.", dns.TypeA)
			if err != nil || len(r.Answer) != 1 {
				t.Fatalf("the query after the refresh's second attempt: %v %v\n%s", r, err, c.Output())
			}
			if c.Exited() {
				t.Fatalf("CoreDNS exited: %v\n%s", c.Err(), c.Output())
			}
		})
	}
}
