package k8slint

import (
	"fmt"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Through the kube-dns Service with several CoreDNS replicas, glibc and
// musl send each search candidate of a walk (A and AAAA on one socket) to
// a replica of its own choosing. These tests split a walk between two
// plugin instances, as kube-proxy does, every way it can be split.

// knowNamespace sets the namespace of client ip in k, as the report's
// drain does from attribution.
func knowNamespace(k *K8slint, ip, ns string) {
	a, _, _, _ := remote(&peer{ip: ip, port: 1})
	ah := addrHash(a)
	s := k.clients.shardFor(ah)
	s.mu.Lock()
	c, _, _ := s.get(a, ah)
	c.ns = k.ns.intern(ns)
	s.mu.Unlock()
}

// settle lets the retry window pass and drains k's report, returning what
// it counted for the client: wasted and unconfirmed NXDOMAIN answers.
func settle(t *testing.T, k *K8slint, ip string) (wasted, unconfirmed uint64) {
	t.Helper()
	k.epoch.Add(-(int64(k.cfg.RetryWindow) + int64(time.Second)))
	r := k.snapshot(time.Now(), false)
	for _, w := range r.Workloads {
		if w.Address == ip {
			return w.WastedNXDOMAIN, w.UnconfirmedNXDOMAIN
		}
	}
	return 0, 0
}

func TestAWalkSplitBetweenReplicasIsCountedWhereItGoesOnAndBoundedWhereItDoesNot(t *testing.T) {
	const base, ip = "api.stripe.com", "10.244.9.1"
	cands := []string{base + ".shop.svc.cluster.local.", base + ".svc.cluster.local.", base + ".cluster.local.", base + "."}
	for _, known := range []bool{false, true} {
		// Bit i of split: the replica candidate i (A and AAAA) goes to.
		for split := range 1 << len(cands) {
			t.Run(fmt.Sprintf("namespace known %v, split %04b", known, split), func(t *testing.T) {
				var ks [2]*K8slint
				var srvs [2]string
				for r := range ks {
					ks[r], srvs[r] = newTestPlugin(t, zone{})
					srvs[r] += fmt.Sprint("_", r)
					if known {
						knowNamespace(ks[r], ip, "shop")
					}
				}
				w := &peer{ip: ip, port: 41000}
				seen := [2][]int{}
				for i, c := range cands {
					r := split >> i & 1
					seen[r] = append(seen[r], i)
					for j, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
						w.port++
						ask(t, ks[r], srvs[r], w, c, qt, uint16(10*i+j))
						ks[1-r].epoch.Add(-int64(200 * time.Microsecond)) // both replicas' clocks go on
					}
				}
				var total uint64
				for r, k := range ks {
					// A replica that saw two items of the walk counts every
					// candidate it saw (2 NXDOMAIN each); one that saw a
					// single candidate cannot tell it from a name asked as
					// it is, and bounds it.
					var want, wantUnconfirmed uint64
					nx := 0
					for _, i := range seen[r] {
						if i < 3 {
							nx += 2
						}
					}
					if len(seen[r]) >= 2 {
						want = uint64(nx)
					} else {
						wantUnconfirmed = uint64(nx)
					}
					metric := wasted(k, srvs[r], "shop") + wasted(k, srvs[r], "_unknown")
					got, unconfirmed := settle(t, k, ip)
					if got != want || unconfirmed != wantUnconfirmed || metric != float64(want) {
						t.Errorf("replica %d saw candidates %v: %d wasted (metric %v), %d unconfirmed; want %d and %d", r, seen[r], got, metric, unconfirmed, want, wantUnconfirmed)
					}
					if known && metric != wasted(k, srvs[r], "shop") {
						t.Errorf("replica %d counted %v wasted outside the client's known namespace", r, metric-wasted(k, srvs[r], "shop"))
					}
					total += got + unconfirmed
				}
				if total != 6 {
					t.Errorf("wasted + unconfirmed = %d over both replicas, want the walk's 6", total)
				}
			})
		}
	}
}

func TestAFailedShortNameOfAKnownNamespaceIsNeitherWastedNorUnconfirmed(t *testing.T) {
	k, srv := newTestPlugin(t, zone{})
	const ip = "10.244.9.2"
	knowNamespace(k, ip, "shop")
	w := &peer{ip: ip, port: 42000}
	glibcWalk(t, k, srv, w, "web", "shop", zone{})
	if got, unconfirmed := settle(t, k, ip); got != 0 || unconfirmed != 0 {
		t.Errorf("web, not found: %d wasted, %d unconfirmed; want 0 and 0", got, unconfirmed)
	}
}

func TestALateWalkNeedsALaterCandidateOfItsOwnBase(t *testing.T) {
	k, srv := newTestPlugin(t, zone{})
	const ip = "10.244.9.3"
	knowNamespace(k, ip, "shop")
	w := &peer{ip: ip, port: 43000}
	// Absolute names of the shapes of later candidates, each asked as it
	// is, then unrelated names: nothing confirms them.
	for i, n := range []string{"api.stripe.com.svc.cluster.local.", "db.example.net.cluster.local.", "api.stripe.org.", "db.example.org."} {
		ask(t, k, srv, w, n, dns.TypeA, uint16(i))
	}
	if got, unconfirmed := settle(t, k, ip); got != 0 || unconfirmed != 2 {
		t.Errorf("%d wasted, %d unconfirmed; want 0 and 2 (the two candidate-shaped names)", got, unconfirmed)
	}
}

func TestAWalkWhoseFirstCandidateIsNODATAIsCountedFromItsSecond(t *testing.T) {
	const base = "api.stripe.com"
	z := zone{nodata: map[string]bool{base + ".shop.svc.cluster.local.": true}}
	for _, known := range []bool{false, true} {
		t.Run(fmt.Sprintf("namespace known %v", known), func(t *testing.T) {
			k, srv := newTestPlugin(t, z)
			srv += fmt.Sprint("_", known)
			ip := "10.244.9.4"
			if known {
				ip = "10.244.9.5"
				knowNamespace(k, ip, "shop")
			}
			w := &peer{ip: ip, port: 44000}
			// glibc goes on past a NODATA candidate: A and AAAA of the
			// second and third candidates are NXDOMAIN, then the name.
			sent, nx := glibcWalk(t, k, srv, w, base, "shop", z)
			if sent != 8 || nx != 4 {
				t.Fatalf("walk sent %d queries, %d NXDOMAIN; want 8 and 4", sent, nx)
			}
			got, unconfirmed := settle(t, k, ip)
			if got != 4 || unconfirmed != 0 {
				t.Errorf("%d wasted, %d unconfirmed; want 4 and 0", got, unconfirmed)
			}
		})
	}
}
