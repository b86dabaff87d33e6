// Package poddns is dnslint's model of a pod's DNS: the resolv.conf
// kubelet writes for a pod spec on a node (package resolvconf), the
// resolver each container uses (guessed from its image, package workload),
// and what one lookup of a name costs (package resolver), with one policy
// for which names exist, which in-cluster names still resolve, and which
// ndots to propose. The pod-* rules and `dnslint explain-lookup` both
// build on it, so they state the same costs and propose the same settings.
package poddns

import (
	"slices"
	"strings"
	"sync"

	"github.com/k8slint/k8slint/internal/lint/workload"
	"github.com/k8slint/k8slint/internal/resolvconf"
	"github.com/k8slint/k8slint/internal/resolver"
)

// DefaultClusterDNS is the cluster DNS Service IP of kubeadm clusters,
// kubelet's --cluster-dns unless Settings say otherwise.
const DefaultClusterDNS = "10.96.0.10"

// DefaultNodeResolvConf is the node resolv.conf assumed unless Settings
// give one: one nameserver, no search domains, no options, so that what
// dnslint says does not depend on the machine it runs on.
const DefaultNodeResolvConf = "nameserver 192.0.2.53\n"

// Settings are what decides a pod's DNS besides its own spec and the
// cluster domain. The zero value is a current kubeadm cluster.
type Settings struct {
	ClusterDNS     []string          // kubelet's --cluster-dns; empty: DefaultClusterDNS
	NodeResolvConf *resolvconf.Conf  // the node's resolv.conf; nil: DefaultNodeResolvConf
	Limits         resolvconf.Limits // kubelet's search limits (resolvconf.LimitsFor); zero: current
	Namespace      string            // of objects that name none; "": default
	Resolver       *resolver.Kind    // every container's resolver; nil: guessed from its image
}

// Cluster is the model of one cluster: the settings with their defaults
// applied. It is safe for concurrent use.
type Cluster struct {
	Domain    string          // the cluster domain, without dots at the ends
	Node      resolvconf.Node // kubelet's settings and the node's resolv.conf
	Namespace string          // of objects that name none
	Resolver  *resolver.Kind  // nil: guessed per container
	// images keeps the guess for each image reference: the workloads of
	// an input share a few images, and the guess reads the reference for
	// some forty names.
	images sync.Map // string to workload.Family
}

// NewCluster returns the model of a cluster with domain ("" for
// cluster.local) and settings s.
func NewCluster(domain string, s Settings) *Cluster {
	if domain == "" {
		domain = resolvconf.DefaultClusterDomain
	}
	c := &Cluster{Domain: strings.Trim(domain, "."), Namespace: s.Namespace, Resolver: s.Resolver}
	if c.Namespace == "" {
		c.Namespace = resolvconf.DefaultNamespace
	}
	// kubelet writes --cluster-domain into the search list as given.
	c.Node = resolvconf.Node{ClusterDomain: domain, ClusterDNS: s.ClusterDNS, Limits: s.Limits}
	if len(c.Node.ClusterDNS) == 0 {
		c.Node.ClusterDNS = []string{DefaultClusterDNS}
	}
	if c.Node.Limits == (resolvconf.Limits{}) {
		c.Node.Limits = resolvconf.CurrentLimits
	}
	if s.NodeResolvConf != nil {
		c.Node.ResolvConf = *s.NodeResolvConf
	} else {
		c.Node.ResolvConf, _ = resolvconf.Parse(strings.NewReader(DefaultNodeResolvConf))
	}
	return c
}

// NamespaceOf is the namespace of an object whose metadata says ns.
func (c *Cluster) NamespaceOf(ns string) string {
	if ns == "" {
		return c.Namespace
	}
	return ns
}

// ResolvConf returns the resolv.conf kubelet writes for p on the cluster's
// nodes (resolvconf.ForPod), p's namespace defaulted.
func (c *Cluster) ResolvConf(p resolvconf.Pod) (resolvconf.Result, error) {
	p.Namespace = c.NamespaceOf(p.Namespace)
	return resolvconf.ForPod(p, c.Node)
}

