package k8slint

// Name handling on the hot path: no allocation, case-insensitive.

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func lower(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + ('a' - 'A')
	}
	return b
}

// prefixHashes fills h[i] with the FNV-1a hash of the lower-cased first i
// bytes of s (h[0] is the empty prefix) and returns how many it filled.
// Any prefix of a query name can then be compared with a stored base name
// in O(1).
func prefixHashes(s string, h *[256]uint64) int {
	n := min(len(s), len(h)-1)
	x := uint64(fnvOffset)
	h[0] = x
	for i := 0; i < n; i++ {
		x ^= uint64(lower(s[i]))
		x *= fnvPrime
		h[i+1] = x
	}
	return n
}

// hashFold is the FNV-1a hash of lower-cased s.
func hashFold(s string) uint64 {
	x := uint64(fnvOffset)
	for i := 0; i < len(s); i++ {
		x ^= uint64(lower(s[i]))
		x *= fnvPrime
	}
	return x
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
