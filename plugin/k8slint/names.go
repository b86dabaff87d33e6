package k8slint

// Name handling on the hot path: no allocation, case-insensitive.

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

// hashName hashes a query name case-insensitively, eight bytes at a time.
// It is never 0, so 0 can mark a free slot.
func hashName(s string) uint64 {
	h := uint64(len(s)) * 0x9E3779B97F4A7C15
	for len(s) >= 8 {
		_ = s[7]
		x := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		h = (h ^ (x | fold)) * 0xff51afd7ed558ccd
		h ^= h >> 32
		s = s[8:]
	}
	var x uint64
	for i := 0; i < len(s); i++ {
		x |= uint64(s[i]|0x20) << (8 * i)
	}
	h = mix64(h ^ x)
	if h == 0 {
		h = 1
	}
	return h
}

// hasPrefixFold reports whether s starts with prefix, ignoring ASCII case.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if c, d := s[i], prefix[i]; c != d && lower(c) != lower(d) {
			return false
		}
	}
	return true
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
