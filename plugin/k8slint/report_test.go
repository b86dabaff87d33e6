package k8slint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	stdlog "log"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/k8slint/k8slint/plugin/k8slint/report"
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
	k.epoch.Add(-int64(time.Second))
	ask(t, k, srv, racer, "example.org.", dns.TypeA, 7)
	k.judgeStorms(time.Second) // drains the names, as the ticker does

	start := k.rep.start
	out := captureLog(t, func() { k.rotate(start.Add(10 * time.Minute)) })
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Fatalf("want a header, 2 clients and the names; got\n%s", out)
	}
	for i, want := range []string{
		"for the last 10m0s: 24 wasted NXDOMAIN answers in search walks, 1 suspected race drops",
		"report 1/2: client 10.244.7.1 (namespace shop): 18 wasted NXDOMAIN of 18 search expansions, most on api.stripe.com",
		"report 2/2: client 10.244.7.2 (namespace payments): 6 wasted NXDOMAIN of 6 search expansions, most on hooks.slack.com",
		"names wasted most (sampled): api.stripe.com in shop (18), hooks.slack.com in payments (6)",
	} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d: %q\nwant it to contain %q", i+1, lines[i], want)
		}
	}
	// The window starts afresh: nothing wasted since, nothing to report.
	if out := captureLog(t, func() { k.rotate(start.Add(11 * time.Minute)) }); out != "" {
		t.Errorf("a quiet window logged:\n%s", out)
	}
	// A client whose only trouble was a suspected race drop is named too.
	k.cfg.ReportTop = 5
	ask(t, k, srv, racer, "example.net.", dns.TypeA, 9)
	k.epoch.Add(-int64(time.Second))
	ask(t, k, srv, racer, "example.net.", dns.TypeA, 9)
	if out := captureLog(t, func() { k.rotate(start.Add(12 * time.Minute)) }); !strings.Contains(out, "client 10.244.7.3 (namespace _unknown): 0 wasted NXDOMAIN of 0 search expansions, 1 suspected race drops") {
		t.Errorf("the racing client is not reported:\n%s", out)
	}
}

// getReport fetches the report served on addr.
func getReport(t *testing.T, url string) report.Report {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s: %s %s", url, resp.Status, b)
	}
	r, err := report.Decode(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// serveTestReport serves k's report on a loopback port and returns its
// base URL.
func serveTestReport(t *testing.T, k *K8slint) string {
	t.Helper()
	addr := "127.0.0.1:0"
	if err := serveReport(k, addr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unserveReport(k, addr) })
	reportServers.Lock()
	defer reportServers.Unlock()
	return "http://" + reportServers.m[addr].ln.Addr().String()
}

func TestTheServedReportCountsWhatEachClientSent(t *testing.T) {
	k, srv := newTestPlugin(t, zone{})
	url := serveTestReport(t, k)
	shop := &peer{ip: "10.244.1.7", port: 40000}
	sent, nx := glibcWalk(t, k, srv, shop, "api.stripe.com", "shop", zone{})
	// ndots:1 for the same client later: asked as it is first.
	ask(t, k, srv, shop, "db.example.org.", dns.TypeA, 300)
	ask(t, k, srv, shop, "db.example.org.", dns.TypeAAAA, 301)
	quiet := &peer{ip: "10.244.1.8", port: 40001}
	ask(t, k, srv, quiet, "web.shop.svc.cluster.local.", dns.TypeA, 1)

	r := getReport(t, url+ReportPath)
	if r.Version != report.Version || r.Window.Complete || len(r.Replicas) != 1 || r.Replicas[0].Attribution.State != report.AttributionOff {
		t.Errorf("header: %+v", r)
	}
	if len(r.Workloads) != 2 {
		t.Fatalf("entries: %+v", r.Workloads)
	}
	w := r.Workloads[0]
	if w.Level != report.LevelAddress || w.Address != "10.244.1.7" || w.Namespace != "shop" {
		t.Errorf("entry %s in %q", w.String(), w.Namespace)
	}
	if w.Queries != uint64(sent+2) || w.WastedNXDOMAIN != uint64(nx) || w.SearchExpansions != uint64(nx) {
		t.Errorf("counts %+v, sent %d, %d NXDOMAIN", w.Counts, sent, nx)
	}
	// glibc's single-request pairs: A, its answer, then AAAA from the port.
	if w.Pairs != (report.Pairs{SameSocket: uint64(sent/2 + 1)}) {
		t.Errorf("pairs %+v", w.Pairs)
	}
	if len(w.TopNames) != 1 || w.TopNames[0] != (report.Name{Name: "api.stripe.com", WastedNXDOMAIN: uint64(nx)}) {
		t.Errorf("names %+v", w.TopNames)
	}
	res := w.Resolver
	if res.SearchedDots == nil || *res.SearchedDots != 2 || *res.NdotsAtLeast != 3 || *res.SearchListLength != 3 ||
		res.AsIsDots == nil || *res.AsIsDots != 2 || res.NdotsAtMost != nil {
		b, _ := json.Marshal(res)
		t.Errorf("resolver %s: searched through with 2 dots, 3 candidates; a 2-dot name as it is contradicts ndots >= 3", b)
	}
	if q := r.Workloads[1]; q.Address != "10.244.1.8" || q.Queries != 1 || q.WastedNXDOMAIN != 0 {
		t.Errorf("second entry %+v", q)
	}
	// Served again: the counts stay (a window accumulates).
	if again := getReport(t, url+ReportPath); again.Workloads[0].Queries != w.Queries {
		t.Errorf("the second fetch lost counts: %d", again.Workloads[0].Queries)
	}
	// No complete window yet; after one, ?window=last serves it.
	if resp, err := http.Get(url + ReportPath + "?window=last"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("last window before any: %v %v", resp.Status, err)
	}
	k.endWindow(time.Now())
	if last := getReport(t, url+ReportPath+"?window=last"); !last.Window.Complete || last.Totals.Queries != uint64(sent+3) {
		t.Errorf("last window %+v", last.Window)
	}
	if cur := getReport(t, url+ReportPath); cur.Totals.Queries != 0 || len(cur.Workloads) != 0 {
		t.Errorf("the new window is not empty: %+v", cur.Totals)
	}
}

