package monitoring

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// promqlBlocks returns the ```promql blocks of a Markdown page with the
// line each starts on.
func promqlBlocks(md string) []Query {
	var qs []Query
	lines := strings.Split(md, "\n")
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```promql" {
			continue
		}
		start := i + 2 // the first line of the query, from 1
		var body []string
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			body = append(body, lines[i])
		}
		qs = append(qs, Query{Where: fmt.Sprintf("docs/runbooks.md:%d", start), Expr: strings.Join(body, "\n")})
	}
	return qs
}

// The PromQL of the runbooks parses and reads only what coredns-custom
// exports (or node_exporter, Prometheus): a reader can paste it.
func TestRunbookQueriesParseAndReadExportedMetrics(t *testing.T) {
	b, err := os.ReadFile(repoFile(t, "docs/runbooks.md"))
	if err != nil {
		t.Fatal(err)
	}
	qs := promqlBlocks(string(b))
	if len(qs) < 10 {
		t.Fatalf("%d promql blocks in docs/runbooks.md", len(qs))
	}
	for _, q := range qs {
		if _, err := ParseExpr(q.Expr); err != nil {
			t.Errorf("%s: %s: %v", q.Where, q.Expr, err)
		}
	}
	scrapes := liveScrapes(t)
	exported, err := exportedNames(scrapes[len(scrapes)-1].Text)
	if err != nil {
		t.Fatal(err)
	}
	_, recorded := shippedQueries(t)
	bad, err := unknownMetrics(qs, exported, recorded)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range bad {
		t.Error(m)
	}
	if got := promqlBlocks("a\n```promql\nup\n```\n"); len(got) != 1 || got[0].Expr != "up" || got[0].Where != "docs/runbooks.md:3" {
		t.Errorf("blocks of a known page: %+v", got)
	}
}
