package dnsbench

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// stack builds a profile's sample from frames leaf first; a frame of
// several functions joined by "|" is one location with inlined calls
// (callee first).
type stack struct {
	n      int64
	frames []string
}

func cpuProfile(stacks []stack) *profile.Profile {
	p := &profile.Profile{SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}}}
	funcs := map[string]*profile.Function{}
	fn := func(name string) *profile.Function {
		if f := funcs[name]; f != nil {
			return f
		}
		f := &profile.Function{ID: uint64(len(funcs) + 1), Name: name}
		funcs[name] = f
		p.Function = append(p.Function, f)
		return f
	}
	for _, st := range stacks {
		smp := &profile.Sample{Value: []int64{st.n, st.n * 1e7}}
		for _, fr := range st.frames {
			loc := &profile.Location{ID: uint64(len(p.Location) + 1)}
			for _, name := range bytes.Split([]byte(fr), []byte("|")) {
				loc.Line = append(loc.Line, profile.Line{Function: fn(string(name))})
			}
			p.Location = append(p.Location, loc)
			smp.Location = append(smp.Location, loc)
		}
		p.Sample = append(p.Sample, smp)
	}
	return p
}

const (
	k8 = "github.com/k8slint/k8slint/plugin/k8slint."
	cd = "github.com/coredns/coredns/"
)

func TestShareGivesEachSampleToItsLeafMostOwnedFrame(t *testing.T) {
	p := cpuProfile([]stack{
		// k8slint's work, through the runtime and a library it calls.
		{3, []string{"runtime.mapaccess1", k8 + "(*shard).get", k8 + "(*recorder).complete", k8 + "(*recorder).WriteMsg", cd + "plugin/cache.(*ResponseWriter).WriteMsg"}},
		{2, []string{"github.com/prometheus/client_golang/prometheus.(*counter).Add|" + k8 + "(*serverState).count", k8 + "(*recorder).complete"}},
		{1, []string{"github.com/k8slint/k8slint/plugin/k8slint/report.(*Summary).Add", k8 + "(*K8slint).drain"}},
		// The answer's write below k8slint's recorder is the DNS library's.
		{10, []string{"internal/runtime/syscall/linux.Syscall6", "github.com/miekg/dns.(*response).WriteMsg", k8 + "(*recorder).WriteMsg"}},
		// The writer CoreDNS wraps around each plugin it calls writes the
		// answer for the server, with or without k8slint above it; the
		// recorder's own code, the runtime's on its behalf and what it
		// asks of the writers (the client's address) are k8slint's.
		{7, []string{cd + "plugin.(*pluginWriter).WriteMsg", cd + "plugin.(*pluginWriter).WriteMsg", k8 + "(*recorder).WriteMsg", cd + "plugin/cache.(*Cache).ServeDNS", k8 + "(*K8slint).ServeDNS"}},
		{1, []string{k8 + "(*recorder).WriteMsg", cd + "plugin/cache.(*Cache).ServeDNS", k8 + "(*K8slint).ServeDNS"}},
		{1, []string{"runtime.mallocgc", k8 + "(*recorder).WriteMsg", cd + "plugin/cache.(*Cache).ServeDNS", k8 + "(*K8slint).ServeDNS"}},
		{2, []string{cd + "plugin.(*pluginWriter).RemoteAddr", k8 + "remote", k8 + "(*recorder).arrived"}},
		// The next plugin below k8slint is the next plugin's.
		{4, []string{"runtime.mallocgc", cd + "plugin/cache.(*Cache).ServeDNS", cd + "plugin.NextOrFailure", k8 + "(*K8slint).ServeDNS"}},
		// CoreDNS's helpers count for the plugin that called them.
		{5, []string{cd + "plugin/pkg/dnstest.(*Recorder).WriteMsg", cd + "plugin/metrics.(*Recorder).WriteMsg"}},
		{1, []string{cd + "plugin.NextOrFailure", cd + "plugin/errors.(*errorHandler).ServeDNS"}},
		{2, []string{cd + "core/dnsserver.(*Server).ServeDNS"}},
		// Nobody's.
		{61, []string{"runtime.gcBgMarkWorker"}},
	})
	s, err := ShareOf(p)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"k8slint": 10, "dns": 10, "cache": 4, "metrics": 5, "errors": 1, "server": 9}
	if s.Samples != 100 || len(s.ByOwner) != len(want) {
		t.Fatalf("%d samples, owners %v", s.Samples, s.ByOwner)
	}
	for o, n := range want {
		if s.ByOwner[o] != n {
			t.Errorf("%s: %d samples, want %d (%v)", o, s.ByOwner[o], n, s.ByOwner)
		}
	}
	top := []FuncSamples{{"(*shard).get", 3}, {"(*recorder).WriteMsg", 2}, {"(*serverState).count", 2}, {"remote", 2}, {"github.com/k8slint/k8slint/plugin/k8slint/report.(*Summary).Add", 1}}
	if len(s.Top) != len(top) {
		t.Fatalf("top: %v", s.Top)
	}
	for i := range top {
		if s.Top[i] != top[i] {
			t.Errorf("top[%d] = %v, want %v", i, s.Top[i], top[i])
		}
	}
	// 10% of 100 samples: the ratio is 1/0.90; the Wilson interval's upper
	// end at two standard errors is 17.62%.
	ratio, high := s.Ratio()
	if math.Abs(ratio-1/0.90) > 1e-9 || math.Abs(high-1.2138833990) > 1e-9 {
		t.Errorf("ratio %v, at most %v", ratio, high)
	}
	// None of 39: the ratio is 1, but it may well be 10% off.
	none := Share{Samples: 39, ByOwner: map[string]int{}}
	if ratio, high := none.Ratio(); ratio != 1 || math.Abs(high-1.1025641026) > 1e-9 {
		t.Errorf("no samples of 39: ratio %v, at most %v", ratio, high)
	}
}

