package k8slint

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// randomName returns a name of n bytes mixing letters of both cases,
// digits, dots, hyphens and now and then a byte outside host names.
func randomName(r *rand.Rand, n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-"
	b := make([]byte, n)
	for i := range b {
		if r.IntN(50) == 0 {
			b[i] = byte(r.IntN(256))
		} else {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
	}
	return string(b)
}

func TestSuffixMatchesTheByteByByteComparison(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, d := range []string{"cluster.local.", "c.", "corp.internal.", "k8s.", "a-very-long-cluster.example.internal.", "abcdefgh", "x1.example.com."} {
		sf := newSuffix(d)
		for range 20000 {
			var q string
			switch r.IntN(4) {
			case 0: // the domain under a random prefix, in random case
				q = randomName(r, r.IntN(30)) + flipCase(r, d)
			case 1: // the domain alone, or with one byte changed
				q = flipCase(r, d)
				if len(q) > 0 && r.IntN(2) == 0 {
					i := r.IntN(len(q))
					q = q[:i] + string(rune(q[i]^byte(1<<r.IntN(8)))&0xff) + q[i+1:]
				}
			default:
				q = randomName(r, r.IntN(40))
			}
			if got, want := sf.hasSuffix(q), hasSuffixFold(q, d); got != want {
				t.Fatalf("suffix %q of %q: %v, byte by byte %v", d, q, got, want)
			}
		}
	}
}

func flipCase(r *rand.Rand, s string) string {
	b := []byte(s)
	for i, c := range b {
		if ('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') && r.IntN(2) == 0 {
			b[i] = c ^ 0x20
		}
	}
	return string(b)
}

func TestHashNameIgnoresCaseAndSeesEveryByte(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	// Bytes that differ only in bit 0x20 hash alike (that is how case is
	// ignored): names are told apart by their folded form.
	folded := func(s string) string {
		b := []byte(s)
		for i := range b {
			b[i] |= 0x20
		}
		return string(b)
	}
	seen := map[uint64]string{}
	for range 50000 {
		s := strings.ToLower(randomName(r, 1+r.IntN(70)))
		h := hashName(s)
		if h == 0 {
			t.Fatalf("hashName(%q) = 0", s)
		}
		if hashName(flipCase(r, s)) != h {
			t.Fatalf("hashName(%q) depends on case", s)
		}
		if other, ok := seen[h]; ok && other != folded(s) {
			t.Fatalf("%q and %q share a hash", s, other)
		}
		seen[h] = folded(s)
		// Every byte counts, and so does the length.
		i := r.IntN(len(s))
		if c := s[i] ^ 0x01; hashName(s[:i]+string([]byte{c})+s[i+1:]) == h {
			t.Fatalf("changing byte %d of %q keeps the hash", i, s)
		}
		if hashName(s+"a") == h || (len(s) > 1 && hashName(s[:len(s)-1]) == h) {
			t.Fatalf("the length of %q does not count", s)
		}
	}
}
