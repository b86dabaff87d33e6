package workload

import "github.com/k8slint/k8slint/internal/resolvconf"

// KubeletPod returns what kubelet reads of the pod to write its
// resolv.conf, in namespace ns.
func (w *Pod) KubeletPod(ns string) resolvconf.Pod {
	p := resolvconf.Pod{Namespace: ns, DNSPolicy: w.Policy(), HostNetwork: w.HostNetworkOn()}
	if dc := w.DNSConfig; dc != nil {
		p.DNSConfig = &resolvconf.PodDNSConfig{}
		for _, s := range dc.Nameservers {
			p.DNSConfig.Nameservers = append(p.DNSConfig.Nameservers, s.Value)
		}
		for _, s := range dc.Searches {
			p.DNSConfig.Searches = append(p.DNSConfig.Searches, s.Value)
		}
		for _, o := range dc.Options {
			po := resolvconf.PodDNSConfigOption{Name: o.Name.Value}
			if o.Value != nil {
				v := o.Value.Value
				po.Value = &v
			}
			p.DNSConfig.Options = append(p.DNSConfig.Options, po)
		}
	}
	return p
}
