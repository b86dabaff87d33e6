package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// agreementPod is a pod spec with one container that uses an external
// name and in-cluster names (hosts), under a dnsPolicy and an optional
// ndots of its own.
func agreementPod(policy, ndots, image string, hosts []string) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec:\n")
	switch policy {
	case "ClusterFirstWithHostNet", "host-network":
		b.WriteString("  hostNetwork: true\n")
	}
	if policy != "" && policy != "host-network" {
		fmt.Fprintf(&b, "  dnsPolicy: %s\n", policy)
	}
	if policy == "None" || ndots != "" {
		b.WriteString("  dnsConfig:\n")
		if policy == "None" {
			b.WriteString("    nameservers: [10.96.0.10]\n    searches: [shop.svc.cluster.local, svc.cluster.local, cluster.local, corp.example.com]\n")
		}
		if ndots != "" {
			fmt.Fprintf(&b, "    options:\n    - name: ndots\n      value: %q\n", ndots)
		}
	}
	fmt.Fprintf(&b, "  containers:\n  - name: app\n    image: %s\n    env:\n", image)
	b.WriteString("    - {name: API_URL, value: https://api.stripe.com/v1}\n")
	for i, h := range hosts {
		fmt.Fprintf(&b, "    - {name: HOST%d_HOST, value: %s}\n", i, h)
	}
	return b.String()
}

var (
	costRe  = regexp.MustCompile(`api\.stripe\.com(?: \([^)]*\))?: (\d+) queries per lookup, (\d+) NXDOMAIN; (?:with ndots:(\d+)|as api\.stripe\.com\.) → (\d+)`)
	ndotsRe = regexp.MustCompile(`^options ndots:(\d+)$`)
)

