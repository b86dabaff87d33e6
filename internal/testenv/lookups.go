package testenv

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
)

// CountLookups makes every DNS lookup of the process through Go's
// resolver fail, counted, until the test ends: a test that must send no
// DNS query from the machine (validation of a Corefile naming upstreams
// by host) reads the count. No query leaves the process.
func CountLookups(t testing.TB) *atomic.Int32 {
	t.Helper()
	var dials atomic.Int32
	prev := net.DefaultResolver
	net.DefaultResolver = &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		dials.Add(1)
		return nil, errors.New("this test sends no DNS query")
	}}
	t.Cleanup(func() { net.DefaultResolver = prev })
	return &dials
}
