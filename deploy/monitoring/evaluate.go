package monitoring

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
)

// Scrape is one scrape of a target, in the Prometheus text format, as a
// Prometheus server would have taken it.
type Scrape struct {
	At     time.Time
	Target map[string]string // the labels Prometheus adds: job, instance, and any from service discovery
	Text   []byte
	// HonorLabels keeps a scraped label that collides with a target label
	// (honor_labels: true); otherwise the scraped one is renamed
	// exported_NAME, as Prometheus does by default.
	HonorLabels bool
}

// Result is one dashboard query evaluated against scrapes.
type Result struct {
	Query
	PromQL string // the expression with the variables substituted
	Series int    // series in the answer
	Err    error
}

// EvaluateDashboard answers every query of a dashboard (its targets and the
// selectors of its variables) from a set of scrapes: it stores the samples
// as Prometheus would (with the target labels and an up series per scrape)
// and evaluates each query at the time of the last scrape, with the
// dashboard variables set from vars. $__rate_interval and $__range cover
// all the scrapes, $__interval is the smallest gap between two of them.
// A query answered with no series has Series 0: the caller decides which
// queries must have data (those of exporters the scrapes do not include
// may not).
//
// This is the hook for checking the dashboard against a live CoreDNS: give
// it two or more scrapes of each replica taken some seconds apart.
func EvaluateDashboard(dashboardJSON []byte, scrapes []Scrape, vars map[string]string) ([]Result, error) {
	if len(scrapes) < 2 {
		return nil, fmt.Errorf("want at least two scrapes (rates need two samples), got %d", len(scrapes))
	}
	d, err := ParseDashboard(dashboardJSON)
	if err != nil {
		return nil, err
	}
	queries, err := DashboardQueries("dashboard "+d.UID, d)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(scrapes, func(i, j int) bool { return scrapes[i].At.Before(scrapes[j].At) })
	first, last := scrapes[0].At, scrapes[len(scrapes)-1].At
	span := last.Sub(first)
	if span <= 0 {
		return nil, fmt.Errorf("the scrapes were all taken at %s", first)
	}
	step := span
	for i := 1; i < len(scrapes); i++ {
		if g := scrapes[i].At.Sub(scrapes[i-1].At); g > 0 && g < step {
			step = g
		}
	}
	vals := map[string]string{
		"__rate_interval": promDuration(span + step/2),
		"__range":         promDuration(span + step/2),
		"__interval":      promDuration(step),
	}
	for k, v := range vars {
		vals[k] = v
	}

	dir, err := os.MkdirTemp("", "k8slint-dashboard-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	opts := tsdb.DefaultOptions()
	opts.MinBlockDuration = int64(24 * time.Hour / time.Millisecond)
	opts.MaxBlockDuration = opts.MinBlockDuration
	db, err := tsdb.Open(dir, nil, nil, opts, tsdb.NewDBStats())
	if err != nil {
		return nil, err
	}
	defer db.Close()
	for _, s := range scrapes {
		if err := store(db, s); err != nil {
			return nil, err
		}
	}

	engine := promql.NewEngine(promql.EngineOpts{MaxSamples: 50_000_000, Timeout: time.Minute, LookbackDelta: 5 * time.Minute})
	var results []Result
	for _, q := range queries {
		r := Result{Query: q}
		r.PromQL, r.Err = SubstituteVariables(q.Expr, vals)
		if r.Err == nil {
			r.Series, r.Err = instant(engine, db, r.PromQL, last)
		}
		results = append(results, r)
	}
	return results, nil
}

// instant evaluates expr at ts and returns how many series answer.
func instant(engine *promql.Engine, q storage.Queryable, expr string, ts time.Time) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	qry, err := engine.NewInstantQuery(ctx, q, nil, expr, ts)
	if err != nil {
		return 0, err
	}
	defer qry.Close()
	res := qry.Exec(ctx)
	if res.Err != nil {
		return 0, res.Err
	}
	switch v := res.Value.(type) {
	case promql.Vector:
		return len(v), nil
	case promql.Matrix:
		return len(v), nil
	case promql.Scalar:
		return 1, nil
	default:
		return 0, fmt.Errorf("unexpected result type %s", res.Value.Type())
	}
}

