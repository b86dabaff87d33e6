package monitoring

import (
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/k8slint/k8slint/corefiles"
	"github.com/k8slint/k8slint/internal/testenv"
)

// liveCorefile exercises what the mixin reads: k8slint (walks, storms,
// pairs, a lost AAAA, upstream failures, a small client table), forward to
// a stub upstream (answers), to two ports where nothing listens (health
// checks fail, all upstreams down) and to a stub that never answers with
// max_concurrent 1 (rejects), cache, and the prometheus endpoint. Every
// address is on loopback.
const liveCorefile = `.:{{.DNS}} {
    errors
    k8slint {
        storm 2 1s
        upstream_degraded 0.5 1s
        clients_max 8
        report off
    }
    prometheus 127.0.0.1:{{.Metrics}}
    file db.cluster.local cluster.local
    forward . {{.Upstream}}
    cache 30
}
dead.example:{{.DNS}} {
    errors
    k8slint {
        upstream_degraded 0.5 1s
    }
    prometheus 127.0.0.1:{{.Metrics}}
    forward . 127.0.0.1:{{.Dead1}} 127.0.0.1:{{.Dead2}} {
        health_check 100ms
    }
    cache 30
}
slow.example:{{.DNS}} {
    k8slint
    prometheus 127.0.0.1:{{.Metrics}}
    forward . {{.Silent}} {
        max_concurrent 1
    }
}
`

// liveRun is coredns-custom after traffic: two scrapes of its /metrics,
// taken with traffic before each.
type liveRun struct {
	scrapes []Scrape
	err     error
}

var (
	liveOnce sync.Once
	live     liveRun
)

// liveScrapes runs bin/coredns-custom (K8SLINT_COREDNS_BIN, or built) on
// liveCorefile once per test binary, sends it pod-shaped traffic and
// scrapes it twice, 2 s of traffic apart.
func liveScrapes(t *testing.T) []Scrape {
	t.Helper()
	liveOnce.Do(func() { live.scrapes, live.err = runLive() })
	if live.err != nil {
		t.Fatal(live.err)
	}
	return live.scrapes
}

func runLive() ([]Scrape, error) {
	bin, err := testenv.Binary("./cmd/coredns-custom")
	if err != nil {
		return nil, err
	}
	up, err := testenv.StartUpstream(testenv.Answer, 0)
	if err != nil {
		return nil, err
	}
	defer up.Close()
	silent, err := testenv.StartUpstream(testenv.Silent, 0)
	if err != nil {
		return nil, err
	}
	defer silent.Close()
	ports := map[string]int{}
	for _, k := range []string{"DNS", "Metrics", "Dead1", "Dead2"} {
		if ports[k], err = testenv.FreePort(); err != nil {
			return nil, err
		}
	}
	corefile, err := expand(liveCorefile, map[string]string{
		"DNS": fmt.Sprint(ports["DNS"]), "Metrics": fmt.Sprint(ports["Metrics"]),
		"Dead1": fmt.Sprint(ports["Dead1"]), "Dead2": fmt.Sprint(ports["Dead2"]),
		"Upstream": up.Addr, "Silent": silent.Addr,
	})
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "k8slint-mixin-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := corefiles.WriteSupport(dir); err != nil {
		return nil, err
	}
	c, err := testenv.StartCoreDNS(bin, dir, corefile, 30*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Stop()
	server := fmt.Sprintf("127.0.0.1:%d", ports["DNS"])
	metrics := fmt.Sprintf("127.0.0.1:%d", ports["Metrics"])
	target := map[string]string{
		// What a ServiceMonitor on the kube-dns Service adds.
		"job": "kube-dns", "instance": "10.244.0.3:9153", "namespace": "kube-system",
		"pod": "coredns-7db6d8ff4d-x2x9q", "service": "kube-dns", "endpoint": "metrics",
	}
	var scrapes []Scrape
	for round := 0; round < 2; round++ {
		// Each round uses client addresses of its own (127.0.2R.x), as new
		// pods would.
		src := func(host int) netip.Addr { return netip.AddrFrom4([4]byte{127, 0, byte(20 + round), byte(host)}) }
		if err := Traffic(server, fmt.Sprint(round), src); err != nil {
			return nil, fmt.Errorf("traffic: %v\n%s", err, c.Output())
		}
		// Let the plugin judge storms and the upstream (1 s windows).
		time.Sleep(1500 * time.Millisecond)
		text, err := ScrapeText(&http.Client{Timeout: 5 * time.Second}, metrics)
		if err != nil {
			return nil, err
		}
		scrapes = append(scrapes, Scrape{At: time.Now(), Target: target, Text: text, HonorLabels: true})
	}
	if c.Exited() {
		return nil, fmt.Errorf("coredns exited:\n%s", c.Output())
	}
	return scrapes, nil
}

// expand fills the template s with vals.
func expand(s string, vals map[string]string) (string, error) {
	var b strings.Builder
	err := template.Must(template.New("corefile").Option("missingkey=error").Parse(s)).Execute(&b, vals)
	return b.String(), err
}

// repoFile returns the path of a file of the repository.
func repoFile(t *testing.T, rel string) string {
	t.Helper()
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, rel)
}
