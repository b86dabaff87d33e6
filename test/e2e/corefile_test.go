package e2e

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coredns/caddy/caddyfile"
)

// runningConf matches the line the reload plugin logs at each start and
// reload of CoreDNS: the SHA512 of the configuration it runs.
var runningConf = regexp.MustCompile(`Running configuration SHA512 = ([0-9a-f]{128})`)

// corefileSHA512 is the hash the reload plugin logs for corefile read from
// path: of its server blocks as CoreDNS's Caddyfile parser gives them
// (tokens with their file and line), in JSON; and whether a block has
// reload, without which nothing logs it.
func corefileSHA512(path, corefile string) (hash string, reload bool, err error) {
	blocks, err := caddyfile.Parse(path, strings.NewReader(corefile), nil)
	if err != nil {
		return "", false, err
	}
	for _, b := range blocks {
		if _, ok := b.Tokens["reload"]; ok {
			reload = true
		}
	}
	j, err := json.Marshal(blocks)
	if err != nil {
		return "", false, err
	}
	s := sha512.Sum512(j)
	return hex.EncodeToString(s[:]), reload, nil
}

// waitCorefile waits until every CoreDNS pod runs corefile: the last
// configuration its reload plugin logged is corefile's. A new pod can
// start with the ConfigMap's previous content when kubelet's copy lags
// the API server's (2026-12-02: in the resolvers test a pod ran the
// previous test's Corefile, without its log plugin; kubelet had just
// failed to watch the ConfigMap); it runs the new one after kubelet's
// next sync and reload's next check. A Corefile without reload is not
// checked.
func waitCorefile(t *testing.T, ctx context.Context, corefile string) {
	t.Helper()
	want, reload, err := corefileSHA512("/etc/coredns/Corefile", corefile)
	if err != nil {
		t.Fatal(err)
	}
	if !reload {
		return
	}
	start := time.Now()
	deadline := start.Add(3 * time.Minute)
	for waited := false; ; waited = true {
		stale, last := "", ""
		for _, p := range corednsPods(t, ctx) {
			out, _ := cluster.Kubectl("-n", "kube-system", "logs", p.Name).Output()
			m := runningConf.FindAllStringSubmatch(string(out), -1)
			if len(m) == 0 || m[len(m)-1][1] != want {
				stale = p.Name
				if len(m) > 0 {
					last = m[len(m)-1][1][:16] + "…"
				}
				break
			}
		}
		if stale == "" {
			if waited {
				t.Logf("a CoreDNS pod ran another configuration after the rollout; all run the Corefile deployed %s later", time.Since(start).Round(time.Second))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 3 minutes CoreDNS pod %s runs configuration %q, not the Corefile deployed (%s…)", stale, last, want[:16])
		}
		time.Sleep(2 * time.Second)
	}
}