func TestShareNeedsASamplesValue(t *testing.T) {
	p := cpuProfile(nil)
	p.SampleType = []*profile.ValueType{{Type: "alloc_space", Unit: "bytes"}}
	if _, err := ShareOf(p); err == nil {
		t.Error("no error for a profile without samples")
	}
	if f := (Share{}).Fraction(ownerK8slint); !math.IsNaN(f) {
		t.Errorf("fraction of no samples: %v", f)
	}
}

func TestOwnerIsThePluginDirectory(t *testing.T) {
	for fn, want := range map[string]string{
		k8 + "(*recorder).complete":                          "k8slint",
		"github.com/k8slint/k8slint/plugin/k8slint/report.X": "k8slint",
		"github.com/k8slint/k8slint/plugin/k8slintx.F":       "",
		cd + "plugin/forward.(*Forward).ServeDNS":            "forward",
		cd + "plugin/forward.(*Forward).ServeDNS.func1":      "forward",
		cd + "plugin/pkg/proxy.(*Proxy).Connect":             "",
		cd + "plugin.NextOrFailure":                          "",
		cd + "plugin.(*pluginWriter).WriteMsg":               "server",
		cd + "plugin.(*pluginWriter).Write":                  "server",
		cd + "plugin.(*pluginWriter).RemoteAddr":             "",
		cd + "request.(*Request).Name":                       "server",
		"github.com/miekg/dns.packDomainName":                "dns",
		"github.com/miekg/dnsx.F":                            "",
		"runtime.mallocgc":                                   "",
	} {
		if got := owner(fn); got != want {
			t.Errorf("owner(%s) = %q, want %q", fn, got, want)
		}
	}
}

func TestHasFlagReadsTheFirstProcessorsFlags(t *testing.T) {
	info := "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu vme pcid sse2\n\nprocessor\t: 1\nflags\t\t: fpu\n"
	if !hasFlag(info, "pcid") || hasFlag(info, "pci") || hasFlag(info, "invpcid") || hasFlag("", "pcid") {
		t.Error("hasFlag")
	}
}

func TestProfileLengthIsWholeSeconds(t *testing.T) {
	cfg := DefaultConfig()
	for _, d := range []time.Duration{-time.Second, 1500 * time.Millisecond} {
		cfg.Profile = d
		if cfg.check() == nil {
			t.Errorf("no error for a %v profile", d)
		}
	}
	for _, d := range []time.Duration{0, time.Second, 30 * time.Second} {
		cfg.Profile = d
		if err := cfg.check(); err != nil {
			t.Errorf("%v profile: %v", d, err)
		}
	}
}
