package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/k8slint/k8slint/internal/kubeapi"
	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/rules"
	"github.com/k8slint/k8slint/plugin/k8slint/report"
)

// clusterCmd is the command line of dnslint cluster.
type clusterCmd struct {
	kubeconfig, context string
	namespace           string // -n; "" for the kubeconfig context's
	allNamespaces       bool
	chunkSize           int
	format              string
	enable, disable     []string
	failOn              lint.Severity
	version             lint.Version
	reportPort          int // 0: the pod's port named report, or 9154
	noReport            bool
	top                 int
	k8slint             bool // the CoreDNS image has k8slint
	settings
}

// parseCluster reads dnslint cluster's command line without side effects.
func parseCluster(args []string) (clusterCmd, error) {
	c := clusterCmd{format: formats[0].name, failOn: lint.Warning, version: lint.DefaultCoreDNSVersion, chunkSize: 500, top: 10}
	fs := newFlagSet("dnslint cluster")
	fs.StringVar(&c.kubeconfig, "kubeconfig", "", "")
	fs.StringVar(&c.context, "context", "", "")
	fs.StringVar(&c.namespace, "n", "", "")
	fs.StringVar(&c.namespace, "namespace", "", "")
	fs.BoolVar(&c.allNamespaces, "A", false, "")
	fs.BoolVar(&c.allNamespaces, "all-namespaces", false, "")
	fs.IntVar(&c.chunkSize, "chunk-size", c.chunkSize, "")
	fs.IntVar(&c.reportPort, "report-port", 0, "")
	fs.BoolVar(&c.noReport, "no-report", false, "")
	fs.IntVar(&c.top, "top", c.top, "")
	fs.StringVar(&c.format, "format", c.format, "")
	fs.Var(listFlag{&c.enable}, "enable", "")
	fs.Var(listFlag{&c.disable}, "disable", "")
	fs.Func("fail-on", "", func(v string) (err error) { c.failOn, err = lint.ParseSeverity(v); return err })
	fs.Func("coredns-version", "", func(v string) (err error) { c.version, err = lint.ParseVersion(v); return err })
	fs.BoolVar(&c.k8slint, "k8slint", false, "")
	c.settings.registerNode(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return c, err
	}
	if len(pos) > 0 {
		return c, fmt.Errorf("dnslint cluster takes no PATH (got %q); lint files with dnslint PATH", pos[0])
	}
	if c.allNamespaces && c.namespace != "" {
		return c, errors.New("-n and -A (--all-namespaces) exclude each other")
	}
	if c.chunkSize < 0 {
		return c, errors.New("--chunk-size: must be 0 (no paging) or more")
	}
	if c.reportPort < 0 || c.reportPort > 65535 {
		return c, errors.New("--report-port: not a port")
	}
	if c.top < 1 {
		return c, errors.New("--top: must be 1 or more")
	}
	return c, checkFormat(c.format, formatNames())
}

// corednsConfigMaps are the ConfigMaps that carry the cluster's CoreDNS
// configuration: kubeadm's and most distributions' kube-system/coredns,
// and coredns-custom, whose *.server and *.override keys AKS and k3s
// import into it.
var corednsConfigMaps = []string{"coredns", "coredns-custom"}

// workloadKinds are the collections dnslint cluster lists, in output
// order: what creates pods. Jobs of a CronJob and pods of any controller
// are linted through their owner, once.
var workloadKinds = []struct {
	groupVersion, resource, kind string
}{
	{"apps/v1", "deployments", "deployment"},
	{"apps/v1", "statefulsets", "statefulset"},
	{"apps/v1", "daemonsets", "daemonset"},
	{"batch/v1", "jobs", "job"},
	{"batch/v1", "cronjobs", "cronjob"},
	{"v1", "pods", "pod"},
}

// collectionPath is the API path of a collection, in namespace ns or, for
// "", in all namespaces.
func collectionPath(groupVersion, resource, ns string) string {
	p := "/apis/" + groupVersion
	if groupVersion == "v1" {
		p = "/api/v1"
	}
	if ns != "" {
		p += "/namespaces/" + url.PathEscape(ns)
	}
	return p + "/" + resource
}

// objectName is the file-like name of an object read from the cluster, in
// findings: cluster://NAMESPACE/KIND/NAME (KIND as kubectl's singular
// resource name).
func objectName(ns, kind, name string) string {
	return "cluster://" + ns + "/" + kind + "/" + name
}

// linkedThroughOwner reports whether an object of kind is linted through
// its owner: a Job of a CronJob, a Pod of any controller (a ReplicaSet's
// through its Deployment, a static pod's through its node's files).
func linkedThroughOwner(kind string, m kubeapi.Meta) bool {
	ctl, ok := m.Controller()
	switch {
	case !ok:
		return false
	case kind == "job":
		return ctl.Kind == "CronJob"
	case kind == "pod":
		return true
	}
	return false
}

