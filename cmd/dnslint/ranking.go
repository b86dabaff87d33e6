package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/k8slint/k8slint/internal/kubeapi"
	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/poddns"
	"github.com/k8slint/k8slint/internal/resolver"
	"github.com/k8slint/k8slint/plugin/k8slint/report"
)

// The measured half of dnslint cluster: the k8slint report of every
// CoreDNS pod, merged, and the workloads it names ranked by the NXDOMAIN
// answers they wasted, each with its static findings, dnslint's fixes and
// what the same traffic would waste with them applied.

// defaultReportPort is where the k8slint README serves the report
// (`report :9154`), unless the CoreDNS pod names a container port
// "report" or --report-port says otherwise.
const defaultReportPort = 9154

// corednsSelector selects the CoreDNS pods, as the kube-dns Service does.
const corednsSelector = "k8s-app=kube-dns"

// fetchReports GETs the report of every running CoreDNS pod through the
// API server's pod proxy and merges them. A pod whose report cannot be
// read is a warning; refused reports whether the API refused a read (the
// pod list, the proxy) and the scan should fail.
func (s *clusterScan) fetchReports(ctx context.Context, port int) (merged report.Report, n int, ok bool) {
	var reports []report.Report
	q := url.Values{"labelSelector": {corednsSelector}}
	var pods []kubeapi.Object
	err := s.api.List(ctx, "/api/v1/namespaces/kube-system/pods", q, 0, func(o kubeapi.Object) error {
		pods = append(pods, o)
		return nil
	})
	if err != nil {
		return merged, 0, s.refused(err, "list pods "+corednsSelector, "kube-system", "")
	}
	for _, p := range pods {
		name := kubeapi.MetaOf(p).Name
		if phase, _ := dig(p, "status", "phase").(string); phase != "Running" {
			fmt.Fprintf(s.stderr, "dnslint: warning: CoreDNS pod kube-system/%s is %s: its report is left out\n", name, phase)
			continue
		}
		pp := port
		if pp == 0 {
			pp = reportPort(p)
		}
		path := fmt.Sprintf("/api/v1/namespaces/kube-system/pods/%s:%d/proxy/k8slint/report", url.PathEscape(name), pp)
		b, err := s.api.Get(ctx, path, nil)
		if kubeapi.IsForbidden(err) {
			s.refused(err, "get pods/proxy", "kube-system", name)
			continue
		}
		if err != nil {
			fmt.Fprintf(s.stderr, "dnslint: warning: no k8slint report from CoreDNS pod kube-system/%s port %d (k8slint's `report :%d`): %v\n", name, pp, pp, err)
			continue
		}
		r, err := report.Decode(bytes.NewReader(b))
		if err != nil {
			fmt.Fprintf(s.stderr, "dnslint: warning: the report of CoreDNS pod kube-system/%s: %v\n", name, err)
			continue
		}
		reports = append(reports, r)
	}
	if len(pods) == 0 {
		fmt.Fprintf(s.stderr, "dnslint: warning: no CoreDNS pod (%s) in kube-system: no measured waste\n", corednsSelector)
	}
	merged = report.Merge(reports...)
	merged.Sort()
	return merged, len(reports), true
}

// reportPort is the container port named "report" of a CoreDNS pod, or
// defaultReportPort.
func reportPort(pod kubeapi.Object) int {
	cs, _ := dig(pod, "spec", "containers").([]any)
	for _, c := range cs {
		ps, _ := dig(c, "ports").([]any)
		for _, p := range ps {
			if n, _ := dig(p, "name").(string); n == "report" {
				if port, err := strconv.Atoi(fmt.Sprint(dig(p, "containerPort"))); err == nil {
					return port
				}
			}
		}
	}
	return defaultReportPort
}

// dig walks maps of a decoded object by key.
func dig(o any, keys ...string) any {
	for _, k := range keys {
		m, ok := o.(map[string]any)
		if !ok {
			return nil
		}
		o = m[k]
	}
	return o
}

// objectKey names a linted object: namespace, kubectl's resource name,
// name.
type objectKey struct{ ns, kind, name string }

// keyOf is the object a report entry names, when it is one dnslint lints
// (a Deployment, StatefulSet, DaemonSet, Job, Pod).
func keyOf(w *report.Workload) (objectKey, bool) {
	if w.Level != report.LevelWorkload {
		return objectKey{}, false
	}
	kind := strings.ToLower(w.Kind)
	for _, k := range workloadKinds {
		if k.kind == kind {
			return objectKey{w.Namespace, kind, w.Name}, true
		}
	}
	return objectKey{}, false
}

