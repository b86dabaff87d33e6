package resolvconf

import (
	"fmt"
	"slices"
	"strings"
)

// The dnsPolicy values of a pod spec.
const (
	ClusterFirst            = "ClusterFirst"
	ClusterFirstWithHostNet = "ClusterFirstWithHostNet"
	Default                 = "Default"
	None                    = "None"
)

// DefaultClusterDomain is kubelet's --cluster-domain in most clusters.
const DefaultClusterDomain = "cluster.local"

// DefaultNamespace is where the API server puts an object that names no
// namespace (kubectl's default context).
const DefaultNamespace = "default"

// PodDNSConfig is a pod's spec.dnsConfig.
type PodDNSConfig struct {
	Nameservers []string
	Searches    []string
	Options     []PodDNSConfigOption
}

// PodDNSConfigOption is one entry of spec.dnsConfig.options. Value is a
// pointer because the API distinguishes an absent value from "".
type PodDNSConfigOption struct {
	Name  string
	Value *string
}

// Pod holds the fields of a pod that decide its resolv.conf.
type Pod struct {
	Namespace   string
	DNSPolicy   string // empty means ClusterFirst, the API default
	HostNetwork bool
	DNSConfig   *PodDNSConfig
}

// Node holds the kubelet settings that decide a pod's resolv.conf.
type Node struct {
	ClusterDomain string   // --cluster-domain; empty means DefaultClusterDomain
	ClusterDNS    []string // --cluster-dns; empty makes ClusterFirst fall back to Default
	ResolvConf    Conf     // the file named by --resolv-conf
	Limits        Limits   // zero means CurrentLimits
}

// Limits are the search list limits kubelet enforces.
type Limits struct {
	SearchDomains int // most search domains kept
	SearchChars   int // longest search line, domains joined by spaces
}

// CurrentLimits are the limits since Kubernetes 1.28 (expanded DNS config).
var CurrentLimits = Limits{SearchDomains: 32, SearchChars: 2048}

// LegacyLimits are the limits of older clusters, which match glibc before 2.26.
var LegacyLimits = Limits{SearchDomains: 6, SearchChars: 256}

// LimitsFor returns the limits of Kubernetes major.minor: LegacyLimits
// before 1.28 (expanded DNS config became the default), CurrentLimits
// from it on and for 0.0, a release not given.
func LimitsFor(major, minor int) Limits {
	if (major != 0 || minor != 0) && (major < 1 || major == 1 && minor < 28) {
		return LegacyLimits
	}
	return CurrentLimits
}

// MaxNameservers is the number of nameservers kubelet keeps.
const MaxNameservers = 3

// maxDomainLength drops longer search domains: some glibc versions abort
// on them (kubelet's DNS1123SubdomainMaxLength).
const maxDomainLength = 253

// Warning is an event kubelet records while forming the resolv.conf.
type Warning struct {
	Reason  string // DNSConfigForming or MissingClusterDNS
	Message string
	Dropped []string // nameservers or search domains that were cut
}

// Result is the resolv.conf a pod gets and what kubelet warned about.
type Result struct {
	Conf     Conf
	Policy   string // the policy kubelet applied, after fallbacks
	Warnings []Warning
}

