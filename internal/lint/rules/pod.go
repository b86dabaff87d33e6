package rules

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/workload"
	"github.com/k8slint/k8slint/internal/resolvconf"
	"github.com/k8slint/k8slint/internal/resolver"
)

// The helpers below give the pod-* rules one view of a pod: the
// resolv.conf kubelet writes for it (package resolvconf), the resolver of
// each container, and the cost of each hostname it uses in queries, as
// package resolver predicts them.

// pod is the evaluated DNS environment of one pod spec.
type pod struct {
	w      *workload.Pod
	cfg    lint.Config
	ns     string
	domain string
	node   resolvconf.Node
	// res is the resolv.conf kubelet writes; err is set when the API
	// server would reject the spec (unknown policy, None without a
	// nameserver).
	res   resolvconf.Result
	err   error
	names []used
	// plans are the query plans of the current run (lint.Pass.RunValue).
	plans *plans
}

// used is one hostname the pod uses, with the resolver that looks it up.
type used struct {
	workload.Name
	host   workload.Host
	family workload.Family
}

// kind is the resolver costs are computed for: the container's, or glibc
// when unknown (messages say so).
func (u used) kind() resolver.Kind {
	if u.family.Known {
		return u.family.Kind
	}
	return resolver.GLibc
}

// memo is a pod's evaluation for one configuration, kept in
// workload.Pod.Derived so that the twelve pod rules evaluate each pod once.
type memo struct {
	cfg lint.Config
	e   *pod
}

func sameConfig(a, b lint.Config) bool {
	return a.CoreDNSVersion == b.CoreDNSVersion && a.ClusterDomain == b.ClusterDomain && a.Namespace == b.Namespace &&
		a.K8sVersion == b.K8sVersion && a.Resolver == b.Resolver && slices.Equal(a.ClusterDNS, b.ClusterDNS) &&
		slices.Equal(a.NodeResolvConf.Nameservers, b.NodeResolvConf.Nameservers) && slices.Equal(a.NodeResolvConf.Search, b.NodeResolvConf.Search) &&
		slices.Equal(a.NodeResolvConf.Options, b.NodeResolvConf.Options)
}

// newPod evaluates the pod of p; rules must not change what it returns.
func newPod(p *lint.Pass) *pod {
	pl := p.RunValue(plansKey{}, newPlans).(*plans)
	if m, ok := p.Workload.Derived.(*memo); ok && sameConfig(m.cfg, p.Config) {
		m.e.plans = pl
		return m.e
	}
	e := evalPod(p)
	e.plans = pl
	p.Workload.Derived = &memo{cfg: p.Config, e: e}
	return e
}

// plans memoises resolver.Plan for one run of the rules over an input:
// the pods of a manifest share a few resolv.confs and names, and a plan
// depends only on the resolver, the resolv.conf, the name and which name
// exists. A nil *plans computes every plan afresh.
type plans struct {
	m   map[string][]resolver.Query
	key []byte
}

type plansKey struct{}

func newPlans() any { return &plans{m: map[string][]resolver.Query{}} }

// plan returns resolver.Plan(kind, conf, name, exists) where exists says
// that fqdn exists (A and AAAA, as Exists does) and nothing else; fqdn ""
// means nothing exists. The result is shared: callers must not change it.
func (c *plans) plan(kind resolver.Kind, conf resolvconf.Conf, name, fqdn string) []resolver.Query {
	exists := func(q string, _ uint16) resolver.Answer {
		if fqdn != "" && strings.EqualFold(q, fqdn) {
			return resolver.Data
		}
		return resolver.NXDomain
	}
	if c == nil {
		return resolver.Plan(kind, conf, name, exists)
	}
	// The key holds every field as a length-prefixed string, so distinct
	// inputs never share a key.
	k := append(c.key[:0], byte(kind))
	str := func(s string) {
		k = binary.AppendUvarint(k, uint64(len(s)))
		k = append(k, s...)
	}
	list := func(ss []string) {
		k = binary.AppendUvarint(k, uint64(len(ss)))
		for _, s := range ss {
			str(s)
		}
	}
	list(conf.Nameservers)
	list(conf.Search)
	k = binary.AppendUvarint(k, uint64(len(conf.Options)))
	for _, o := range conf.Options {
		str(o.Name)
		str(o.Value)
	}
	str(name)
	str(fqdn)
	c.key = k
	if q, ok := c.m[string(k)]; ok {
		return q
	}
	q := resolver.Plan(kind, conf, name, exists)
	c.m[string(k)] = q
	return q
}

// cost is Cost through the memo.
func (c *plans) cost(kind resolver.Kind, conf resolvconf.Conf, n workload.Name) (queries, nxdomain int) {
	return resolver.Cost(c.plan(kind, conf, n.Name, n.FQDN))
}

