package k8slint

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// chromium loads url in Debian's headless Chromium and returns the DOM it
// rendered and the console messages the page logged.
func chromium(t *testing.T, url string) (dom string, console []string) {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (Debian package chromium; .ci/run installs it)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--user-data-dir="+t.TempDir(), "--enable-logging=stderr", "--v=0", "--dump-dom", url)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(l, ":CONSOLE") {
			console = append(console, l)
		}
	}
	return stdout.String(), console
}

// The detector's own known-bad case: a page that logs errors is caught.
func TestChromiumReportsAPageThatLogsErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!DOCTYPE html><html><head><link rel="icon" href="data:,"></head><body><script>console.error("boom"); missing();</script></body></html>`)
	}))
	defer srv.Close()
	_, console := chromium(t, srv.URL)
	if len(console) != 2 {
		t.Errorf("want the error and the exception, got %q", console)
	}
}

func TestTheReportPageRendersTheTableInChromiumWithoutConsoleErrors(t *testing.T) {
	k, srv := newTestPlugin(t, zone{})
	k.attr = newAttribution()
	k.attr.Replace([]any{ownedBy(pod("shop", "api-5d8f7c9b4-q2w9x", "10.244.1.7"), "ReplicaSet", "api-5d8f7c9b4", "pod-template-hash", "5d8f7c9b4")}, "1")
	url := serveTestReport(t, k)
	api := &peer{ip: "10.244.1.7", port: 40000}
	glibcWalk(t, k, srv, api, "api.stripe.com", "shop", zone{})
	_, nx := glibcWalk(t, k, srv, api, "api.stripe.com", "shop", zone{})
	glibcWalk(t, k, srv, &peer{ip: "10.244.1.99", port: 40000}, "hooks.slack.com", "pay", zone{})

	dom, console := chromium(t, url+PagePath)
	if len(console) != 0 {
		t.Errorf("console messages:\n%s", strings.Join(console, "\n"))
	}
	rows := regexp.MustCompile(`(?s)<tr>\s*<td>(\d+)</td><td class="l">([^<]*)</td>\s*<td class="l">([^<]*)</td><td>(\d+)</td><td>(\d+)</td>`).FindAllStringSubmatch(dom, -1)
	if len(rows) != 2 {
		t.Fatalf("want 2 rows in the rendered table, got %d:\n%s", len(rows), dom)
	}
	for i, want := range [][]string{
		{"1", "Deployment api", "shop", "16", fmt.Sprint(2 * nx)},
		{"2", "client 10.244.1.99", "pay", "8", fmt.Sprint(nx)},
	} {
		if got := rows[i][1:]; strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("row %d: %q, want %q", i+1, got, want)
		}
	}
	if testing.Verbose() {
		t.Log(dom)
	}
	if !strings.Contains(dom, "attribution synced, 1 pods") {
		t.Errorf("the page does not say attribution's state:\n%s", dom)
	}
}
