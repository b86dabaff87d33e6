package k8slint

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/cache"
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

// mayKeepWriter reports whether h, the block's cache plugin (nil: none),
// which follows k8slint in the chain, may call a query's writer after the
// query returned. In CoreDNS 1.15, serve_stale in verify mode with a
// timeout does: when the refresh is slower than the timeout, cache
// answers from the stale entry and returns, and the refresh goes on in a
// goroutine of its own that holds the query's writer (forward asks it for
// the client's address on each attempt). No other stock plugin that can
// follow k8slint keeps the writer: cache's prefetch writes through a
// writer of its own, and the transfer plugin waits for the goroutine that
// writes the zone. The kept writer is only asked for addresses: cache's
// refresh writer in that mode (prefetch) keeps the answer and never
// writes it through, so a recorder is never written to late. The two
// settings are unexported, so they are read by reflection; a cache in
// which they are not found as expected counts as keeping the writer
// (TestMayKeepWriter pins them).
func mayKeepWriter(h plugin.Handler) bool {
	if h == nil {
		return false
	}
	c, ok := h.(*cache.Cache)
	if !ok {
		return true
	}
	v := reflect.ValueOf(c).Elem()
	verify, timeout := v.FieldByName("verifyStale"), v.FieldByName("verifyStaleTimeout")
	if verify.Kind() != reflect.Bool || timeout.Kind() != reflect.Int64 {
		return true
	}
	return verify.Bool() && timeout.Int() > 0
}