// ForPod computes the resolv.conf kubelet writes for pod on node
// (kubernetes pkg/kubelet/network/dns/dns.go, GetPodDNS). It returns an
// error for what the API server would reject: an unknown policy, or None
// without a nameserver.
func ForPod(pod Pod, node Node) (Result, error) {
	domain := node.ClusterDomain
	if domain == "" {
		domain = DefaultClusterDomain
	}
	limits := node.Limits
	if limits == (Limits{}) {
		limits = CurrentLimits
	}
	var res Result
	policy := pod.DNSPolicy
	if policy == "" {
		policy = ClusterFirst
	}
	switch policy {
	case ClusterFirst:
		if pod.HostNetwork {
			// kubelet's getPodDNSType: a host-network pod never gets
			// cluster DNS unless it asks with ClusterFirstWithHostNet.
			policy = Default
		}
	case ClusterFirstWithHostNet, Default:
	case None:
		if pod.DNSConfig == nil || len(pod.DNSConfig.Nameservers) == 0 {
			return res, fmt.Errorf("dnsPolicy None needs at least one nameserver in dnsConfig")
		}
	default:
		return res, fmt.Errorf("unknown dnsPolicy %q", pod.DNSPolicy)
	}
	if (policy == ClusterFirst || policy == ClusterFirstWithHostNet) && len(node.ClusterDNS) == 0 {
		res.Warnings = append(res.Warnings, Warning{
			Reason:  "MissingClusterDNS",
			Message: fmt.Sprintf("kubelet does not have ClusterDNS IP configured and cannot create Pod using %q policy. Falling back to %q policy.", policy, Default),
		})
		policy = Default
	}
	res.Policy = policy

	host := hostConf(node.ResolvConf)
	var c Conf
	switch policy {
	case ClusterFirst, ClusterFirstWithHostNet:
		c.Nameservers = slices.Clone(node.ClusterDNS)
		ns := pod.Namespace
		if ns == "" {
			ns = DefaultNamespace
		}
		cluster := []string{ns + ".svc." + domain, "svc." + domain, domain}
		c.Search = Unique(append(cluster, host.Search...))
		c.Options = []Option{{Name: "ndots", Value: "5"}}
	case Default:
		c = host
	}
	if dc := pod.DNSConfig; dc != nil {
		c.Nameservers = Unique(append(c.Nameservers, dc.Nameservers...))
		c.Search = Unique(append(c.Search, dc.Searches...))
		c.Options = mergeOptions(c.Options, dc.Options)
	}

	if len(c.Nameservers) > MaxNameservers {
		dropped := slices.Clone(c.Nameservers[MaxNameservers:])
		c.Nameservers = c.Nameservers[:MaxNameservers]
		res.Warnings = append(res.Warnings, Warning{
			Reason:  "DNSConfigForming",
			Message: "Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: " + strings.Join(c.Nameservers, " "),
			Dropped: dropped,
		})
	}
	var dropped []string
	c.Search, dropped = fitSearch(c.Search, limits)
	if len(dropped) > 0 {
		res.Warnings = append(res.Warnings, Warning{
			Reason:  "DNSConfigForming",
			Message: "Search Line limits were exceeded, some search paths have been omitted, the applied search line is: " + strings.Join(c.Search, " "),
			Dropped: dropped,
		})
	}
	res.Conf = c
	return res, nil
}

// hostConf is the node's resolv.conf as kubelet reads it (parseResolvConf):
// search domains lose their trailing dot and "." entries are dropped, so
// that "example.com" and "example.com." count once against the limits.
func hostConf(node Conf) Conf {
	c := Conf{Nameservers: slices.Clone(node.Nameservers), Options: slices.Clone(node.Options)}
	for _, s := range node.Search {
		if s != "." {
			c.Search = append(c.Search, strings.TrimSuffix(s, "."))
		}
	}
	return c
}

// fitSearch truncates the search list the way kubelet's
// formDNSSearchFitsLimits does: first to the domain count, then drop
// over-long domains, then cut from the end until the line fits.
func fitSearch(search []string, limits Limits) (kept, dropped []string) {
	if len(search) > limits.SearchDomains {
		dropped = append(dropped, search[limits.SearchDomains:]...)
		search = search[:limits.SearchDomains]
	}
	for _, s := range search {
		if len(s) > maxDomainLength {
			dropped = append(dropped, s)
			continue
		}
		kept = append(kept, s)
	}
	line := len(strings.Join(kept, " "))
	if line > limits.SearchChars {
		cut := 0
		for i := len(kept) - 1; i >= 0; i-- {
			line -= len(kept[i]) + 1
			cut++
			if line <= limits.SearchChars {
				break
			}
		}
		dropped = append(dropped, kept[len(kept)-cut:]...)
		kept = kept[:len(kept)-cut]
	}
	return kept, dropped
}

// mergeOptions merges the pod's options into the base ones by name, the
// pod's value winning. kubelet merges through a map, so its output order is
// random; here base options keep their place and new ones follow in pod
// order, which resolvers do not care about.
func mergeOptions(base []Option, pod []PodDNSConfigOption) []Option {
	out := slices.Clone(base)
	for _, po := range pod {
		o := Option{Name: po.Name}
		if po.Value != nil {
			o.Value = *po.Value
		}
		if i := slices.IndexFunc(out, func(b Option) bool { return b.Name == o.Name }); i >= 0 {
			out[i] = o
			continue
		}
		out = append(out, o)
	}
	// A name may appear twice in the node's file; kubelet's map keeps one.
	seen := map[string]int{}
	var dedup []Option
	for _, o := range out {
		if i, ok := seen[o.Name]; ok {
			dedup[i] = o
			continue
		}
		seen[o.Name] = len(dedup)
		dedup = append(dedup, o)
	}
	return dedup
}

// Unique returns s without repeated entries, each kept where it first
// appears: kubelet's omitDuplicates for nameservers and search domains,
// and what resolvers do with a search candidate they have tried. Without
// repeats it returns s itself.
func Unique(s []string) []string {
	var out []string
	if len(s) <= 32 {
		first := -1
		for i := 1; i < len(s) && first < 0; i++ {
			if slices.Contains(s[:i], s[i]) {
				first = i
			}
		}
		if first < 0 {
			return s
		}
		// The usual lists are short (search domains, nameservers,
		// candidates): a scan costs less than a map.
		for _, v := range s {
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
		return out
	}
	seen := make(map[string]bool, len(s))
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
