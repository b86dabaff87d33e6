// Package rules holds dnslint's rules, one per file named by the rule's
// ID (pod-ndots-high in pod_ndots_high.go), and the table that lists them
// all. Adding a rule touches its file, its testdata folder and one line of
// All; the facts rules share are in validation.go (CoreDNS's verdict) and
// pod.go (a pod's DNS, package poddns).
package rules

import (
	"strings"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/corefile"
)

// All returns every rule: the Corefile rules, the workload rules, then the
// rules the driver reports itself, each group sorted by ID.
func All() []lint.Rule {
	return []lint.Rule{
		AutopathWithoutPodsVerified,
		CacheTTLLow,
		ClusterDomainMismatch,
		Debug,
		DuplicateZone,
		ForwardNoMaxConcurrent,
		ForwardPublicResolver,
		ForwardQUICUnsupported,
		ForwardResolvConf,
		HealthWithoutLameduck,
		HostsWithoutFallthrough,
		Invalid,
		K8slintMissing,
		Malformed,
		MetadataNeedsPodsVerified,
		MultisocketIgnored,
		NoCache,
		NoErrors,
		NoLoop,
		NoPrometheus,
		NoReady,
		NoReload,
		NoTerminalResolver,
		NotValidated,
		Placeholder,
		PodsInsecure,
		RemovedOption,
		RewriteRegexUnanchored,
		RewriteToClusterWithoutKubernetes,
		RewriteWithoutAnswer,
		SetupWarning,
		UnknownPlugin,
		ZoneOutsideBlock,
		PodDNSConfigValueNotString,
		PodDNSPolicyDefaultInCluster,
		PodDNSPolicyInvalid,
		PodDNSPolicyNoneWithoutNameservers,
		PodDuplicateDNSOption,
		PodExternalNameNotFQDN,
		PodHostNetworkClusterFirst,
		PodMissingSingleRequestReopen,
		PodMuslExternalNameserver,
		PodNdotsHigh,
		PodNdotsOutOfRange,
		PodSearchIneffective,
		PodSearchLimits,
		PodTooManyNameservers,
		ManifestDuplicateKey,
		ManifestInvalid,
		SuppressionInvalid,
		SuppressionUnused,
	}
}

// ByID returns the rule with id.
func ByID(id string) (lint.Rule, bool) {
	for _, r := range All() {
		if r.ID == id {
			return r, true
		}
	}
	return lint.Rule{}, false
}

// serverBlocks returns the blocks block-level rules judge: none for an
// override snippet, which is only part of a block.
func serverBlocks(p *lint.Pass) []*corefile.ServerBlock {
	if p.Unit.Snippet {
		return nil
	}
	return p.Corefile.Blocks
}

// mainBlocks returns the blocks the "missing plugin" rules (no-cache,
// no-prometheus, no-errors, no-loop, no-ready, no-reload,
// forward-no-max-concurrent, health-without-lameduck) judge: those that
// use the kubernetes plugin or serve the cluster domain, and those that
// serve the root zone and resolve it (forward, proxy). Stub blocks for
// other zones and blocks that only answer locally are left alone, and so
// are *.server and *.override snippets: they are imported into a
// Corefile whose main block has those plugins (AKS, k3s coredns-custom).
func mainBlocks(p *lint.Pass) []*corefile.ServerBlock {
	if isSnippet(p) {
		return nil
	}
	cd := fqdn(p.Config.ClusterDomain)
	var out []*corefile.ServerBlock
	for _, sb := range p.Corefile.Blocks {
		if isMainBlock(sb, cd) {
			out = append(out, sb)
		}
	}
	return out
}

// isSnippet reports whether the unit is a *.override or *.server snippet
// given alone, not a Corefile CoreDNS starts from.
func isSnippet(p *lint.Pass) bool {
	return p.Unit.Snippet || strings.HasSuffix(p.Corefile.Name, ".server")
}

func isMainBlock(sb *corefile.ServerBlock, cd string) bool {
	if sb.Has("kubernetes") {
		return true
	}
	for _, k := range sb.Keys {
		switch keyZone(k.Text) {
		case cd:
			return true
		case ".":
			if sb.Has("forward") || sb.Has("proxy") {
				return true
			}
		}
	}
	return false
}

// mainDirectives returns the top-level directives named name in the main
// blocks (mainBlocks).
func mainDirectives(p *lint.Pass, name string) []*corefile.Directive {
	var out []*corefile.Directive
	for _, sb := range mainBlocks(p) {
		out = append(out, sb.Find(name)...)
	}
	return out
}

// directives returns the top-level directives named name, snippets
// included.
func directives(p *lint.Pass, name string) []*corefile.Directive {
	var out []*corefile.Directive
	for _, sb := range p.Corefile.Blocks {
		out = append(out, sb.Find(name)...)
	}
	return out
}

// isCluster reports whether the Corefile serves a cluster: some block uses
// the kubernetes plugin.
func isCluster(p *lint.Pass) bool { return len(directives(p, "kubernetes")) > 0 }

// blockPos is where block-level findings point: the first key.
func blockPos(sb *corefile.ServerBlock) int {
	if len(sb.Keys) > 0 {
		return sb.Keys[0].Offset
	}
	if len(sb.Directives) > 0 {
		return sb.Directives[0].Name.Offset
	}
	return 0
}

// forwardsToFile reports whether forward d sends to a resolv.conf-style file.
func forwardsToFile(d *corefile.Directive) bool {
	for _, a := range d.Args[min(1, len(d.Args)):] {
		if strings.HasPrefix(a.Text, "/") || strings.HasSuffix(a.Text, "resolv.conf") {
			return true
		}
	}
	return false
}

func addDirectiveFix(p *lint.Pass, sb *corefile.ServerBlock, msg, text string) lint.Fix {
	return lint.Fix{Message: msg, Edits: []lint.Edit{p.Corefile.AddDirective(sb, text)}}
}

// keyZone is the zone of server key k as CoreDNS names it in messages:
// lower case, fully qualified, without scheme or port.
func keyZone(k string) string {
	if i := strings.Index(k, "://"); i >= 0 {
		k = k[i+3:]
	}
	k = strings.TrimSuffix(k, ",")
	if i := strings.LastIndexByte(k, ':'); i >= 0 {
		k = k[:i]
	}
	k = strings.ToLower(k)
	if !strings.HasSuffix(k, ".") {
		k += "."
	}
	return k
}
