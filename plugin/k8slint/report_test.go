package k8slint

import (
	"bytes"
	stdlog "log"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// captureLog collects what the plugin logs while f runs.
func captureLog(t *testing.T, f func()) string {
	t.Helper()
	var buf bytes.Buffer
	stdlog.SetOutput(&buf)
	defer stdlog.SetOutput(os.Stderr)
	f()
	return buf.String()
}

func TestTheReportNamesTheClientsThatWastedMostSinceTheLastOne(t *testing.T) {
	k, srv := newTestPlugin(t, zone{})
	k.cfg.ReportTop = 2
	heavy := &peer{ip: "10.244.7.1", port: 45000}
	light := &peer{ip: "10.244.7.2", port: 45001}
	racer := &peer{ip: "10.244.7.3", port: 45002}
	for range 3 {
		glibcWalk(t, k, srv, heavy, "api.stripe.com", "shop", zone{})
	}
	glibcWalk(t, k, srv, light, "hooks.slack.com", "payments", zone{})
	ask(t, k, srv, racer, "example.org.", dns.TypeA, 7)
	k.epoch = k.epoch.Add(-time.Second)
	ask(t, k, srv, racer, "example.org.", dns.TypeA, 7)
	k.judgeStorms(time.Second) // drains the names, as the ticker does

	out := captureLog(t, func() { k.report(10 * time.Minute) })
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Fatalf("want a header, 2 clients and the names; got\n%s", out)
	}
	for i, want := range []string{
		"2 clients wasted 24 NXDOMAIN answers",
		"report 1/2: client 10.244.7.1 (namespace shop): 18 wasted NXDOMAIN of 18 search expansions, last wasted on api.stripe.com",
		"report 2/2: client 10.244.7.2 (namespace payments): 6 wasted NXDOMAIN",
		"names wasted most (sampled): api.stripe.com in shop (18), hooks.slack.com in payments (6)",
	} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d: %q\nwant it to contain %q", i+1, lines[i], want)
		}
	}
	// The window starts afresh: nothing wasted since, nothing to report.
	if out := captureLog(t, func() { k.report(time.Minute) }); out != "" {
		t.Errorf("a quiet window logged:\n%s", out)
	}
	// A client whose only trouble was a suspected race drop is named too.
	k.cfg.ReportTop = 5
	ask(t, k, srv, racer, "example.net.", dns.TypeA, 9)
	k.epoch = k.epoch.Add(-time.Second)
	ask(t, k, srv, racer, "example.net.", dns.TypeA, 9)
	if out := captureLog(t, func() { k.report(time.Minute) }); !strings.Contains(out, "client 10.244.7.3 (namespace _unknown): 0 wasted NXDOMAIN of 0 search expansions, 1 suspected race drops") {
		t.Errorf("the racing client is not reported:\n%s", out)
	}
}

func TestTheReportKeepsAtMostTopClients(t *testing.T) {
	var top []offender
	for i := range 50 {
		top = insertOffender(top, offender{wasted: uint32(i)}, 5)
	}
	if len(top) != 5 || top[0].wasted != 49 || top[4].wasted != 45 {
		t.Fatalf("top = %+v", top)
	}
}
