package workload

import (
	"strings"
	"testing"
)

// TestIndexFold pins the in-place search against its definition: the
// index of the lowered name in the lowered text.
func TestIndexFoldFindsWhatLoweringBothFinds(t *testing.T) {
	texts := []string{"", "redis://Redis-1:6379", "API.Stripe.COM", "x ümlaut.example.com", "İstanbul api.example.com", "aaab", "ab"}
	names := []string{"redis-1", "api.stripe.com", "ümlaut.example.com", "api.example.com", "aab", "abc", "b", "x"}
	for _, b := range texts {
		for _, s := range names {
			want := strings.Index(strings.ToLower(b), strings.ToLower(s))
			if got := indexFold([]byte(b), s); got != want {
				t.Errorf("indexFold(%q, %q) = %d, want %d", b, s, got, want)
			}
		}
	}
}