// Classify says what name means to a pod in namespace ns.
func (c *Cluster) Classify(name, ns string) workload.Name {
	return workload.Classify(name, c.NamespaceOf(ns), c.Domain)
}

// Family is the resolver of container name of w: the settings' Resolver,
// or the guess from the container's image.
func (c *Cluster) Family(w *workload.Pod, name string) workload.Family {
	if c.Resolver != nil {
		return workload.Family{Kind: *c.Resolver, Known: true, Why: "--resolver " + c.Resolver.String()}
	}
	for _, ct := range w.Containers {
		if ct.Name == name {
			if f, ok := c.images.Load(ct.Image.Value); ok {
				return f.(workload.Family)
			}
			f := workload.ImageFamily(ct.Image.Value)
			c.images.Store(ct.Image.Value, f)
			return f
		}
	}
	return workload.Family{Why: "no container"}
}

// Pod is the DNS of one pod spec in a cluster. It is computed once and
// only read afterwards.
type Pod struct {
	Spec      *workload.Pod
	Cluster   *Cluster
	Namespace string
	// Result is the resolv.conf kubelet writes; Err is set instead when
	// the API server rejects the spec (an unknown dnsPolicy, None
	// without a nameserver).
	Result resolvconf.Result
	Err    error
	// Families are the resolvers of Spec.Containers, in their order.
	Families []workload.Family
	// Names are the hostnames the containers use, each once, in the
	// order found.
	Names []Use
	// inCluster and external split Names.
	inCluster, external []Use
}

// Use is one hostname a pod uses, with the resolver that looks it up and
// what one lookup costs with the pod's resolv.conf (zero when the API
// server rejects the pod).
type Use struct {
	workload.Name
	Host              workload.Host
	Family            workload.Family
	Queries, NXDomain int
}

// Kind is the resolver costs are computed for: the container's, or glibc
// when it is unknown.
func (u Use) Kind() resolver.Kind {
	if u.Family.Known {
		return u.Family.Kind
	}
	return resolver.GLibc
}

// Pod returns the DNS of pod spec w.
func (c *Cluster) Pod(w *workload.Pod) *Pod {
	p := &Pod{Spec: w, Cluster: c, Namespace: c.NamespaceOf(w.Namespace)}
	p.Result, p.Err = resolvconf.ForPod(w.KubeletPod(p.Namespace), c.Node)
	p.Families = make([]workload.Family, len(w.Containers))
	for i, ct := range w.Containers {
		p.Families[i] = c.Family(w, ct.Name)
	}
	seen := map[string]bool{}
	for _, h := range w.Hosts {
		if seen[h.Name] {
			continue
		}
		seen[h.Name] = true
		u := Use{Name: c.Classify(h.Name, p.Namespace), Host: h, Family: p.Family(h.Container)}
		if p.Err == nil {
			u.Queries, u.NXDomain = c.Cost(u.Kind(), p.Result.Conf, u.Name)
		}
		p.Names = append(p.Names, u)
		if u.InCluster {
			p.inCluster = append(p.inCluster, u)
		} else {
			p.external = append(p.external, u)
		}
	}
	return p
}

// Family is the resolver of container name, as Cluster.Family says.
func (p *Pod) Family(name string) workload.Family {
	for i, ct := range p.Spec.Containers {
		if ct.Name == name {
			return p.Families[i]
		}
	}
	return p.Cluster.Family(p.Spec, name)
}

// Kinds returns the resolvers the pod's containers may use: all three
// where a container's is unknown.
func (p *Pod) Kinds() []resolver.Kind {
	var out []resolver.Kind
	for _, f := range p.Families {
		if !f.Known {
			return slices.Clone(resolver.Kinds)
		}
		if !slices.Contains(out, f.Kind) {
			out = append(out, f.Kind)
		}
	}
	return out
}

// InCluster returns the Service and pod names the pod uses, in order.
func (p *Pod) InCluster() []Use { return p.inCluster }

// External returns the other names the pod uses, in order.
func (p *Pod) External() []Use { return p.external }

// NameList returns the names the pod uses, without where they were found.
func (p *Pod) NameList() []workload.Name {
	out := make([]workload.Name, len(p.Names))
	for i, n := range p.Names {
		out[i] = n.Name
	}
	return out
}
