package workload

import (
	"strings"

	"github.com/k8slint/k8slint/internal/resolvconf"
)

// Name is a hostname classified for a pod in a namespace.
type Name struct {
	Name string // as written, lower-case
	// InCluster: a Service or pod name of the cluster (service,
	// service.ns, service.ns.svc, anything under the cluster domain).
	InCluster bool
	// Absolute: written with a trailing dot, so no search list applies.
	Absolute bool
	// FQDN is the name the pod means, fully qualified with a trailing
	// dot: for a short in-cluster name, its Service's name under the
	// cluster domain. service.namespace is read that way (not as the
	// pod "service" of a headless Service "namespace").
	FQDN string
	// Dots is the number of dots the resolver counts (trailing dot not
	// included).
	Dots int
}

// Classify says what name means to a pod in namespace ns of a cluster
// whose domain is domain.
func Classify(name, ns, domain string) Name {
	n := strings.ToLower(name)
	t := strings.TrimSuffix(n, ".")
	domain = strings.Trim(strings.ToLower(domain), ".")
	if ns == "" {
		ns = resolvconf.DefaultNamespace
	}
	out := Name{Name: n, Absolute: strings.HasSuffix(n, "."), Dots: strings.Count(t, "."), FQDN: t + "."}
	labels := strings.Split(t, ".")
	lastL := labels[len(labels)-1]
	switch {
	case t == domain || strings.HasSuffix(t, "."+domain):
		out.InCluster = true
	case out.Absolute:
	case lastL == "svc":
		out.InCluster, out.FQDN = true, t+"."+domain+"."
	case len(labels) == 1:
		out.InCluster, out.FQDN = true, t+"."+ns+".svc."+domain+"."
	case !knownTLDs[lastL]:
		out.InCluster, out.FQDN = true, t+".svc."+domain+"."
	}
	return out
}