// runCluster lints the CoreDNS ConfigMaps and the workloads of a live
// cluster.
func runCluster(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	c, err := parseCluster(args)
	if err != nil {
		return usageError(err, stdout, stderr)
	}
	// An unknown rule is refused before the cluster is asked anything.
	if _, err := selectRules(c.enable, c.disable); err != nil {
		fmt.Fprintf(stderr, "dnslint: %v\n", err)
		return exitUsage
	}
	api, err := kubeapi.Connect(c.kubeconfig, c.context)
	if err != nil {
		fmt.Fprintf(stderr, "dnslint: %v\n", err)
		return exitUsage
	}
	ctx := context.Background()
	if c.k8sVersion == (lint.Version{}) {
		c.k8sVersion = serverVersion(ctx, api)
	}
	opts, err := lintOptions(c.enable, c.disable, &c.settings, c.version)
	if err != nil {
		fmt.Fprintf(stderr, "dnslint: %v\n", err)
		return exitUsage
	}
	opts.Config.K8slint = c.k8slint
	ns := c.namespace
	switch {
	case c.allNamespaces:
		ns = ""
	case ns == "":
		ns = api.Namespace
	}
	buf := bufio.NewWriterSize(stdout, 64<<10)
	defer buf.Flush()
	s := &clusterScan{api: api, opts: opts, out: newFormatter(c.format), w: buf, stderr: stderr, failOn: c.failOn}
	var m report.Report
	reached := 0
	if !c.noReport {
		var ok bool
		if m, reached, ok = s.fetchReports(ctx, c.reportPort); !ok {
			return exitUsage
		}
		s.want(m, ns, c.top)
	}
	s.writeErr = s.out.Begin(buf, rules.All())
	if !s.scan(ctx, ns, c.chunkSize) {
		return exitUsage
	}
	rs := s.ranking()
	if s.writeErr == nil {
		switch out := s.out.(type) {
		case *jsonFormat:
			if c.noReport {
				s.writeErr = out.End(buf)
			} else {
				s.writeErr = out.EndWith(buf, "ranking", rankingJSON{Reports: reached, Window: m.Window, Totals: m.Totals, Workloads: rs})
			}
		default:
			s.writeErr = s.out.End(buf)
			if s.writeErr == nil && !c.noReport && c.format == "text" {
				s.writeErr = writeRanking(buf, m, reached, rs)
			}
		}
	}
	if err := buf.Flush(); err != nil && s.writeErr == nil {
		s.writeErr = err
	}
	switch {
	case s.writeErr != nil:
		fmt.Fprintf(stderr, "dnslint: %v\n", s.writeErr)
		return exitUsage
	case s.apiErr:
		return exitUsage
	case s.failed:
		return exitFindings
	}
	return exitOK
}

// serverVersion returns the API server's Kubernetes release (major and
// minor), or the zero Version (the current limits) when it does not say.
func serverVersion(ctx context.Context, api *kubeapi.Client) lint.Version {
	o, err := api.GetObject(ctx, "/version")
	if err != nil {
		return lint.Version{}
	}
	major, _ := o["major"].(string)
	minor, _ := o["minor"].(string)
	maj, err1 := strconv.Atoi(strings.TrimRight(major, "+"))
	mnr, err2 := strconv.Atoi(strings.TrimRight(minor, "+"))
	if err1 != nil || err2 != nil {
		return lint.Version{}
	}
	return lint.Version{maj, mnr, 0}
}

// clusterScan is one run of dnslint cluster: what it reads and writes.
type clusterScan struct {
	api      *kubeapi.Client
	opts     lint.Options
	out      formatter
	w        io.Writer
	stderr   io.Writer
	failOn   lint.Severity
	failed   bool  // a finding at or above failOn
	apiErr   bool  // a collection could not be read
	writeErr error // the first output error
	// The ranking: the report's entries in order, the objects they name
	// (wanted) and what the scan kept of those (kept), the Jobs of
	// CronJobs among them (cronJobOf), the host-network workloads.
	entries     []report.Workload
	wanted      map[objectKey]bool
	kept        map[objectKey]*linkedObject
	cronJobOf   map[objectKey]objectKey
	hostNetwork []*linkedObject
}

