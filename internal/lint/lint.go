// Package lint is dnslint's engine: the finding and rule model, the driver
// that runs rules over loaded inputs, suppressions, and fixing. Loaders
// (packages corefile and manifest) turn files into typed models with
// positions; rules (package rules) never open files.
package lint

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/k8slint/k8slint/internal/lint/corefile"
	"github.com/k8slint/k8slint/internal/lint/textedit"
	"github.com/k8slint/k8slint/internal/lint/workload"
	"github.com/k8slint/k8slint/internal/resolvconf"
)

// Severity orders findings; --fail-on compares against it.
type Severity int

// Severities, least severe first.
const (
	Info Severity = iota
	Warning
	Error
)

func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return "severity(" + strconv.Itoa(int(s)) + ")"
}

// MarshalJSON writes the severity's name.
func (s Severity) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// ParseSeverity reads "error", "warning" or "info".
func ParseSeverity(s string) (Severity, error) {
	switch s {
	case "info":
		return Info, nil
	case "warning":
		return Warning, nil
	case "error":
		return Error, nil
	}
	return 0, fmt.Errorf("unknown severity %q (want error, warning or info)", s)
}

// Scope says what a rule looks at.
type Scope string

// Scopes. Corefile rules get a parsed Corefile; input rules are reported by
// the driver and loaders themselves (unreadable input, bad suppressions);
// workload rules (pod specs) get a manifest object.
const (
	ScopeCorefile Scope = "corefile"
	ScopeInput    Scope = "input"
	ScopeWorkload Scope = "workload"
)

// Edit is a byte-range replacement in the file a finding points into.
type Edit = textedit.Edit

// Fix is one way to resolve a finding. Message is a verb phrase.
type Fix struct {
	Message string `json:"message"`
	Edits   []Edit `json:"edits"`
}

// Finding is one reported problem, positioned in the file the user gave.
type Finding struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Col  int    `json:"column"` // in bytes, as Go tools count
	// ColRunes is the column counted in Unicode code points, for SARIF
	// (columnKind unicodeCodePoints); Col counts bytes.
	ColRunes int      `json:"-"`
	Offset   int      `json:"offset"`
	RuleID   string   `json:"rule"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	// Context names the object and key for Corefiles inside manifests.
	Context string `json:"context,omitempty"`
	Fixes   []Fix  `json:"fixes,omitempty"`
	// NoFix says why a fix the rule has was not offered: it cannot be
	// applied in place (a quoted or folded YAML scalar) without risk.
	NoFix string `json:"no_fix,omitempty"`
}

// Rule is one check. Rules live one per file in package rules and are
// listed in one table there.
type Rule struct {
	ID          string
	Title       string
	Doc         string
	Remediation string
	Severity    Severity
	Scope       Scope
	// Check runs the rule on one unit; nil for input-scope rules.
	Check func(*Pass)
}

// Version is a CoreDNS release, major.minor.patch.
type Version [3]int

// DefaultCoreDNSVersion is the release cmd/coredns-custom links.
var DefaultCoreDNSVersion = Version{1, 15, 0}

// ParseVersion reads "1.15.0", "v1.11" or "1.8".
func ParseVersion(s string) (Version, error) {
	var v Version
	parts := strings.Split(strings.TrimPrefix(s, "v"), ".")
	if len(parts) < 2 || len(parts) > 3 {
		return v, fmt.Errorf("bad CoreDNS version %q (want like 1.15.0)", s)
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return v, fmt.Errorf("bad CoreDNS version %q (want like 1.15.0)", s)
		}
		v[i] = n
	}
	return v, nil
}

// Less reports whether v is older than w.
func (v Version) Less(w Version) bool {
	for i := range v {
		if v[i] != w[i] {
			return v[i] < w[i]
		}
	}
	return false
}

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v[0], v[1], v[2]) }

// Config holds the settings rules may read.
type Config struct {
	CoreDNSVersion Version
	ClusterDomain  string
	// Workload settings: the namespace of objects without one (""
	// means "default"), kubelet's --cluster-dns (empty: DefaultClusterDNS),
	// the node's resolv.conf, the Kubernetes release (zero: current) and
	// a resolver that overrides the image-family guess ("" to guess).
	Namespace      string
	ClusterDNS     []string
	NodeResolvConf resolvconf.Conf
	K8sVersion     Version
	Resolver       string
}

// DefaultClusterDNS is the cluster DNS Service IP of kubeadm clusters.
const DefaultClusterDNS = "10.96.0.10"

// DefaultNodeResolvConf is the node resolv.conf assumed without
// --node-resolv-conf: one nameserver, no search domains, no options, so
// that findings do not depend on the machine dnslint runs on.
const DefaultNodeResolvConf = "nameserver 192.0.2.53\n"

// Diagnostic is what a rule reports, in the coordinates of the Corefile it
// was given (for workload rules, of the file); the driver maps it into the
// user's file.
type Diagnostic struct {
	Offset  int
	Message string
	Fixes   []Fix
	// Severity overrides the rule's when set (ReportAs).
	Severity *Severity
}

// Pass is one rule's view of one unit, or of one pod spec for workload
// rules.
type Pass struct {
	Config   Config
	Unit     *Unit
	Corefile *corefile.File
	Workload *workload.Pod
	diags    []Diagnostic
	run      *runValues
}

// runValues are the values rules keep for one call of Run.
type runValues struct {
	m map[any]any
}

// RunValue returns the value kept under key for the current call of Run,
// calling create the first time: rules keep there what the units or pods
// of one input share (package rules keeps the query plans of the names
// the pods use, which depend only on the resolver, the resolv.conf and
// the name). Values live as long as the call of Run and are never shared
// with another one, so calls of Run may run concurrently; a Pass built
// outside Run gets a fresh value each time.
func (p *Pass) RunValue(key any, create func() any) any {
	if p.run == nil {
		return create()
	}
	if v, ok := p.run.m[key]; ok {
		return v
	}
	if p.run.m == nil {
		p.run.m = map[any]any{}
	}
	v := create()
	p.run.m[key] = v
	return v
}

// ReportAs adds a diagnostic with severity sev instead of the rule's: for
// rules whose findings differ in weight (an error when the pod breaks, a
// note when it only could).
func (p *Pass) ReportAs(sev Severity, off int, msg string, fixes ...Fix) {
	p.diags = append(p.diags, Diagnostic{Offset: off, Message: msg, Fixes: fixes, Severity: &sev})
}

// Report adds a diagnostic at Corefile offset off.
func (p *Pass) Report(off int, msg string, fixes ...Fix) {
	p.diags = append(p.diags, Diagnostic{Offset: off, Message: msg, Fixes: fixes})
}

// Reportf adds a diagnostic at token t with no fix.
func (p *Pass) Reportf(t corefile.Token, format string, a ...any) {
	p.Report(t.Offset, fmt.Sprintf(format, a...))
}
