package k8slint

import (
	"net/netip"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// Two server blocks on one address (two zones) share the server label but
// each has its own instance: tracked_clients is their sum, and an instance
// that stops takes its share away.
func TestTrackedClientsSumsTheInstancesOfOneServer(t *testing.T) {
	srv := serverLabel(t)
	k1, k2 := New(DefaultConfig()), New(DefaultConfig())
	k1.Next, k2.Next = zone{}, zone{}
	for i, n := range []int{3, 5} {
		k := []*K8slint{k1, k2}[i]
		for c := 0; c < n; c++ {
			w := &peer{ip: "10.244.9." + string(rune('1'+c)), port: 50000 + c}
			ask(t, k, srv, w, "example.org.", dns.TypeA, uint16(c))
		}
	}
	var a, b time.Time
	k1.tick(time.Now(), &a, &b)
	k2.tick(time.Now(), &a, &b)
	k1.tick(time.Now(), &a, &b)
	if got := testutil.ToFloat64(trackedClients.WithLabelValues(srv)); got != 8 {
		t.Fatalf("tracked_clients = %v, want 3+5", got)
	}
	k2.Start()
	k2.Stop()
	if got := testutil.ToFloat64(trackedClients.WithLabelValues(srv)); got != 3 {
		t.Fatalf("tracked_clients after one instance stopped = %v, want 3", got)
	}
	k1.Start()
	k1.Stop()
}

// Clients that keep asking survive a flood of one-off addresses: the flood
// replaces itself (CLOCK with unmarked newcomers).
func TestAFloodOfOneOffClientsDoesNotEvictTheRegulars(t *testing.T) {
	var s shard
	s.init(8, make([]int32, slotsFor(8)))
	addr := func(i int) addrKey { return addrKey(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}).As16()) }
	get := func(a addrKey) bool { _, _, ev := s.get(a, addrHash(a)); return ev }
	regulars := []addrKey{addr(1), addr(2), addr(3), addr(4)}
	for _, a := range regulars {
		get(a)
	}
	// Six newcomers come between two questions of each regular: more than
	// the four free entries, so least-recently-seen would evict regulars.
	evicted := 0
	for i := 100; i < 1300; i++ {
		if i%6 == 0 {
			for _, a := range regulars {
				get(a)
			}
		}
		if get(addr(i)) {
			evicted++
		}
	}
	for _, a := range regulars {
		found := false
		for _, c := range s.ents {
			found = found || c.addr == a
		}
		if !found {
			t.Errorf("regular client %v was evicted by one-off addresses", a)
		}
	}
	if len(s.ents) != 8 || evicted != 1200-4 {
		t.Errorf("%d entries, %d evictions; want 8 and %d", len(s.ents), evicted, 1200-4)
	}
}

// TestTheHotFieldsShareTwoCacheLines checks the layout the hot path is
// arranged for: every field of K8slint a query reads lies in its first
// 128 bytes, the recorder is 128 bytes, and both are allocated on a
// 64-byte boundary (their size classes are multiples of 64), so that each
// is two cache lines; so is a cluster domain's suffix, whose first line
// holds what a two-word comparison reads. A field added before the hot
// ones, or one that grows the recorder or moves K8slint into a size class
// that is not a multiple of 64, fails here.
func TestTheHotFieldsShareTwoCacheLines(t *testing.T) {
	typ := reflect.TypeOf(K8slint{})
	for _, name := range []string{"Next", "recorders", "clients", "domains", "epoch", "scale", "first", "traced", "allZones", "kept"} {
		f, ok := typ.FieldByName(name)
		if !ok {
			t.Fatalf("K8slint has no field %s", name)
		}
		if end := f.Offset + f.Type.Size(); end > 128 {
			t.Errorf("K8slint.%s ends at byte %d, beyond the first two cache lines", name, end)
		}
	}
	if n := unsafe.Sizeof(recorder{}); n != 128 {
		t.Errorf("recorder is %d bytes, want 128", n)
	}
	// The plugin README's 160 KiB of queues: 32 answers of 80 bytes in
	// each of 64 shards.
	if n := unsafe.Sizeof(answer{}); n != 80 {
		t.Errorf("a queued answer is %d bytes, want 80", n)
	}
	if n := unsafe.Sizeof(suffix{}); n != 128 {
		t.Errorf("suffix is %d bytes, want 128", n)
	}
	for i := 0; i < 8; i++ {
		k := New(DefaultConfig())
		rec := k.recorders.Get().(*recorder)
		if a, b, c := uintptr(unsafe.Pointer(k)), uintptr(unsafe.Pointer(rec)), uintptr(unsafe.Pointer(&k.domains[0])); a%64 != 0 || b%64 != 0 || c%64 != 0 {
			t.Errorf("K8slint at %#x, recorder at %#x, cluster domains at %#x: not on a 64-byte boundary", a, b, c)
		}
	}
}
