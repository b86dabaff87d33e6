package testcluster

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/k8slint/k8slint/internal/testenv"
)

// PodNetns creates a hand-made "pod": network namespace name with eth0 at
// ip/24 on kn's bridge cni0 and a default route through the node, and
// /etc/netns/NAME/resolv.conf = resolvConf, which programs run with its
// Command (ip netns exec) read as /etc/resolv.conf. Use addresses outside
// the CNI range 10.88.0.100-200, e.g. 10.88.0.2-99. Tear-down removes it.
func (c *Cluster) PodNetns(name, ip, resolvConf string) (*testenv.Netns, error) {
	if len(name) > 12 {
		return nil, fmt.Errorf("pod netns name %q: at most 12 characters (the veth is v-NAME)", name)
	}
	if err := run("ip", "netns", "add", name); err != nil {
		return nil, err
	}
	if err := c.state.update(func(s *state) { s.Netns = append(s.Netns, name) }); err != nil {
		return nil, err
	}
	ns := &testenv.Netns{Name: name}
	for _, args := range [][]string{
		{"link", "add", "v-" + name, "netns", NodeNetns, "type", "veth", "peer", "name", "eth0", "netns", name},
		{"-n", NodeNetns, "link", "set", "v-" + name, "master", "cni0", "up"},
		{"-n", name, "link", "set", "lo", "up"},
		{"-n", name, "addr", "add", ip + "/24", "dev", "eth0"},
		{"-n", name, "link", "set", "eth0", "up"},
		{"-n", name, "route", "add", "default", "via", NodeIP},
	} {
		if err := run("ip", args...); err != nil {
			return nil, err
		}
	}
	if err := ns.WriteResolvConf(resolvConf); err != nil {
		return nil, err
	}
	return ns, nil
}

// DeletePodNetns removes a namespace made by PodNetns.
func (c *Cluster) DeletePodNetns(name string) error {
	err := delNetns(name)
	_ = os.RemoveAll(filepath.Join("/etc/netns", name))
	c.state.update(func(s *state) {
		var keep []string
		for _, n := range s.Netns {
			if n != name {
				keep = append(keep, n)
			}
		}
		s.Netns = keep
	})
	return err
}
