package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/resolvconf"
	"github.com/k8slint/k8slint/internal/resolver"
)

// settings are the flags that describe the cluster, shared by linting and
// explain-lookup so that both see the same pods.
type settings struct {
	clusterDomain string
	// clusterDomainStated is set when --cluster-domain was given.
	clusterDomainStated bool
	namespace           string
	clusterDNS          []string
	nodeResolvConf      string // file; "" for poddns.DefaultNodeResolvConf
	k8sVersion          lint.Version
	resolver            *resolver.Kind
}

// register adds the flags to fs; their defaults are the zero settings'
// but for the cluster domain.
func (s *settings) register(fs *flag.FlagSet) {
	s.registerNode(fs)
	fs.StringVar(&s.namespace, "namespace", "", "")
}

// registerNode adds the flags but --namespace, which `dnslint cluster`
// uses as kubectl does (objects read from a cluster name their own).
func (s *settings) registerNode(fs *flag.FlagSet) {
	s.clusterDomain = resolvconf.DefaultClusterDomain
	fs.Func("cluster-domain", "", func(v string) error {
		s.clusterDomain, s.clusterDomainStated = v, true
		return nil
	})
	fs.Var(listFlag{&s.clusterDNS}, "cluster-dns", "")
	fs.StringVar(&s.nodeResolvConf, "node-resolv-conf", "", "")
	fs.Func("k8s-version", "", func(v string) error {
		var err error
		if s.k8sVersion, err = lint.ParseVersion(v); err != nil {
			return fmt.Errorf("%s", strings.Replace(err.Error(), "CoreDNS", "Kubernetes", 1))
		}
		return nil
	})
	fs.Func("resolver", "", func(v string) error {
		k, err := resolver.ParseKind(v)
		s.resolver = &k
		return err
	})
}

// config returns the settings rules read, with the node's resolv.conf
// read from its file.
func (s *settings) config(coredns lint.Version) (lint.Config, error) {
	c := lint.Config{CoreDNSVersion: coredns, ClusterDomain: s.clusterDomain, ClusterDomainStated: s.clusterDomainStated}
	c.Pods.Namespace = s.namespace
	c.Pods.ClusterDNS = s.clusterDNS
	c.Pods.Limits = resolvconf.LimitsFor(s.k8sVersion[0], s.k8sVersion[1])
	c.Pods.Resolver = s.resolver
	if s.nodeResolvConf != "" {
		conf, err := readResolvConf(s.nodeResolvConf)
		if err != nil {
			return c, err
		}
		c.Pods.NodeResolvConf = &conf
	}
	return c, nil
}