func evalPod(p *lint.Pass) *pod {
	w := p.Workload
	c := p.Config
	e := &pod{w: w, cfg: c, ns: w.Namespace, domain: c.ClusterDomain}
	if e.ns == "" {
		e.ns = c.Namespace
	}
	if e.ns == "" {
		e.ns = "default"
	}
	if e.domain == "" {
		e.domain = resolvconf.DefaultClusterDomain
	}
	e.node = nodeOf(c)
	e.res, e.err = resolvconf.ForPod(w.KubeletPod(e.ns), e.node)
	seen := map[string]bool{}
	for _, h := range w.Hosts {
		if seen[h.Name] {
			continue
		}
		seen[h.Name] = true
		e.names = append(e.names, used{Name: workload.Classify(h.Name, e.ns, e.domain), host: h, family: familyOf(c, w, h.Container)})
	}
	return e
}

// nodeOf is the node the configuration describes.
func nodeOf(c lint.Config) resolvconf.Node {
	n := resolvconf.Node{ClusterDomain: c.ClusterDomain, ClusterDNS: c.ClusterDNS, ResolvConf: c.NodeResolvConf}
	if len(n.ClusterDNS) == 0 {
		n.ClusterDNS = []string{lint.DefaultClusterDNS}
	}
	if n.ResolvConf.Nameservers == nil && n.ResolvConf.Search == nil && n.ResolvConf.Options == nil {
		n.ResolvConf = defaultNodeResolvConf()
	}
	if c.K8sVersion != (lint.Version{}) && c.K8sVersion.Less(lint.Version{1, 28, 0}) {
		n.Limits = resolvconf.LegacyLimits
	}
	return n
}

// defaultNodeResolvConf returns lint.DefaultNodeResolvConf parsed, a
// fresh copy each time; parsing it for every pod was a tenth of the
// allocations of a workload run.
var defaultNodeResolvConf = func() func() resolvconf.Conf {
	c, _ := resolvconf.Parse(strings.NewReader(lint.DefaultNodeResolvConf))
	return func() resolvconf.Conf {
		return resolvconf.Conf{Nameservers: slices.Clone(c.Nameservers), Search: slices.Clone(c.Search), Options: slices.Clone(c.Options)}
	}
}()

// familyOf is the resolver of container name: --resolver, or the guess
// from its image.
func familyOf(c lint.Config, w *workload.Pod, name string) workload.Family {
	if k, ok := ParseResolver(c.Resolver); ok {
		return workload.Family{Kind: k, Known: true, Why: "--resolver " + c.Resolver}
	}
	for _, ct := range w.Containers {
		if ct.Name == name {
			return workload.ImageFamily(ct.Image.Value)
		}
	}
	return workload.Family{Why: "no container"}
}

// ParseResolver reads glibc, musl or go.
func ParseResolver(s string) (resolver.Kind, bool) {
	switch s {
	case "glibc":
		return resolver.GLibc, true
	case "musl":
		return resolver.Musl, true
	case "go":
		return resolver.Go, true
	}
	return 0, false
}

// families returns the containers' resolver families.
func (e *pod) families() []workload.Family {
	var out []workload.Family
	for _, ct := range e.w.Containers {
		out = append(out, familyOf(e.cfg, e.w, ct.Name))
	}
	return out
}

// kinds returns the resolvers the pod's containers may use: all three
// where a container's is unknown.
func (e *pod) kinds() []resolver.Kind {
	var out []resolver.Kind
	for _, f := range e.families() {
		if !f.Known {
			return []resolver.Kind{resolver.GLibc, resolver.Musl, resolver.Go}
		}
		if !slices.Contains(out, f.Kind) {
			out = append(out, f.Kind)
		}
	}
	return out
}

// Exists answers for a lookup of the given names: each name's FQDN exists
// (A and AAAA), everything else is NXDOMAIN, which is what CoreDNS answers
// for names under the cluster domain that are no Service, and what the
// search-list expansions of external names get upstream.
func Exists(names ...workload.Name) resolver.Oracle {
	return func(name string, _ uint16) resolver.Answer {
		for _, n := range names {
			if strings.EqualFold(name, n.FQDN) {
				return resolver.Data
			}
		}
		return resolver.NXDomain
	}
}

// Cost is what one lookup of n costs with kind and conf.
func Cost(kind resolver.Kind, conf resolvconf.Conf, n workload.Name) (queries, nxdomain int) {
	return (*plans)(nil).cost(kind, conf, n)
}

// costText is "api.stripe.com: 8 queries per lookup, 6 NXDOMAIN".
func (c *plans) costText(kind resolver.Kind, conf resolvconf.Conf, n workload.Name) string {
	q, nx := c.cost(kind, conf, n)
	return fmt.Sprintf("%s: %d queries per lookup, %d NXDOMAIN", n.Name, q, nx)
}

// WithOption returns a copy of conf with option name set to value.
func WithOption(conf resolvconf.Conf, name, value string) resolvconf.Conf {
	c := conf
	c.Options = nil
	for _, o := range conf.Options {
		if o.Name != name {
			c.Options = append(c.Options, o)
		}
	}
	c.Options = append(c.Options, resolvconf.Option{Name: name, Value: value})
	return c
}