func TestTheReportKeepsAtMostItsCapacityWhateverTheClients(t *testing.T) {
	k, srv := newTestPlugin(t, zone{})
	for i := range 3 * reportCapacity {
		glibcWalk(t, k, srv, &peer{ip: fmt.Sprintf("10.250.%d.%d", i/250, i%250+1), port: 40000}, "api.stripe.com", "shop", zone{})
		if i%50 == 0 {
			k.rep.mu.Lock()
			k.drain(time.Now())
			k.rep.mu.Unlock()
		}
	}
	r := k.snapshot(time.Now(), false)
	if len(r.Workloads) != reportCapacity || r.Totals.Queries != 3*reportCapacity*8 {
		t.Errorf("%d entries, %d queries", len(r.Workloads), r.Totals.Queries)
	}
}

func TestTwoServerBlocksOnOneReportAddressAreMerged(t *testing.T) {
	k1, srv := newTestPlugin(t, zone{})
	k2, _ := newTestPlugin(t, zone{})
	url := serveTestReport(t, k1)
	reportServers.Lock()
	for addr, s := range reportServers.m {
		if "http://"+s.ln.Addr().String() == url {
			s.ks = append(s.ks, k2)
			defer func(addr string) { unserveReport(k2, addr) }(addr)
		}
	}
	reportServers.Unlock()
	glibcWalk(t, k1, srv, &peer{ip: "10.244.1.7", port: 40000}, "api.stripe.com", "shop", zone{})
	glibcWalk(t, k2, srv, &peer{ip: "10.244.1.7", port: 40000}, "api.stripe.com", "shop", zone{})
	r := getReport(t, url+ReportPath)
	if len(r.Replicas) != 2 || len(r.Workloads) != 1 || r.Workloads[0].WastedNXDOMAIN != 12 {
		t.Errorf("%d replicas, entries %+v", len(r.Replicas), r.Workloads)
	}
}

func TestTheBareNameEndingAWalkIsNotAskedAsItIs(t *testing.T) {
	k, srv := newTestPlugin(t, zone{})
	w := &peer{ip: "10.244.1.7", port: 40000}
	glibcWalk(t, k, srv, w, "api.stripe.com", "shop", zone{})
	k.rep.mu.Lock()
	k.drain(time.Now()) // the twin may come after a drain
	k.rep.mu.Unlock()
	ask(t, k, srv, w, "api.stripe.com.", dns.TypeAAAA, 500)
	r := k.snapshot(time.Now(), false)
	res := r.Workloads[0].Resolver
	if res.AsIsDots != nil || res.NdotsAtLeast == nil || *res.NdotsAtLeast != 3 {
		b, _ := json.Marshal(res)
		t.Errorf("resolver %s: the walk's own bare name (A, AAAA) is not a name asked as it is", b)
	}
}
