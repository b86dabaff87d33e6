package dnsbench

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/google/pprof/profile"
)

// Share is what a CPU profile of the CoreDNS with k8slint, taken under
// the bench's fixed-rate load, says each plugin's own code costs: the
// part of the process's CPU samples spent in that plugin's functions,
// with its calls into the rest of the chain (the next plugin, the
// server's write of the answer) left to their owners.
//
// It answers the question the with/without ratio asks from one process:
// CoreDNS's CPU per query without k8slint is what it is with k8slint less
// k8slint's part, so the ratio is 1/(1-Fraction). Go's profiler takes each
// sample from the CPU clock of the thread it interrupts, so the samples
// are exact attributions of CPU time; what they cannot show is an effect
// of k8slint on the speed of other code (its state taking processor cache
// the rest would use), which only the with/without rounds could, were
// they fine enough.
type Share struct {
	Samples int // CPU samples of the whole process
	// ByOwner counts the samples of each owner: "k8slint", a stock
	// plugin by its directory name ("cache", "metrics" for prometheus),
	// "server" (CoreDNS's server and request handling), "dns" (the DNS
	// library: packing, the writes); the samples of no owner (the garbage
	// collector, the scheduler, the network poller) are in Samples only.
	ByOwner map[string]int
	// Top lists k8slint's functions by the samples spent in them (the
	// leaf-most k8slint frame of each sample), most first.
	Top []FuncSamples
}

// FuncSamples is one function's part of a Share.
type FuncSamples struct {
	Func    string
	Samples int
}

// Fraction returns owner's part of the process's CPU samples.
func (s Share) Fraction(owner string) float64 {
	if s.Samples == 0 {
		return math.NaN()
	}
	return float64(s.ByOwner[owner]) / float64(s.Samples)
}

// Ratio returns the CPU per query with k8slint over the CPU per query
// without it that the profile implies, 1/(1-f) for k8slint's fraction f
// of the samples, and the same for the upper end of f's Wilson score
// interval at two standard errors (the samples are binomial draws; unlike
// f plus two of f's own standard errors, it is not f itself when few or
// none of the samples are k8slint's): the highest the ratio plausibly is.
func (s Share) Ratio() (ratio, high float64) {
	f, n := s.Fraction(ownerK8slint), float64(s.Samples)
	const z = 2.0
	up := (f + z*z/(2*n) + z*math.Sqrt(f*(1-f)/n+z*z/(4*n*n))) / (1 + z*z/n)
	return 1 / (1 - f), 1 / (1 - up)
}

const (
	ownerK8slint = "k8slint"
	// k8slintPkg prefixes the names of k8slint's functions (its report
	// subpackage included) in a profile.
	k8slintPkg    = "github.com/k8slint/k8slint/plugin/k8slint"
	corednsPlugin = "github.com/coredns/coredns/plugin/"
	// pluginWriter prefixes the methods of the writer CoreDNS's
	// plugin.NextOrFailure wraps around each plugin it calls. Its other
	// methods count for their caller, as plugin.NextOrFailure does; its
	// WriteMsg and Write are the server's, like request.ScrubWriter's: the
	// answer's write, whichever plugin wrote it. Counted for the caller,
	// they went to k8slint's recorder, the leaf-most owned frame above
	// them, with k8slint in the chain, and to the next plugin (cache)
	// without it: in a profile of 2026-12-04, 29 of the 212 samples given
	// to k8slint were in pluginWriter.WriteMsg below its recorder.
	pluginWriter = "github.com/coredns/coredns/plugin.(*pluginWriter)."
)