// WithNdots returns a copy of conf with ndots n.
func WithNdots(conf resolvconf.Conf, n int) resolvconf.Conf {
	return WithOption(conf, "ndots", strconv.Itoa(n))
}

// Resolvable reports whether kind resolves in-cluster name n with conf to
// its FQDN without asking any name outside the cluster domain first: such
// a name could exist on the Internet (service.dev is a public name) and
// would win.
func Resolvable(kind resolver.Kind, conf resolvconf.Conf, n workload.Name, domain string) bool {
	return (*plans)(nil).resolvable(kind, conf, n, domain)
}

func (c *plans) resolvable(kind resolver.Kind, conf resolvconf.Conf, n workload.Name, domain string) bool {
	plan := c.plan(kind, conf, n.Name, n.FQDN)
	suffix := "." + strings.Trim(domain, ".") + "."
	for _, q := range plan {
		if strings.EqualFold(q.Name, n.FQDN) {
			return q.Answer == resolver.Data
		}
		if !strings.HasSuffix(strings.ToLower(q.Name), suffix) {
			return false
		}
	}
	return false
}

// LowestNdots returns the lowest ndots, from 1 up to cur, with which every
// in-cluster name of names still resolves for every resolver of kinds;
// cur when none lower does.
func LowestNdots(kinds []resolver.Kind, conf resolvconf.Conf, names []workload.Name, domain string, cur int) int {
	return (*plans)(nil).lowestNdots(kinds, conf, names, domain, cur)
}

func (c *plans) lowestNdots(kinds []resolver.Kind, conf resolvconf.Conf, names []workload.Name, domain string, cur int) int {
	for n := 1; n < cur; n++ {
		wc := WithNdots(conf, n)
		ok := true
		for _, nm := range names {
			if !nm.InCluster || nm.Absolute {
				continue
			}
			for _, k := range kinds {
				if !c.resolvable(k, wc, nm, domain) {
					ok = false
				}
			}
		}
		if ok {
			return n
		}
	}
	return cur
}

// inCluster and external split the pod's names.
func (e *pod) inCluster() []used {
	var out []used
	for _, n := range e.names {
		if n.InCluster {
			out = append(out, n)
		}
	}
	return out
}

func (e *pod) external() []used {
	var out []used
	for _, n := range e.names {
		if !n.InCluster {
			out = append(out, n)
		}
	}
	return out
}

func (e *pod) plainNames() []workload.Name {
	out := make([]workload.Name, len(e.names))
	for i, n := range e.names {
		out[i] = n.Name
	}
	return out
}

// sample states the cost of lookups for the pod as it is: its first
// external name, else its first in-cluster name, else a typical external
// name, with the resolv.conf conf.
func (e *pod) sample(conf resolvconf.Conf) string {
	var u used
	prefix := ""
	switch ext, in := e.external(), e.inCluster(); {
	case len(ext) > 0:
		u = ext[0]
	case len(in) > 0:
		u = in[0]
	default:
		// The pod names no host dnslint can see: cost a typical one.
		prefix = "e.g. "
		u = used{Name: workload.Classify("api.example.com", e.ns, e.domain)}
		if fs := e.families(); len(fs) > 0 {
			u.family = fs[0]
		}
	}
	return prefix + e.plans.costText(u.kind(), conf, u.Name) + u.assumedText()
}

// assumedText notes when a cost was computed for glibc for want of a known
// resolver.
func (u used) assumedText() string {
	if u.family.Known {
		return ""
	}
	return " (glibc assumed: " + u.family.Why + ")"
}

// option returns the pod's last dnsConfig option called name, or nil.
func (e *pod) option(name string) *workload.Option {
	if e.w.DNSConfig == nil {
		return nil
	}
	for i := len(e.w.DNSConfig.Options) - 1; i >= 0; i-- {
		if e.w.DNSConfig.Options[i].Name.Value == name {
			return &e.w.DNSConfig.Options[i]
		}
	}
	return nil
}

// anchor is where pod-level findings point: the given option's value or
// name, else dnsConfig, else dnsPolicy, else the pod spec.
func (e *pod) anchor(option string) int {
	if o := e.option(option); o != nil {
		if o.Value != nil {
			return o.Value.Offset
		}
		return o.Name.Offset
	}
	if e.w.DNSConfig != nil {
		return e.w.DNSConfig.Key.KeyOffset
	}
	if e.w.DNSPolicy != nil {
		return e.w.DNSPolicy.Offset
	}
	return e.w.SpecOffset
}

// fix wraps edits into a fix, or none when the YAML cannot be edited.
func fix(msg string, edits []lint.Edit) []lint.Fix {
	if len(edits) == 0 {
		return nil
	}
	return []lint.Fix{{Message: msg, Edits: edits}}
}

// list joins up to max items and says how many more there are.
func list(items []string, max int) string {
	if len(items) <= max {
		return strings.Join(items, "; ")
	}
	return strings.Join(items[:max], "; ") + fmt.Sprintf("; and %d more", len(items)-max)
}

// rejected is the cost statement of a spec the API server refuses.
const rejected = "the API server rejects the pod, so it never starts and sends no query"
