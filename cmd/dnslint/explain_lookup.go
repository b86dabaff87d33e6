package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/workload"
	"github.com/k8slint/k8slint/internal/poddns"
	"github.com/k8slint/k8slint/internal/resolvconf"
	"github.com/k8slint/k8slint/internal/resolver"
	"github.com/miekg/dns"
)

// lookupCmd is the command line of explain-lookup NAME.
type lookupCmd struct {
	name      string
	format    string
	ndots     *int // nil: not given
	search    []string
	searchSet bool
	option    []string
	manifest  string
	container string
	settings
}

// lookupFormats are explain-lookup's output formats, the default first.
var lookupFormats = []string{"text", "json"}

// parseExplainLookup reads explain-lookup's command line without side
// effects.
func parseExplainLookup(args []string) (lookupCmd, error) {
	c := lookupCmd{format: lookupFormats[0]}
	fs := newFlagSet("explain-lookup")
	fs.StringVar(&c.format, "format", c.format, "")
	fs.Func("ndots", "", func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 15 {
			return fmt.Errorf("want a number from 0 to 15, got %q", v)
		}
		c.ndots = &n
		return nil
	})
	fs.Func("search", "", func(v string) error {
		// Given at all, it replaces the search list (an empty value
		// gives an empty one).
		c.searchSet = true
		c.search = append(c.search, strings.Fields(strings.ReplaceAll(v, ",", " "))...)
		return nil
	})
	fs.Var(listFlag{&c.option}, "option", "")
	fs.StringVar(&c.manifest, "f", "", "")
	fs.StringVar(&c.container, "container", "", "")
	c.settings.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return c, err
	}
	if err := checkFormat(c.format, lookupFormats); err != nil {
		return c, err
	}
	if len(pos) != 1 {
		return c, errors.New("explain-lookup takes exactly one NAME")
	}
	if c.container != "" && c.manifest == "" {
		return c, errors.New("--container needs -f MANIFEST")
	}
	c.name = pos[0]
	return c, nil
}

// lookupQuery is one query of an explained lookup.
type lookupQuery struct {
	N      int    `json:"n"`
	Type   string `json:"type"`
	Name   string `json:"name"`
	Answer string `json:"answer"`
	Wasted bool   `json:"wasted"`
}

// lookupFix is one change and what the lookup costs with it.
type lookupFix struct {
	Fix      string `json:"fix"`
	Queries  int    `json:"queries"`
	NXDomain int    `json:"nxdomain"`
}

// lookupReport is explain-lookup's output.
type lookupReport struct {
	Name       string        `json:"name"`
	InCluster  bool          `json:"inCluster"`
	FQDN       string        `json:"fqdn"`
	Resolver   string        `json:"resolver"`
	Why        string        `json:"resolverFrom"`
	ResolvConf string        `json:"resolvConf"`
	Mode       string        `json:"mode"`
	Queries    []lookupQuery `json:"queries"`
	Total      int           `json:"total"`
	NXDomain   int           `json:"nxdomain"`
	Wasted     int           `json:"wasted"`
	Resolves   bool          `json:"resolves"`
	Fixes      []lookupFix   `json:"fixes"`
}

// runExplainLookup explains one lookup.
func runExplainLookup(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c, err := parseExplainLookup(args)
	if err != nil {
		return usageError(err, stdout, stderr)
	}
	cfg, err := c.config(lint.DefaultCoreDNSVersion)
	if err != nil {
		fmt.Fprintf(stderr, "dnslint: %v\n", err)
		return exitUsage
	}
	rep, err := lookup(c, cfg, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "dnslint: %v\n", err)
		return exitUsage
	}
	if c.format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
		return exitOK
	}
	writeLookup(stdout, rep)
	return exitOK
}

// lookup computes the report: the pod's resolv.conf (from -f, else a
// ClusterFirst pod in the namespace), the overrides, the plan and fixes,
// all through the pod-DNS model the rules use.
func lookup(o lookupCmd, cfg lint.Config, stdin io.Reader) (lookupReport, error) {
	c := poddns.NewCluster(cfg.ClusterDomain, cfg.Pods)
	kind, why := resolver.GLibc, "default; --resolver or -f to choose"
	ns := c.NamespaceOf("")
	res, err := c.ResolvConf(resolvconf.Pod{})
	if err != nil {
		return lookupReport{}, err
	}
	// The ndots proposed must keep every in-cluster name of the pod
	// working for each of its containers, as pod-ndots-high's does.
	var others []workload.Name
	var kinds []resolver.Kind
	if o.manifest != "" {
		w, ct, err := findContainer(o.manifest, o.container, stdin)
		if err != nil {
			return lookupReport{}, err
		}
		pod := c.Pod(w)
		ns, res, err = pod.Namespace, pod.Result, pod.Err
		if err != nil {
			return lookupReport{}, fmt.Errorf("%s: %v", o.manifest, err)
		}
		others, kinds = pod.NameList(), pod.Kinds()
		if f := workload.ImageFamily(ct.Image.Value); f.Known {
			kind, why = f.Kind, "container "+ct.Name+", image "+ct.Image.Value+": "+f.Why
		} else {
			why = "glibc assumed for container " + ct.Name + ": " + f.Why
		}
	}
	if cfg.Pods.Resolver != nil {
		kind, why = *cfg.Pods.Resolver, "--resolver"
	}
	if kinds == nil {
		kinds = []resolver.Kind{kind}
	}
	conf := res.Conf
	if o.searchSet {
		conf.Search = o.search
	}
	if o.ndots != nil {
		conf = conf.WithNdots(*o.ndots)
	}
	for _, op := range o.option {
		opt := resolvconf.ParseOption(op)
		conf = conf.WithOption(opt.Name, opt.Value)
	}
	n := c.Classify(o.name, ns)
	plan := c.Plan(kind, conf, n.Name, n.FQDN)
	rep := lookupReport{Name: n.Name, InCluster: n.InCluster, FQDN: n.FQDN, Resolver: kind.String(), Why: why,
		ResolvConf: conf.String(), Mode: resolver.Effective(kind, conf).Mode.String()}
	rep.Total, rep.NXDomain = resolver.Cost(plan)
	answered := -1
	for _, q := range plan {
		if q.Answer == resolver.Data {
			answered = q.Step
			rep.Resolves = true
		}
	}
	for i, q := range plan {
		w := q.Step != answered
		if w {
			rep.Wasted++
		}
		rep.Queries = append(rep.Queries, lookupQuery{N: i + 1, Type: dns.TypeToString[q.Type], Name: q.Name, Answer: strings.ToUpper(q.Answer.String()), Wasted: w})
	}
	rep.Fixes = fixesFor(c, kind, kinds, conf, n, others, ns, rep.Total, rep.Resolves)
	return rep, nil
}