// linkedObject is what the scan keeps of an object a report entry names.
type linkedObject struct {
	path     string
	src      []byte
	findings []lint.Finding
}

// ranked is one entry of the ranking.
type ranked struct {
	Entry report.Workload `json:"entry"`
	// Object is the linted object the entry names (a CronJob for the
	// entry of one of its Jobs); "" when dnslint lints none.
	Object   string         `json:"object,omitempty"`
	Findings []lint.Finding `json:"findings"`
	Fixes    []string       `json:"fixes"`
	// PredictedWasted is what the entry's traffic would waste with the
	// fixes applied (set only when Predicted).
	PredictedWasted uint64 `json:"predictedWastedNXDOMAIN"`
	Predicted       bool   `json:"predicted"`
	// Missing is set for an entry of a workload dnslint reads that it
	// did not find (deleted since the report counted it).
	Missing bool             `json:"missing,omitempty"`
	Names   []namePrediction `json:"names,omitempty"`
	// HostNetwork lists, for a node entry, the host-network workloads
	// dnslint saw, whose lookups it counts; with just one, Object is that
	// one and the prediction is made with it.
	HostNetwork []string `json:"hostNetwork,omitempty"`
}

// namePrediction is one base name of an entry: what a lookup of it costs
// now and after the fixes (poddns), and what the lookups measured would
// waste after them.
type namePrediction struct {
	Name           string        `json:"name"`
	Resolver       resolver.Kind `json:"-"`
	Measured       uint64        `json:"wastedNXDOMAIN"`
	NXPerLookup    int           `json:"nxdomainPerLookup"`
	NXPerLookupFix int           `json:"nxdomainPerLookupFixed"`
	Predicted      uint64        `json:"predictedWastedNXDOMAIN"`
}

// predict fills r's fixes and prediction from the object's manifest: the
// manifest with dnslint's fixes applied (lint.FixAll) is loaded again, and
// each base name's measured waste is scaled by what one lookup of it
// wastes before and after (poddns, the cost every rule states). The waste
// not credited to a listed name is scaled as the listed names are.
func predict(r *ranked, o *linkedObject, opts lint.Options) {
	r.Findings = o.findings
	for _, f := range o.findings {
		if len(f.Fixes) > 0 {
			r.Fixes = append(r.Fixes, f.Fixes[0].Message)
		}
	}
	before, err := lint.LoadManifest(o.path, o.src, 1)
	if err != nil || len(before.Workloads) != 1 {
		return
	}
	fixed, err := lint.FixAll(o.path, o.src, opts)
	if err != nil {
		return
	}
	after, err := lint.LoadManifest(o.path, fixed.Src, 1)
	if err != nil || len(after.Workloads) != 1 {
		return
	}
	cl := poddns.NewCluster(opts.Config.ClusterDomain, opts.Config.Pods)
	pb, pa := cl.Pod(before.Workloads[0]), cl.Pod(after.Workloads[0])
	if pb.Err != nil || pa.Err != nil {
		return
	}
	var listed, listedAfter float64
	for _, n := range r.Entry.TopNames {
		kind := lookupKind(pb, n.Name)
		name := cl.Classify(n.Name, pb.Namespace)
		_, nb := cl.Cost(kind, pb.Result.Conf, name)
		_, na := cl.Cost(kind, pa.Result.Conf, name)
		np := namePrediction{Name: n.Name, Resolver: kind, Measured: n.WastedNXDOMAIN, NXPerLookup: nb, NXPerLookupFix: na}
		if nb == 0 {
			// dnslint's model wastes nothing on the name: it cannot say
			// what the fix changes.
			return
		}
		np.Predicted = uint64(float64(n.WastedNXDOMAIN)*float64(na)/float64(nb) + 0.5)
		listed += float64(n.WastedNXDOMAIN)
		listedAfter += float64(np.Predicted)
		r.Names = append(r.Names, np)
	}
	if listed == 0 {
		return
	}
	rest := float64(r.Entry.WastedNXDOMAIN) - listed
	r.PredictedWasted = uint64(listedAfter + max(rest, 0)*listedAfter/listed + 0.5)
	r.Predicted = true
}

// lookupKind is the resolver that looks name up in pod p: the one of the
// container whose manifest names it, else of the first container, glibc
// when unknown (poddns.Use.Kind).
func lookupKind(p *poddns.Pod, name string) resolver.Kind {
	for _, u := range p.Names {
		if strings.EqualFold(strings.TrimSuffix(u.Name.Name, "."), name) {
			return u.Kind()
		}
	}
	if len(p.Families) > 0 && p.Families[0].Known {
		return p.Families[0].Kind
	}
	return resolver.GLibc
}

