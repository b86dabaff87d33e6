// Package k8slint is a CoreDNS plugin that watches every client query and its
// final answer and tells an operator how much DNS their pods waste and why.
package k8slint

import (
	"context"

	"github.com/coredns/coredns/plugin"
	"github.com/miekg/dns"
)

// K8slint is the plugin handler.
type K8slint struct {
	Next plugin.Handler
	cfg  Config
}

// New returns a handler for cfg.
func New(cfg Config) *K8slint { return &K8slint{cfg: cfg} }

// Start starts background work.
func (k *K8slint) Start() {}

// Stop stops background work.
func (k *K8slint) Stop() {}

// ServeDNS implements plugin.Handler.
func (k *K8slint) ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	return plugin.NextOrFailure(k.Name(), k.Next, ctx, w, r)
}

// Name implements plugin.Handler.
func (k *K8slint) Name() string { return Name }
