package k8slint

// Name handling on the hot path: no allocation, case-insensitive.

import "math/bits"

func lower(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + ('a' - 'A')
	}
	return b
}

// fold sets bit 0x20 of every byte: the ASCII letters become lower case
// and the other bytes of host names ('0'-'9', '-', '.') are unchanged. It
// is only used for hashing, where an odd byte folding onto another costs at
// most a collision.
const fold = 0x2020202020202020

// mix64 is a 64-bit finaliser (from SplitMix64).
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// load64 reads the first eight bytes of s as a little-endian word: one
// load.
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// hashName hashes a query name case-insensitively, sixteen bytes to one
// 128-bit multiply (the mixing step of wyhash). It is never 0, so 0 can
// mark a free slot.
func hashName(s string) uint64 {
	// p0 has a byte without bit 0x20, which a folded word always has: a
	// folded word xor p0 is never 0, so no product loses what came before.
	const p0, p1 = 0xa0761d6478bd642f, 0xe7037ed1a0b428db
	n := len(s)
	h := uint64(n) * p1
	t := s
	for len(t) >= 16 {
		h = mum((load64(t)|fold)^p0, (load64(t[8:])|fold)^h)
		t = t[16:]
	}
	// The last 0 to 15 bytes, folding only the bytes that are there (the
	// length is in h).
	var a, b uint64
	switch r := uint(len(t)); {
	case r >= 8:
		a = load64(t) | fold
		// The last eight bytes of s, shifted so that only those after a
		// remain.
		b = (load64(s[n-8:]) | fold) >> (8 * (16 - r))
	case n >= 8:
		a = (load64(s[n-8:]) | fold) >> (8 * (8 - r))
	default:
		for j := uint(0); j < r; j++ {
			a |= uint64(t[j]|0x20) << (8 * j)
		}
	}
	h = mum(mum(a^p0, b^h), uint64(n)^p1)
	if h == 0 {
		h = 1
	}
	return h
}

// mum is the high and low words of the 128-bit product of a and b, xored.
func mum(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// trimDot returns name without its final dot. The hash of a query name
// for matching it with the same name asked again is hashName(trimDot(name)),
// so that it is also the hash of the base name a bare name (<base>.) asks.
func trimDot(name string) string {
	if n := len(name); n > 0 && name[n-1] == '.' {
		return name[:n-1]
	}
	return name
}

// hasSuffixFold reports whether s ends with suffix (lower case) at a label
// boundary: s == suffix, or s ends with "." + suffix.
func hasSuffixFold(s, suffix string) bool {
	if len(s) < len(suffix) {
		return false
	}
	off := len(s) - len(suffix)
	for i := 0; i < len(suffix); i++ {
		if lower(s[off+i]) != suffix[i] {
			return false
		}
	}
	return off == 0 || s[off-1] == '.'
}

// suffix is a lower-case domain prepared for hasSuffix: compared eight
// bytes at a time, from its end, when it has from 8 to 32 bytes. What a
// comparison reads comes first: a two-word domain (cluster.local.) is
// compared from the first 56 bytes, one cache line, and the struct is
// padded to 128 bytes so that every suffix of k.domains starts a line.
type suffix struct {
	size  int32 // len(s)
	n     int32 // words used; 0: compare byte by byte
	words suffixWords
	s     string
	_     [8]byte
}

// suffixWord is the eight bytes of a name that end 8*i bytes before the
// suffix's end, for word i. Masked with mask (0xff on the bytes inside
// the suffix) and or-ed with fold (0x20 on its letters, making the name's
// letters lower case), they must equal want.
type suffixWord struct {
	want, mask, fold uint64
}

func newSuffix(s string) suffix {
	sf := suffix{s: s, size: int32(len(s))}
	if len(s) < 8 || len(s) > 8*len(sf.words) {
		return sf
	}
	for end := 0; end < len(s); end += 8 {
		start := len(s) - end - 8 // of the word, in s; bytes before 0 lie outside
		var w suffixWord
		for j := 0; j < 8; j++ {
			if start+j < 0 {
				continue
			}
			b := uint64(s[start+j])
			w.want |= b << (8 * j)
			w.mask |= 0xff << (8 * j)
			if 'a' <= b && b <= 'z' {
				w.fold |= 0x20 << (8 * j)
			}
		}
		sf.words[sf.n] = w
		sf.n++
	}
	return sf
}

// hasSuffix reports what hasSuffixFold(q, sf.s) does, a word at a time.
func (sf *suffix) hasSuffix(q string) bool {
	n := int(sf.size)
	if len(q) < n {
		return false
	}
	if sf.n == 0 {
		return hasSuffixFold(q, sf.s)
	}
	if sf.n == 2 && len(q) >= 16 {
		// cluster.local. and the like: two words, both inside q.
		w0, w1 := &sf.words[0], &sf.words[1]
		if load64(q[len(q)-8:])&w0.mask|w0.fold != w0.want || load64(q[len(q)-16:])&w1.mask|w1.fold != w1.want {
			return false
		}
	} else if !sf.words.match(q, int(sf.n)) {
		return false
	}
	off := len(q) - n
	return off == 0 || q[off-1] == '.'
}

// suffixWords are the words of a suffix.
type suffixWords [4]suffixWord

// match compares the first n words with the end of q.
func (ws *suffixWords) match(q string, n int) bool {
	for j, w := range ws[:n] {
		var x uint64
		if i := len(q) - 8*j - 8; i >= 0 {
			x = load64(q[i:])
		} else {
			// The word starts before q (q is at least as long as the
			// suffix, so at least eight bytes): those bytes are masked.
			x = load64(q) << (8 * uint(-i))
		}
		if x&w.mask|w.fold != w.want {
			return false
		}
	}
	return true
}

// validNamespace reports whether s can be a Kubernetes namespace (an RFC
// 1123 label), so that junk in query names never becomes a label value.
func validNamespace(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := lower(s[i])
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case c == '-' && i > 0 && i < len(s)-1:
		default:
			return false
		}
	}
	return true
}