// owner returns who a function belongs to ("" for nobody: the runtime,
// the standard library, other libraries, and CoreDNS's helpers that run
// on a plugin's behalf: plugin.NextOrFailure, plugin/pkg/...).
func owner(fn string) string {
	switch {
	case strings.HasPrefix(fn, k8slintPkg+".") || strings.HasPrefix(fn, k8slintPkg+"/"):
		return ownerK8slint
	case strings.HasPrefix(fn, corednsPlugin):
		rest := fn[len(corednsPlugin):]
		i := strings.IndexAny(rest, "./")
		if i <= 0 || rest[:i] == "pkg" {
			return ""
		}
		return rest[:i]
	case strings.HasPrefix(fn, "github.com/coredns/coredns/"):
		if fn == pluginWriter+"WriteMsg" || fn == pluginWriter+"Write" {
			return "server"
		}
		if strings.HasPrefix(fn, "github.com/coredns/coredns/plugin.") {
			return ""
		}
		return "server"
	case strings.HasPrefix(fn, "github.com/miekg/dns."):
		return "dns"
	}
	return ""
}

// ShareOf gives every sample of a CPU profile of CoreDNS to the owner of
// its leaf-most frame that has one: the runtime's and libraries' frames
// (a Prometheus counter's Add, a map lookup) count for the code that
// called them. Inlined calls are frames too.
func ShareOf(p *profile.Profile) (Share, error) {
	idx := -1
	for i, st := range p.SampleType {
		if st.Type == "samples" {
			idx = i
		}
	}
	if idx < 0 {
		return Share{}, fmt.Errorf("CPU profile without a samples value: %v", p.SampleType)
	}
	s := Share{ByOwner: map[string]int{}}
	byFunc := map[string]int{}
	for _, smp := range p.Sample {
		n := int(smp.Value[idx])
		s.Samples += n
		o, fn := ownerOf(smp)
		if o == "" {
			continue
		}
		s.ByOwner[o] += n
		if o == ownerK8slint {
			byFunc[fn] += n
		}
	}
	for f, n := range byFunc {
		s.Top = append(s.Top, FuncSamples{strings.TrimPrefix(f, k8slintPkg+"."), n})
	}
	slices.SortFunc(s.Top, func(a, b FuncSamples) int {
		if a.Samples != b.Samples {
			return b.Samples - a.Samples
		}
		return strings.Compare(a.Func, b.Func)
	})
	return s, nil
}

// ownerOf returns the owner of smp's leaf-most owned frame and that
// frame's function ("", "" when no frame has an owner). A location's
// lines go from the inlined callee out to its caller.
func ownerOf(smp *profile.Sample) (string, string) {
	for _, loc := range smp.Location {
		for _, ln := range loc.Line {
			if ln.Function == nil {
				continue
			}
			if o := owner(ln.Function.Name); o != "" {
				return o, ln.Function.Name
			}
		}
	}
	return "", ""
}

// fetchProfile asks CoreDNS's pprof plugin at addr for a CPU profile of
// the next d.
func fetchProfile(ctx context.Context, c *http.Client, addr string, d time.Duration) (*profile.Profile, error) {
	ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, int(d.Seconds()))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("CPU profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("CPU profile: %s from %s", resp.Status, url)
	}
	p, err := profile.Parse(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("CPU profile from %s: %w", url, err)
	}
	return p, nil
}

// machineNote describes what makes memory touched after a system call
// dear on this machine, from the kernel's own report: page-table
// isolation (the Meltdown mitigation) switches page tables on every entry
// to and exit from the kernel, and without the CPU's PCID feature each
// switch flushes the TLB's entries for the process's memory, so the first
// touch of each of its pages after a system call walks the page tables
// again. "" when neither is the case or the
// files cannot be read.
func machineNote() string {
	b, err := os.ReadFile("/sys/devices/system/cpu/vulnerabilities/meltdown")
	if err != nil || !strings.Contains(string(b), "PTI") {
		return ""
	}
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	if hasFlag(string(info), "pcid") {
		return "the kernel isolates page tables (" + strings.TrimSpace(string(b)) + "), with PCID"
	}
	return "the kernel isolates page tables (" + strings.TrimSpace(string(b)) + ") and the CPU has no PCID: every system call flushes the TLB's entries for the process's memory, and the first touch of each page after one walks the page tables"
}

// hasFlag reports whether /proc/cpuinfo text lists flag among the flags of
// its first processor.
func hasFlag(cpuinfo, flag string) bool {
	for _, line := range strings.Split(cpuinfo, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "flags" {
			return slices.Contains(strings.Fields(v), flag)
		}
	}
	return false
}