// scan lints the CoreDNS ConfigMaps and every workload of namespace ns
// ("" for all), writing findings object by object. A collection the API
// refuses is an error on stderr and the scan goes on; a connection that
// fails stops it (false).
func (s *clusterScan) scan(ctx context.Context, ns string, chunk int) bool {
	for _, name := range corednsConfigMaps {
		o, err := s.api.GetObject(ctx, "/api/v1/namespaces/kube-system/configmaps/"+name)
		switch {
		case kubeapi.IsNotFound(err):
			if name == "coredns" {
				fmt.Fprintln(s.stderr, "dnslint: warning: no ConfigMap kube-system/coredns: the cluster's Corefile is not linted")
			}
			continue
		case err != nil:
			if !s.refused(err, "get configmaps", "kube-system", name) {
				return false
			}
			continue
		}
		s.lint("kube-system", "configmap", name, o)
	}
	for _, k := range workloadKinds {
		err := s.api.List(ctx, collectionPath(k.groupVersion, k.resource, ns), nil, chunk, func(o kubeapi.Object) error {
			m := kubeapi.MetaOf(o)
			if !linkedThroughOwner(k.kind, m) {
				s.lint(m.Namespace, k.kind, m.Name, o)
			} else if key := (objectKey{m.Namespace, k.kind, m.Name}); s.wanted[key] && k.kind == "job" {
				ctl, _ := m.Controller()
				cj := objectKey{m.Namespace, "cronjob", ctl.Name}
				s.cronJobOf[key] = cj
				s.wanted[cj] = true
			}
			return s.writeErr
		})
		if err != nil && err == s.writeErr {
			return true
		}
		if err != nil && !s.refused(err, "list "+k.resource, ns, "") {
			return false
		}
	}
	return true
}

// want notes the top entries of report m that waste answers, so that the
// scan keeps the objects they name. With a namespace (ns not ""), the
// workloads of other namespaces and the addresses no pod has are left
// out, the nodes kept: their host-network pods may be of ns.
func (s *clusterScan) want(m report.Report, ns string, top int) {
	s.wanted = map[objectKey]bool{}
	s.kept = map[objectKey]*linkedObject{}
	s.cronJobOf = map[objectKey]objectKey{}
	for _, e := range m.Workloads {
		if len(s.entries) == top {
			break
		}
		if e.WastedNXDOMAIN+e.WastedError == 0 || (ns != "" && e.Level != report.LevelNode && e.Namespace != ns) {
			continue
		}
		s.entries = append(s.entries, e)
		if k, ok := keyOf(&e); ok {
			s.wanted[k] = true
		}
	}
}

// ranking returns the entries want noted with what the scan kept of their
// objects, each with its fixes and prediction.
func (s *clusterScan) ranking() []ranked {
	rs := []ranked{}
	for _, e := range s.entries {
		r := ranked{Entry: e, Findings: []lint.Finding{}}
		if e.Level == report.LevelNode {
			// A node's queries are its host-network pods' (and its own):
			// with one host-network workload, they are that workload's.
			for _, o := range s.hostNetwork {
				r.HostNetwork = append(r.HostNetwork, o.path)
			}
			if len(s.hostNetwork) == 1 {
				r.Object = s.hostNetwork[0].path
				predict(&r, s.hostNetwork[0], s.opts)
			}
		}
		if k, ok := keyOf(&e); ok {
			if cj, ok := s.cronJobOf[k]; ok {
				k = cj
			}
			if o := s.kept[k]; o != nil {
				r.Object = o.path
				predict(&r, o, s.opts)
			} else {
				r.Missing = true
			}
		}
		rs = append(rs, r)
	}
	return rs
}

// refused reports an API error naming what was read; it returns false for
// an error that is no answer of the API server (the connection failed),
// after which nothing else can be read.
func (s *clusterScan) refused(err error, verb, ns, name string) bool {
	where := "in all namespaces"
	if ns != "" {
		where = "in namespace " + ns
	}
	what := verb
	if name != "" {
		what += " " + name
	}
	s.apiErr = true
	var se *kubeapi.StatusError
	if !errors.As(err, &se) {
		fmt.Fprintf(s.stderr, "dnslint: cluster: %s %s: %v\n", what, where, err)
		return false
	}
	hint := ""
	if kubeapi.IsForbidden(err) {
		hint = " (deploy/rbac/dnslint-cluster.yaml grants what dnslint cluster reads)"
	}
	fmt.Fprintf(s.stderr, "dnslint: cluster: %s %s: %s%s\n", what, where, se.Message, hint)
	return true
}

// lint lints one object as `kubectl get -o yaml` would print it, and
// writes its findings.
func (s *clusterScan) lint(ns, kind, name string, o kubeapi.Object) {
	src, err := kubeapi.YAML(o)
	path := objectName(ns, kind, name)
	if err != nil {
		fmt.Fprintf(s.stderr, "dnslint: %s: %v\n", path, err)
		s.apiErr = true
		return
	}
	in, err := lint.LoadManifest(path, src, 1)
	if err != nil {
		fmt.Fprintf(s.stderr, "dnslint: %v\n", err)
		s.apiErr = true
		return
	}
	fs := lint.Run(in, s.opts)
	for _, f := range fs {
		s.failed = s.failed || f.Severity >= s.failOn
	}
	if key := (objectKey{ns, kind, name}); s.wanted[key] {
		s.kept[key] = &linkedObject{path: path, src: src, findings: fs}
	}
	for _, w := range in.Workloads {
		if w.HostNetworkOn() && s.wanted != nil {
			s.hostNetwork = append(s.hostNetwork, &linkedObject{path: path, src: src, findings: fs})
			break
		}
	}
	if s.writeErr == nil {
		s.writeErr = s.out.File(s.w, fs)
	}
}