// store appends one scrape's samples, and its up series, to db.
func store(db *tsdb.DB, s Scrape) error {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(s.Text))
	if err != nil {
		return fmt.Errorf("scrape at %s: %v", s.At, err)
	}
	app := db.Appender(context.Background())
	ts := s.At.UnixMilli()
	add := func(name string, metric []*dto.LabelPair, extra map[string]string, v float64) error {
		b := labels.NewBuilder(labels.EmptyLabels())
		for _, l := range metric {
			b.Set(l.GetName(), l.GetValue())
		}
		for k, v := range extra {
			b.Set(k, v)
		}
		for k, v := range s.Target {
			if cur := b.Get(k); cur != "" && !s.HonorLabels {
				b.Set("exported_"+k, cur)
				b.Set(k, v)
			} else if cur == "" {
				b.Set(k, v)
			}
		}
		b.Set(model.MetricNameLabel, name)
		_, err := app.Append(0, b.Labels(), ts, v)
		return err
	}
	if err := add("up", nil, nil, 1); err != nil {
		return err
	}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			var err error
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				err = add(name, m.GetLabel(), nil, m.GetCounter().GetValue())
			case dto.MetricType_GAUGE:
				err = add(name, m.GetLabel(), nil, m.GetGauge().GetValue())
			case dto.MetricType_UNTYPED:
				err = add(name, m.GetLabel(), nil, m.GetUntyped().GetValue())
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				inf := false
				for _, bk := range h.GetBucket() {
					inf = inf || math.IsInf(bk.GetUpperBound(), 1)
					if err = add(name+"_bucket", m.GetLabel(), map[string]string{"le": formatFloat(bk.GetUpperBound())}, float64(bk.GetCumulativeCount())); err != nil {
						break
					}
				}
				if err == nil && !inf {
					err = add(name+"_bucket", m.GetLabel(), map[string]string{"le": "+Inf"}, float64(h.GetSampleCount()))
				}
				if err == nil {
					err = add(name+"_sum", m.GetLabel(), nil, h.GetSampleSum())
				}
				if err == nil {
					err = add(name+"_count", m.GetLabel(), nil, float64(h.GetSampleCount()))
				}
			case dto.MetricType_SUMMARY:
				sm := m.GetSummary()
				for _, q := range sm.GetQuantile() {
					if err = add(name, m.GetLabel(), map[string]string{"quantile": formatFloat(q.GetQuantile())}, q.GetValue()); err != nil {
						break
					}
				}
				if err == nil {
					err = add(name+"_sum", m.GetLabel(), nil, sm.GetSampleSum())
				}
				if err == nil {
					err = add(name+"_count", m.GetLabel(), nil, float64(sm.GetSampleCount()))
				}
			}
			if err != nil {
				_ = app.Rollback()
				return fmt.Errorf("scrape at %s: %s: %v", s.At, name, err)
			}
		}
	}
	return app.Commit()
}

// formatFloat writes a bucket bound or quantile as Prometheus's text
// format does (le="0.005", le="+Inf").
func formatFloat(f float64) string {
	if math.IsInf(f, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// promDuration writes d as a PromQL duration in whole milliseconds.
func promDuration(d time.Duration) string {
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}

// CheckData says which results of EvaluateDashboard are wrong for scrapes
// of CoreDNS alone: a query that failed, one without data, or one of
// node_exporter's conntrack counters with data (no node_exporter was
// scraped). It returns a message for each and how many had data.
func CheckData(results []Result) (problems []string, withData int) {
	for _, r := range results {
		nodeExporter := strings.Contains(r.Expr, "node_nf_conntrack")
		switch {
		case r.Err != nil:
			problems = append(problems, fmt.Sprintf("%s: %s: %v", r.Where, r.PromQL, r.Err))
		case r.Series == 0 && !nodeExporter:
			problems = append(problems, fmt.Sprintf("%s: no data: %s", r.Where, r.PromQL))
		case r.Series > 0 && nodeExporter:
			problems = append(problems, fmt.Sprintf("%s: data without node_exporter: %s", r.Where, r.PromQL))
		case r.Series > 0:
			withData++
		}
	}
	return problems, withData
}

// ScrapeText reads http://addr/metrics with client, as it is.
func ScrapeText(client *http.Client, addr string) ([]byte, error) {
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("scrape %s: %s", addr, resp.Status)
	}
	return b, err
}