// writeRanking writes the ranking as text.
func writeRanking(w io.Writer, m report.Report, reached int, rs []ranked) error {
	if reached == 0 {
		_, err := io.WriteString(w, "\nNo k8slint report could be read: no measured waste (static findings above).\n")
		return err
	}
	var b strings.Builder
	span := m.Window.End.Sub(m.Window.Start).Round(1e9)
	fmt.Fprintf(&b, "\nWorkloads by wasted NXDOMAIN answers (k8slint report of %d CoreDNS pod(s), %s: %d queries, %d wasted NXDOMAIN):\n",
		reached, span, m.Totals.Queries, m.Totals.WastedNXDOMAIN)
	if len(rs) == 0 {
		b.WriteString("  none wasted any.\n")
	}
	for i, r := range rs {
		e := &r.Entry
		share := 0.0
		if m.Totals.WastedNXDOMAIN > 0 {
			share = 100 * float64(e.WastedNXDOMAIN) / float64(m.Totals.WastedNXDOMAIN)
		}
		bound := ""
		if e.WastedError > 0 {
			bound = fmt.Sprintf(" (up to %d more)", e.WastedError)
		}
		if e.UnconfirmedNXDOMAIN > 0 {
			bound += fmt.Sprintf(" (and %d unconfirmed: search candidates a replica saw without the rest of their walk)", e.UnconfirmedNXDOMAIN)
		}
		fmt.Fprintf(&b, "%2d. %s: %d wasted NXDOMAIN%s of %d queries (%.0f%% of all waste)", i+1, entryName(e), e.WastedNXDOMAIN, bound, e.Queries, share)
		var names []string
		for _, n := range e.TopNames {
			names = append(names, fmt.Sprintf("%s (%d)", n.Name, n.WastedNXDOMAIN))
		}
		if len(names) > 0 {
			fmt.Fprintf(&b, "; most on %s", strings.Join(names, ", "))
		}
		b.WriteString("\n")
		if r.Object != "" && e.Level == report.LevelWorkload && r.Object != objectName(e.Namespace, strings.ToLower(e.Kind), e.Name) {
			fmt.Fprintf(&b, "    linted as %s\n", r.Object)
		}
		for _, f := range r.Findings {
			fmt.Fprintf(&b, "    %s:%d:%d: %s: %s [%s]\n", f.File, f.Line, f.Col, f.Severity, f.Message, f.RuleID)
		}
		if e.Level == report.LevelNode {
			hn := strings.Join(r.HostNetwork, ", ")
			if hn == "" {
				hn = "none seen"
			}
			fmt.Fprintf(&b, "    host-network workloads: %s\n", hn)
		}
		switch {
		case r.Missing:
			b.WriteString("    not found in the cluster: deleted since?\n")
		case r.Object == "" && e.Level == report.LevelWorkload:
			b.WriteString("    not linted: dnslint cluster does not read this kind\n")
		case r.Object == "":
		case len(r.Findings) == 0:
			b.WriteString("    no finding: nothing to change in its manifest\n")
		case len(r.Fixes) == 0:
			b.WriteString("    no fix dnslint can apply\n")
		default:
			fmt.Fprintf(&b, "    fix: %s\n", strings.Join(r.Fixes, "; "))
		}
		if r.Predicted {
			fmt.Fprintf(&b, "    predicted after the fix: %d wasted NXDOMAIN for the same lookups", r.PredictedWasted)
			var per []string
			for _, n := range r.Names {
				per = append(per, fmt.Sprintf("%s %d → %d per lookup", n.Name, n.NXPerLookup, n.NXPerLookupFix))
			}
			fmt.Fprintf(&b, " (%s)\n", strings.Join(per, ", "))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// entryName is how the ranking names an entry.
func entryName(e *report.Workload) string {
	switch e.Level {
	case report.LevelNode:
		return "node " + e.Name + " (host-network pods and the node itself)"
	case report.LevelAddress:
		return "client " + e.Address + " (not attributed to a pod)"
	}
	return e.Kind + " " + e.Namespace + "/" + e.Name
}

// rankingJSON is the "ranking" of dnslint cluster --format json.
type rankingJSON struct {
	// Reports is how many CoreDNS pods' reports were merged.
	Reports   int           `json:"reports"`
	Window    report.Window `json:"window"`
	Totals    report.Counts `json:"totals"`
	Workloads []ranked      `json:"workloads"`
}
