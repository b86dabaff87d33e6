package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/resolver"
)

// Exit codes, fixed and documented in the package comment.
const (
	exitOK       = 0
	exitFindings = 1
	exitUsage    = 2
)

// options is a parsed command line.
type options struct {
	command       string // "lint", "rules" or "explain"
	paths         []string
	format        string
	fix, diff     bool
	enable        []string
	disable       []string
	failOn        lint.Severity
	version       lint.Version
	clusterDomain string
	rule          string // for explain
	workloadFlags
}

// workloadFlags are the settings of the pod-* rules and explain-lookup.
type workloadFlags struct {
	namespace      string
	nodeResolvConf string // file; "" for poddns.DefaultNodeResolvConf
	clusterDNS     []string
	k8sVersion     lint.Version
	resolver       string
	// explain-lookup
	name      string
	ndots     *int // nil: not given
	search    []string
	searchSet bool
	option    []string
	manifest  string
	container string
}

// listFlag collects a repeatable, comma-separated flag.
type listFlag struct{ v *[]string }

func (l listFlag) String() string { return "" }
func (l listFlag) Set(s string) error {
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l.v = append(*l.v, p)
		}
	}
	return nil
}

const usage = `usage: dnslint [flags] PATH...   (files, directories, - for stdin)
       dnslint rules [--format text|markdown]
       dnslint explain RULE
       dnslint explain-lookup NAME [flags]

flags:
  --format text|json|sarif   output format (default text)
  --fix                      apply fixes in place (atomic write)
  --diff                     print the fixes as a unified diff
  --enable RULE[,RULE]       run only these rules (repeatable)
  --disable RULE[,RULE]      skip these rules (repeatable)
  --fail-on error|warning|info   lowest severity that fails (default warning)
  --coredns-version V        target CoreDNS release (default ` + "%s" + `): what
                             corefile-removed-option counts as removed
  --cluster-domain D         kubelet's --cluster-domain (default cluster.local):
                             the zone the kubernetes plugin and k8slint must serve
  --namespace NS             namespace of objects without one (default "default")
  --cluster-dns IP[,IP]      kubelet's --cluster-dns (default 10.96.0.10)
  --node-resolv-conf FILE    the node's resolv.conf (default: one nameserver,
                             no search domains or options)
  --k8s-version V            Kubernetes release: search limits 6/256 below 1.28
                             (default: current, 32/2048)
  --resolver glibc|musl|go   resolver of every container, instead of the guess
                             from its image (README.md, "Workloads")

explain-lookup NAME: prints the queries one lookup of NAME sends, marks the
wasted ones and lists the cheapest fixes. Flags: --namespace, --ndots N,
--search D (repeatable; replaces the search list), --option O (repeatable),
--resolver, -f MANIFEST [--container C] (take the pod's resolv.conf and the
container's resolver), --format text|json.

exit codes: 0 no finding at or above --fail-on, 1 findings, 2 usage or input error
`

// parseArgs turns arguments into options without side effects. Flags may
// come before or after paths; "--" ends flags.
func parseArgs(args []string) (options, error) {
	o := options{command: "lint", format: "text", failOn: lint.Warning, version: lint.DefaultCoreDNSVersion, clusterDomain: "cluster.local"}
	if len(args) > 0 && (args[0] == "rules" || args[0] == "explain" || args[0] == "explain-lookup") {
		o.command, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("dnslint", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.format, "format", o.format, "")
	fs.BoolVar(&o.fix, "fix", false, "")
	fs.BoolVar(&o.diff, "diff", false, "")
	fs.Var(listFlag{&o.enable}, "enable", "")
	fs.Var(listFlag{&o.disable}, "disable", "")
	failOn := fs.String("fail-on", "warning", "")
	version := fs.String("coredns-version", lint.DefaultCoreDNSVersion.String(), "")
	fs.StringVar(&o.clusterDomain, "cluster-domain", o.clusterDomain, "")
	fs.StringVar(&o.namespace, "namespace", "", "")
	fs.StringVar(&o.nodeResolvConf, "node-resolv-conf", "", "")
	fs.Var(listFlag{&o.clusterDNS}, "cluster-dns", "")
	k8s := fs.String("k8s-version", "", "")
	fs.StringVar(&o.resolver, "resolver", "", "")
	fs.Func("ndots", "", func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 15 {
			return fmt.Errorf("want a number from 0 to 15, got %q", v)
		}
		o.ndots = &n
		return nil
	})
	fs.Var(searchFlag{&o.workloadFlags}, "search", "")
	fs.Var(listFlag{&o.option}, "option", "")
	fs.StringVar(&o.manifest, "f", "", "")
	fs.StringVar(&o.container, "container", "", "")
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return o, errHelp
			}
			return o, err
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		if args[0] == "--" {
			pos = append(pos, args[1:]...)
			break
		}
		pos, args = append(pos, args[0]), args[1:]
	}
	var err error
	if o.failOn, err = lint.ParseSeverity(*failOn); err != nil {
		return o, fmt.Errorf("--fail-on: %v", err)
	}
	if o.version, err = lint.ParseVersion(*version); err != nil {
		return o, fmt.Errorf("--coredns-version: %v", err)
	}
	if *k8s != "" {
		if o.k8sVersion, err = lint.ParseVersion(*k8s); err != nil {
			return o, fmt.Errorf("--k8s-version: %v", strings.Replace(err.Error(), "CoreDNS", "Kubernetes", 1))
		}
	}
	if o.resolver != "" {
		if _, err := resolver.ParseKind(o.resolver); err != nil {
			return o, fmt.Errorf("--resolver: %v", err)
		}
	}
	if o.command != "explain-lookup" && (o.ndots != nil || o.searchSet || len(o.option) > 0 || o.manifest != "" || o.container != "") {
		return o, errors.New("--ndots, --search, --option, -f and --container are flags of explain-lookup")
	}
	switch o.command {
	case "explain-lookup":
		if o.format != "text" && o.format != "json" {
			return o, fmt.Errorf("--format: explain-lookup prints text or json, not %q", o.format)
		}
		if len(pos) != 1 {
			return o, errors.New("explain-lookup takes exactly one NAME")
		}
		if o.container != "" && o.manifest == "" {
			return o, errors.New("--container needs -f MANIFEST")
		}
		o.name = pos[0]
	case "lint":
		if o.format != "text" && o.format != "json" && o.format != "sarif" {
			return o, fmt.Errorf("--format: unknown format %q (want text, json or sarif)", o.format)
		}
		if len(pos) == 0 {
			return o, errors.New("no PATH given")
		}
		o.paths = pos
	case "rules":
		if o.format != "text" && o.format != "markdown" {
			return o, fmt.Errorf("--format: rules are listed as text or markdown, not %q", o.format)
		}
		if len(pos) > 0 {
			return o, fmt.Errorf("rules takes no arguments, got %q", pos[0])
		}
	case "explain":
		if len(pos) != 1 {
			return o, errors.New("explain takes exactly one RULE")
		}
		o.rule = pos[0]
	}
	return o, nil
}

var errHelp = errors.New("help requested")

// searchFlag collects --search; given at all, it replaces the search list
// (an empty value gives an empty one).
type searchFlag struct{ w *workloadFlags }

func (s searchFlag) String() string { return "" }
func (s searchFlag) Set(v string) error {
	s.w.searchSet = true
	s.w.search = append(s.w.search, strings.Fields(strings.ReplaceAll(v, ",", " "))...)
	return nil
}
