package k8slint

import "testing"

// internAs answers what intern does, whatever the likely index.
func TestInternAsIsIntern(t *testing.T) {
	tab := newNSTable(4)
	shop, web := tab.intern("shop"), tab.intern("Web")
	for _, s := range []string{"shop", "SHOP", "Shop", "web", "wEb", "_unknown", "_other", "shop-2", "\u212aop", "sho", "new-ns", "", "a.b"} {
		for _, likely := range []uint16{nsUnknown, nsOther, shop, web, 17} {
			// internAs may add s (through intern): intern then finds it.
			got := tab.internAs(s, likely)
			if want := tab.intern(s); got != want {
				t.Errorf("internAs(%q, %d) = %d, intern = %d", s, likely, got, want)
			}
		}
	}
}
