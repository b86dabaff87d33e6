package rules

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/k8slint/k8slint/internal/lint"
)

// generatedCorefiles returns n Corefiles in the shapes clusters run:
// kubeadm's default with varying zones and options, NodeLocal DNSCache's
// multi-block layout, stub-domain blocks, and one in ten with a mistake
// (a typo, an unknown option, a bad duration, an unclosed block).
func generatedCorefiles(n int) [][]byte {
	r := rand.New(rand.NewSource(1))
	mistakes := []string{"    forwrd . 10.0.0.1\n", "    cache 30 {\n        sucess 9984\n    }\n", "    reload 10\n", "    errors {\n"}
	out := make([][]byte, n)
	for i := range out {
		var b strings.Builder
		domain := fmt.Sprintf("c%d.local", r.Intn(1000))
		switch i % 3 {
		case 0:
			fmt.Fprintf(&b, ".:53 {\n    errors\n    health {\n        lameduck %ds\n    }\n    ready\n", 1+r.Intn(9))
			fmt.Fprintf(&b, "    kubernetes %s in-addr.arpa ip6.arpa {\n        pods %s\n        fallthrough in-addr.arpa ip6.arpa\n        ttl %d\n    }\n",
				domain, []string{"insecure", "verified", "disabled"}[r.Intn(3)], 5+r.Intn(60))
			fmt.Fprintf(&b, "    prometheus :9153\n    forward . /etc/resolv.conf {\n        max_concurrent %d\n    }\n    cache %d\n    loop\n    reload\n    loadbalance\n", 100+r.Intn(1000), 5+r.Intn(60))
		case 1:
			for _, z := range []string{domain, "in-addr.arpa", "ip6.arpa", "."} {
				fmt.Fprintf(&b, "%s:53 {\n    errors\n    cache %d\n    reload\n    loop\n    bind 169.254.20.10\n    forward . 10.96.0.%d {\n        force_tcp\n    }\n    prometheus :9253\n", z, 5+r.Intn(30), 2+r.Intn(200))
				if i%10 == 1 {
					b.WriteString(mistakes[r.Intn(len(mistakes))])
				}
				b.WriteString("}\n")
			}
			continue
		default:
			fmt.Fprintf(&b, ".:53 {\n    errors\n    hosts {\n        10.0.%d.%d db.%s\n        fallthrough\n    }\n    forward . 10.0.0.%d 10.0.1.%d\n    cache 30\n}\n", r.Intn(255), r.Intn(255), domain, r.Intn(255), r.Intn(255))
			fmt.Fprintf(&b, "stub%d.example:53 {\n    errors\n    forward . 10.1.0.%d\n    cache 10\n", i, r.Intn(255))
		}
		if i%10 == 0 || i%10 == 2 {
			b.WriteString(mistakes[r.Intn(len(mistakes))])
		}
		b.WriteString("}\n")
		out[i] = []byte(b.String())
	}
	return out
}

// BenchmarkLintCorefiles lints 1,000 generated Corefiles per iteration with
// every rule (CoreDNS's own setup code included) and, for the ratio, with
// every rule but the four that need CoreDNS's validation.
func BenchmarkLintCorefiles(b *testing.B) {
	files := generatedCorefiles(1000)
	withoutValidation := []lint.Rule{}
	for _, r := range All() {
		if r.ID != Invalid.ID && r.ID != Malformed.ID && r.ID != SetupWarning.ID && r.ID != NotValidated.ID {
			withoutValidation = append(withoutValidation, r)
		}
	}
	for _, c := range []struct {
		name  string
		rules []lint.Rule
	}{{"all-rules", All()}, {"without-validation", withoutValidation}} {
		b.Run(c.name, func(b *testing.B) {
			opts := lint.Options{Config: lint.Config{CoreDNSVersion: lint.DefaultCoreDNSVersion, ClusterDomain: "cluster.local"}, Rules: c.rules,
				Known: func(id string) bool { _, ok := ByID(id); return ok }}
			invalid := 0
			for b.Loop() {
				invalid = 0
				for i, src := range files {
					in, err := lint.Load(fmt.Sprintf("g%d.Corefile", i), src)
					if err != nil {
						b.Fatal(err)
					}
					for _, f := range lint.Run(in, opts) {
						if f.RuleID == Invalid.ID {
							invalid++
							break
						}
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(files)), "ns/corefile")
			if c.name == "all-rules" {
				b.ReportMetric(float64(invalid), "invalid/1000")
			}
			if c.name == "all-rules" && (invalid == 0 || invalid == len(files)) {
				b.Fatalf("%d of %d generated Corefiles invalid: the generator does not make the mix it claims", invalid, len(files))
			}
		})
	}
}
