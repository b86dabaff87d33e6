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
	"github.com/k8slint/k8slint/internal/poddns"
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
	// Source is where the behaviour the rule relies on is stated: a
	// CoreDNS README line, an issue, a FACTS.md section.
	Source string
	// Silent says when the rule reports nothing although it might seem
	// to apply.
	Silent string
	// OptIn rules run only when named (dnslint --enable): their finding
	// is right for some clusters and noise on most stock defaults.
	OptIn bool
	// Requires are the facts Check reads (Fact.Of); the driver computes
	// them first.
	Requires []Requirement
	// Check runs the rule on one unit or pod spec; nil for input-scope
	// rules.
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
	// ClusterDomain is kubelet's --cluster-domain: the zone the
	// kubernetes plugin must serve, and the domain of pods' search lists.
	ClusterDomain string
	// ClusterDomainStated is set when the user named the cluster domain
	// (--cluster-domain); otherwise ClusterDomain is the default, and
	// Corefile rules take the domain the kubernetes plugin serves.
	ClusterDomainStated bool
	// Root, when set, is a directory standing for the CoreDNS container's
	// file system: the files a Corefile names (imports, hosts, zone and
	// TLS files) that the input does not provide are looked up under it.
	// Unset, such files are not checked.
	Root string
	// Pods are the other settings that decide a pod's DNS (the node, the
	// Kubernetes release, the namespace of objects without one, the
	// resolver); the workload rules read them through package poddns.
	Pods poddns.Settings
	// K8slint says the target CoreDNS image has the k8slint plugin
	// (coredns-custom; dnslint --k8slint). Without it no rule asks for
	// k8slint and no fix adds it, unless the input itself shows the
	// plugin in use.
	K8slint bool
}

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

// Pass is one rule's view of one Corefile unit or one pod spec (or a
// fact's view of those, or of the whole input).
type Pass struct {
	Config   Config
	Input    *Input
	Unit     *Unit
	Corefile *corefile.File
	Workload *workload.Pod
	diags    []Diagnostic
	// running names the rule (or, with fact set, the fact) that has the
	// pass, requires what it may read, facts what has been computed for
	// the pass.
	running  string
	fact     bool
	requires []Requirement
	facts    []factValue
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