// TestLintAndExplainLookupAgree lints a pod and explains the lookup of the
// external name it uses, with the same settings, over a matrix of
// Kubernetes releases, node resolv.confs, dnsPolicies, ndots, images and
// --resolver: both commands must state the same cost now, the same cost
// as an absolute name, and propose the same ndots at the same cost (or
// neither proposes one).
func TestLintAndExplainLookupAgree(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("x", 60)
	nodes := map[string]string{
		"default":  "",
		"one":      "nameserver 10.0.0.2\nsearch ec2.internal\n",
		"five":     "nameserver 10.0.0.2\nsearch a.example.com b.example.com c.example.com d.example.com e.example.com\n",
		"ndots3":   "nameserver 10.0.0.2\nsearch corp.example.com\noptions ndots:3\n",
		"too-long": "nameserver 10.0.0.2\nsearch " + long + ".a.example " + long + ".b.example " + long + ".c.example " + long + ".d.example\n",
	}
	for name, text := range nodes {
		if text != "" {
			if err := os.WriteFile(filepath.Join(dir, name+".conf"), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	proposed, silent, legacyDiffers := 0, 0, false
	for _, k8s := range []string{"", "1.27", "1.30"} {
		for node, text := range nodes {
			for _, policy := range []string{"", "ClusterFirstWithHostNet", "host-network", "Default", "None"} {
				for _, ndots := range []string{"", "3"} {
					for _, image := range []string{"debian:12", "alpine:3.19", "example.com/app:1"} {
						for _, res := range []string{"", "musl"} {
							for _, hosts := range [][]string{{"redis"}, {"redis", "db.data"}, {"metrics.monitoring.svc"}} {
								var flags []string
								if k8s != "" {
									flags = append(flags, "--k8s-version", k8s)
								}
								if text != "" {
									flags = append(flags, "--node-resolv-conf", filepath.Join(dir, node+".conf"))
								}
								if res != "" {
									flags = append(flags, "--resolver", res)
								}
								pod := filepath.Join(dir, "pod.yaml")
								if err := os.WriteFile(pod, []byte(agreementPod(policy, ndots, image, hosts)), 0o644); err != nil {
									t.Fatal(err)
								}
								what := fmt.Sprintf("k8s %q, node %s, policy %q, ndots %q, image %s, resolver %q, hosts %v", k8s, node, policy, ndots, image, res, hosts)
								lintCost, lintNdots := lintSays(t, what, append([]string{"--format", "json", "--enable", "pod-ndots-high,pod-external-name-not-fqdn", pod}, flags...))
								el := explainSays(t, what, append([]string{"explain-lookup", "api.stripe.com", "-f", pod, "--container", "app", "--format", "json"}, flags...))
								if lintCost != nil && (lintCost[0] != el.Total || lintCost[1] != el.NXDomain || lintCost[2] != fixCost(el, "write the name as api.stripe.com. (absolute)")) {
									t.Errorf("%s: lint says %v (now, NXDOMAIN, absolute), explain-lookup %d, %d, fixes %+v", what, lintCost, el.Total, el.NXDomain, el.Fixes)
								}
								elNdots, elNdotsCost := -1, -1
								for _, f := range el.Fixes {
									if m := ndotsRe.FindStringSubmatch(f.Fix); m != nil {
										elNdots, _ = strconv.Atoi(m[1])
										elNdotsCost = f.Queries
									}
								}
								switch {
								case lintNdots == nil && elNdots >= 0:
									t.Errorf("%s: explain-lookup proposes ndots:%d (%d queries), lint proposes none", what, elNdots, elNdotsCost)
								case lintNdots != nil && (lintNdots[0] != elNdots || lintNdots[1] != elNdotsCost):
									t.Errorf("%s: lint proposes ndots:%d (%d queries), explain-lookup ndots:%d (%d queries)", what, lintNdots[0], lintNdots[1], elNdots, elNdotsCost)
								case lintNdots != nil:
									proposed++
								default:
									silent++
								}
								if k8s == "1.27" && node == "five" && policy == "" && ndots == "" && el.Total == 14 {
									legacyDiffers = true
								}
							}
						}
					}
				}
			}
		}
	}
	if proposed < 100 || silent < 100 || !legacyDiffers {
		t.Errorf("the matrix proves little: %d cases with an ndots proposal, %d without; pre-1.28 limits seen: %v", proposed, silent, legacyDiffers)
	}
}

// lintSays runs the lint command and returns what its findings say about
// api.stripe.com: queries now, NXDOMAIN and queries as an absolute name
// (nil without a pod-external-name-not-fqdn finding); the ndots proposed
// and the queries with it (nil without a pod-ndots-high finding).
func lintSays(t *testing.T, what string, args []string) (cost, ndots []int) {
	code, out, errs := runCLI(t, "", args...)
	var r struct {
		Findings []struct {
			RuleID  string `json:"rule"`
			Message string `json:"message"`
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || code == exitUsage {
		t.Fatalf("%s: exit %d, %v: %s", what, code, err, errs)
	}
	for _, f := range r.Findings {
		m := costRe.FindStringSubmatch(f.Message)
		if m == nil {
			t.Fatalf("%s: cannot read %q", what, f.Message)
		}
		n := func(s string) int { v, _ := strconv.Atoi(s); return v }
		switch f.RuleID {
		case "pod-external-name-not-fqdn":
			cost = []int{n(m[1]), n(m[2]), n(m[4])}
		case "pod-ndots-high":
			ndots = []int{n(m[3]), n(m[4])}
		}
	}
	return cost, ndots
}

func explainSays(t *testing.T, what string, args []string) lookupReport {
	code, out, errs := runCLI(t, "", args...)
	var rep lookupReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitOK {
		t.Fatalf("%s: exit %d, %v: %s", what, code, err, errs)
	}
	return rep
}

// fixCost is the queries of fix, or -1 when it is not offered.
func fixCost(rep lookupReport, fix string) int {
	for _, f := range rep.Fixes {
		if f.Fix == fix {
			return f.Queries
		}
	}
	return -1
}
