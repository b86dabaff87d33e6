package k8slint

import (
	"fmt"
	"slices"

	"github.com/coredns/coredns/core/dnsserver"
)

// Anchor is the directive k8slint is placed immediately before. Sitting just
// above cache, k8slint sees every client query (cache hits included) and the
// final response code, after rewrite and autopath have had their say.
const Anchor = "cache"

// stock is CoreDNS's own directive list as this package found it when the
// program started, before any host could replace it.
var stock = slices.Clone(dnsserver.Directives)

// Directives returns the directive list of coredns-custom: CoreDNS's stock
// list with k8slint immediately before Anchor. It changes nothing: a host
// passes the list to dnsserver.SetDirectives before it starts CoreDNS, and
// dnslint's validation hands it to caddy's parser and runs the setups in
// its order.
func Directives() ([]string, error) { return InsertDirective(stock) }

// InsertDirective returns a copy of directives, CoreDNS's ordered plugin
// list, with k8slint inserted immediately before Anchor. It fails when the
// anchor is missing or k8slint is already present, so that a change in
// CoreDNS's plugin.cfg cannot silently move the plugin.
func InsertDirective(directives []string) ([]string, error) {
	at := -1
	for i, d := range directives {
		switch d {
		case Name:
			return nil, fmt.Errorf("%s: directive %q is already in the plugin list", Name, Name)
		case Anchor:
			if at < 0 {
				at = i
			}
		}
	}
	if at < 0 {
		return nil, fmt.Errorf("%s: anchor directive %q not found in the plugin list; cannot place %s", Name, Anchor, Name)
	}
	out := make([]string, 0, len(directives)+1)
	out = append(out, directives[:at]...)
	out = append(out, Name)
	out = append(out, directives[at:]...)
	return out, nil
}
