package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// Exit codes, fixed and documented in the package comment.
const (
	exitOK       = 0
	exitFindings = 1
	exitUsage    = 2
)

const usage = `usage: dnslint [flags] PATH...   (files, directories, - for stdin)
       dnslint rules [--format text|markdown]
       dnslint explain RULE
       dnslint explain-lookup NAME [flags]
       dnslint cluster [--kubeconfig F] [--context C] [-n NS | -A] [flags]

flags:
  --format text|json|sarif   output format (default text)
  --fix                      apply fixes in place (atomic write)
  --diff                     print the fixes as a unified diff
  --enable RULE[,RULE]       run only these rules (repeatable); opt-in rules
                             run only when named here
  --disable RULE[,RULE]      skip these rules (repeatable)
  --fail-on error|warning|info   lowest severity that fails (default warning)
  --coredns-version V        target CoreDNS release (default %s): what
                             corefile-removed-option counts as removed
  --k8slint                  the CoreDNS image has k8slint (coredns-custom): ask
                             for it and let fixes add it
  --cluster-domain D         kubelet's --cluster-domain: the zone the kubernetes
                             plugin and k8slint must serve (default: the zone
                             the Corefile's kubernetes plugin serves; pods:
                             cluster.local)
  --root DIR                 check the files a Corefile names (imports, hosts,
                             zone and TLS files) under DIR, which stands for
                             the CoreDNS container's /; without it only the
                             files the input itself provides are checked
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
container's resolver), --format text|json, and the --cluster-domain,
--cluster-dns, --node-resolv-conf and --k8s-version of linting.

cluster: lints the live cluster's CoreDNS ConfigMaps (kube-system/coredns,
coredns-custom) and every Deployment, StatefulSet, DaemonSet, CronJob, Job
and bare Pod of namespace NS (-n; default: the kubeconfig context's) or of
all (-A, --all-namespaces), each as "kubectl get -o yaml" prints it, named
cluster://NAMESPACE/KIND/NAME. Then it reads the k8slint report of every
CoreDNS pod (k8s-app=kube-dns) through the API server's pod proxy, merges
them and ranks the workloads by the NXDOMAIN answers they wasted, each with
its findings, the fix and what the same lookups would waste after it (text
and json; a report that cannot be read is a warning). Flags: --kubeconfig,
--context, --chunk-size N (objects per page, default 500), --report-port N
(default: the pod's container port named report, else 9154), --top N
(entries ranked, default 10), --no-report, and linting's --format,
--enable, --disable, --fail-on, --coredns-version, --k8slint, --cluster-domain,
--cluster-dns, --node-resolv-conf, --k8s-version (default: the API
server's), --resolver. It only gets and lists:
deploy/rbac/dnslint-cluster.yaml grants that.

exit codes: 0 no finding at or above --fail-on, 1 findings, 2 usage or input error
(for cluster: also a kubeconfig that cannot be used, or a read the API
server refused; the findings of what could be read are still written)
`

// subcommands are dnslint's commands besides linting, which is what runs
// when the first argument names none of them. Each parses its own flags
// (a pure function with table tests) and runs.
var subcommands = map[string]func(args []string, stdin io.Reader, stdout, stderr io.Writer) int{
	"rules":          runRules,
	"explain":        runExplain,
	"explain-lookup": runExplainLookup,
	"cluster":        runCluster,
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		if cmd, ok := subcommands[args[0]]; ok {
			return cmd(args[1:], stdin, stdout, stderr)
		}
	}
	return runLint(args, stdin, stdout, stderr)
}

// usageError reports a command line that cannot be run: the usage goes to
// stdout when it was asked for, else the error and the usage to stderr.
func usageError(err error, stdout, stderr io.Writer) int {
	if errors.Is(err, flag.ErrHelp) {
		io.WriteString(stdout, usageText())
		return exitOK
	}
	fmt.Fprintf(stderr, "dnslint: %v\n", err)
	io.WriteString(stderr, usageText())
	return exitUsage
}

// newFlagSet returns a flag set that reports errors to its caller only.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// badValue is how package flag reports a value its flag refused.
var badValue = regexp.MustCompile(`^invalid value ".*" for flag -([a-z0-9-]+): `)

// parse parses args with fs and returns the other arguments. Flags may
// come before or after them; "--" ends flags.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if m := badValue.FindStringSubmatchIndex(err.Error()); m != nil {
				msg := err.Error()
				return nil, errors.New("--" + msg[m[2]:m[3]] + ": " + msg[m[1]:])
			}
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

// checkFormat checks the value of --format against the formats a command
// writes.
func checkFormat(format string, formats []string) error {
	for _, f := range formats {
		if f == format {
			return nil
		}
	}
	want := strings.Join(formats[:len(formats)-1], ", ") + " or " + formats[len(formats)-1]
	return fmt.Errorf("--format: unknown format %q (want %s)", format, want)
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