// fixesFor lists the changes that make the lookup of n cheaper, or make a
// failing one resolve, cheapest first: the absolute name, and the ndots
// the model proposes for a pod that uses n and others with resolvers
// kinds (poddns.Cluster.ProposeNdots, as pod-ndots-high).
func fixesFor(c *poddns.Cluster, kind resolver.Kind, kinds []resolver.Kind, conf resolvconf.Conf, n workload.Name, others []workload.Name, ns string, now int, resolves bool) []lookupFix {
	out := []lookupFix{}
	better := func(with resolvconf.Conf, m workload.Name) (int, int, bool) {
		q, nx := c.Cost(kind, with, m)
		good := c.Resolves(kind, with, m)
		if n.InCluster && !m.Absolute {
			good = c.Resolvable(kind, with, m)
		}
		return q, nx, good && (q < now || !resolves)
	}
	if !n.Absolute {
		abs := c.Classify(n.FQDN, ns)
		if q, nx, ok := better(conf, abs); ok {
			out = append(out, lookupFix{Fix: "write the name as " + abs.Name + " (absolute)", Queries: q, NXDomain: nx})
		}
	}
	if k, ok := c.ProposeNdots(kinds, conf, append(slices.Clone(others), n)); ok {
		if q, nx, ok := better(conf.WithNdots(k), n); ok {
			out = append(out, lookupFix{Fix: fmt.Sprintf("options ndots:%d", k), Queries: q, NXDomain: nx})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Queries < out[j].Queries })
	return out
}

func writeLookup(w io.Writer, r lookupReport) {
	where := "external"
	if r.InCluster {
		where = "in-cluster, meaning " + r.FQDN
	}
	fmt.Fprintf(w, "%s (%s), looked up by %s (%s), A and AAAA %s\n", r.Name, where, r.Resolver, r.Why, r.Mode)
	fmt.Fprintf(w, "resolv.conf:\n")
	for _, l := range strings.Split(strings.TrimSuffix(r.ResolvConf, "\n"), "\n") {
		fmt.Fprintf(w, "  %s\n", l)
	}
	width := 4
	for _, q := range r.Queries {
		width = max(width, len(q.Name))
	}
	fmt.Fprintf(w, "queries:\n")
	for _, q := range r.Queries {
		mark := ""
		if q.Wasted {
			mark = "  wasted"
		}
		fmt.Fprintf(w, "  %2d  %-4s  %-*s  %s%s\n", q.N, q.Type, width, q.Name, q.Answer, mark)
	}
	outcome := "resolves"
	if !r.Resolves {
		outcome = "fails"
	}
	fmt.Fprintf(w, "%d queries, %d NXDOMAIN, %d wasted; the lookup %s\n", r.Total, r.NXDomain, r.Wasted, outcome)
	if len(r.Fixes) == 0 {
		fmt.Fprintf(w, "no setting makes it cheaper\n")
		return
	}
	fmt.Fprintf(w, "cheapest fixes:\n")
	for _, f := range r.Fixes {
		fmt.Fprintf(w, "  %-50s %d queries, %d NXDOMAIN\n", f.Fix, f.Queries, f.NXDomain)
	}
}

// findContainer loads manifest path ("-": stdin) and finds container name
// (the container when name is "" and the file holds one pod spec with
// one).
func findContainer(path, name string, stdin io.Reader) (*workload.Pod, workload.Container, error) {
	src, err := read(path, stdin)
	if err != nil {
		return nil, workload.Container{}, err
	}
	in, err := lint.Load(path, src)
	if err != nil {
		return nil, workload.Container{}, err
	}
	var names []string
	for _, w := range in.Workloads {
		for _, c := range w.Containers {
			if c.Name == name || name == "" && len(in.Workloads) == 1 && len(w.Containers) == 1 {
				return w, c, nil
			}
			names = append(names, w.Describe()+" container "+c.Name)
		}
	}
	if len(names) == 0 {
		return nil, workload.Container{}, fmt.Errorf("%s: no pod spec with containers", path)
	}
	if name == "" {
		return nil, workload.Container{}, fmt.Errorf("%s: several containers; choose with --container: %s", path, strings.Join(names, ", "))
	}
	return nil, workload.Container{}, fmt.Errorf("%s: no container %q; there are: %s", path, name, strings.Join(names, ", "))
}
