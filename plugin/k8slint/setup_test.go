package k8slint

import (
	"strings"
	"testing"
	"time"

	"github.com/coredns/caddy"
)

func TestParseAcceptsEveryOption(t *testing.T) {
	c := caddy.NewTestController("dns", `k8slint cluster.local example.org {
		cluster_domain cluster.local corp.internal.
		namespaces_max 50
		clients_max 1000
		retry_window 7s
		storm 20 1m
		upstream_degraded 10% 45s
		report 5m 10
	}`)
	cfg, err := parse(c)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Zones:          []string{"cluster.local.", "example.org."},
		ClusterDomains: []string{"cluster.local.", "corp.internal."},
		NamespacesMax:  50, ClientsMax: 1000, RetryWindow: 7 * time.Second,
		StormRate: 20, StormInterval: time.Minute, DegradedRatio: 0.1, DegradedWindow: 45 * time.Second,
	}
	if strings.Join(cfg.Zones, ",") != strings.Join(want.Zones, ",") ||
		strings.Join(cfg.ClusterDomains, ",") != strings.Join(want.ClusterDomains, ",") ||
		cfg.NamespacesMax != want.NamespacesMax || cfg.ClientsMax != want.ClientsMax ||
		cfg.RetryWindow != want.RetryWindow || cfg.StormRate != want.StormRate ||
		cfg.StormInterval != want.StormInterval || cfg.DegradedRatio != want.DegradedRatio ||
		cfg.DegradedWindow != want.DegradedWindow || cfg.ReportInterval != 5*time.Minute || cfg.ReportTop != 10 {
		t.Fatalf("got %+v\nwant %+v", cfg, want)
	}
}

func TestParseDefaultsForABareLine(t *testing.T) {
	cfg, err := parse(caddy.NewTestController("dns", "k8slint"))
	if err != nil {
		t.Fatal(err)
	}
	d := DefaultConfig()
	if cfg.ClientsMax != d.ClientsMax || cfg.ClusterDomains[0] != "cluster.local." || cfg.StormRate != d.StormRate {
		t.Fatalf("got %+v", cfg)
	}
}

func TestParseRejectsBadValuesWithTheirLine(t *testing.T) {
	for _, in := range []string{
		"k8slint {\n clients_max 0\n}",
		"k8slint {\n clients_max many\n}",
		"k8slint {\n namespaces_max\n}",
		"k8slint {\n retry_window 5\n}",
		"k8slint {\n retry_window 10ms\n}",
		"k8slint {\n storm -1\n}",
		"k8slint {\n report 0s\n}",
		"k8slint {\n report 5m 0\n}",
		"k8slint {\n report off 3\n}",
		"k8slint {\n report localhost\n}",
		"k8slint {\n report :9154 5m 3 2\n}",
		"k8slint {\n report ::9154\n}",
		"k8slint {\n attribution yes\n}",
		"k8slint {\n storm 10 1m 2\n}",
		"k8slint {\n upstream_degraded 2\n}",
		"k8slint {\n upstream_degraded 0.5 forever\n}",
		"k8slint {\n cluster_domain\n}",
		"k8slint {\n cluster_domain .\n}",
		"k8slint {\n cluster_domain" + strings.Repeat(" a.example", 65) + "\n}",
		"k8slint {\n bogus 1\n}",
		"k8slint\nk8slint",
	} {
		_, err := parse(caddy.NewTestController("dns", in))
		if err == nil {
			t.Errorf("%q: want an error", in)
			continue
		}
		if !strings.Contains(err.Error(), "Testfile:2") && !strings.Contains(err.Error(), "once") {
			t.Errorf("%q: error %q does not name the line", in, err)
		}
	}
}

func TestParseReportOff(t *testing.T) {
	cfg, err := parse(caddy.NewTestController("dns", "k8slint {\n report off\n}"))
	if err != nil || cfg.ReportInterval != 0 {
		t.Fatalf("cfg %+v, err %v", cfg, err)
	}
}

func TestParseReportAddressAndAttribution(t *testing.T) {
	for in, want := range map[string]Config{
		"k8slint {\n report :9154\n}":                        {ReportAddr: ":9154", ReportInterval: defaultReportInterval, ReportTop: defaultReportTop},
		"k8slint {\n report 127.0.0.1:9154 1m 3\n}":          {ReportAddr: "127.0.0.1:9154", ReportInterval: time.Minute, ReportTop: 3},
		"k8slint {\n report [::1]:9154 30s\n attribution\n}": {ReportAddr: "[::1]:9154", ReportInterval: 30 * time.Second, ReportTop: defaultReportTop, Attribution: true},
		"k8slint {\n report 2m\n}":                           {ReportInterval: 2 * time.Minute, ReportTop: defaultReportTop},
	} {
		cfg, err := parse(caddy.NewTestController("dns", in))
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if cfg.ReportAddr != want.ReportAddr || cfg.ReportInterval != want.ReportInterval || cfg.ReportTop != want.ReportTop || cfg.Attribution != want.Attribution {
			t.Errorf("%q: got addr %q interval %s top %d attribution %v", in, cfg.ReportAddr, cfg.ReportInterval, cfg.ReportTop, cfg.Attribution)
		}
	}
}
