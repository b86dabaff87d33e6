// Package textedit holds byte-range edits and applies them. Both the loaders
// (which map edits from an embedded Corefile into its YAML file) and the
// fixer use it, so it sits below them with no dependencies of its own.
package textedit

import (
	"bytes"
	"fmt"
	"sort"
)

// Edit replaces the bytes [Start, End) of a file with New. Start == End
// inserts.
type Edit struct {
	Start int    `json:"start"`
	End   int    `json:"end"`
	New   string `json:"new"`
}

// Sorted returns edits ordered by position (inserts at one offset keep
// their order) and an error when two of them overlap or one is out of range
// for a file of size n.
func Sorted(edits []Edit, n int) ([]Edit, error) {
	out := append([]Edit(nil), edits...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Start != out[j].Start {
			return out[i].Start < out[j].Start
		}
		return out[i].End < out[j].End
	})
	for i, e := range out {
		if e.Start < 0 || e.End < e.Start || e.End > n {
			return nil, fmt.Errorf("edit [%d,%d) out of range for %d bytes", e.Start, e.End, n)
		}
		if i > 0 && e.Start < out[i-1].End {
			return nil, fmt.Errorf("edits [%d,%d) and [%d,%d) overlap", out[i-1].Start, out[i-1].End, e.Start, e.End)
		}
	}
	return out, nil
}

// Apply returns src with edits applied. Edits must not overlap.
func Apply(src []byte, edits []Edit) ([]byte, error) {
	s, err := Sorted(edits, len(src))
	if err != nil {
		return nil, err
	}
	var out []byte
	last := 0
	for _, e := range s {
		out = append(out, src[last:e.Start]...)
		out = append(out, e.New...)
		last = e.End
	}
	return append(out, src[last:]...), nil
}

// Overlaps reports whether any edit of a overlaps any edit of b. Two
// inserts at the same offset count as overlapping: their order would be
// arbitrary.
func Overlaps(a, b []Edit) bool {
	for _, x := range a {
		for _, y := range b {
			if x.Start < y.End && y.Start < x.End {
				return true
			}
			if x.Start == y.Start && (x.Start == x.End || y.Start == y.End) {
				return true
			}
		}
	}
	return false
}

// LineStarts returns the offsets at which the lines of src start, the first
// being 0. Loaders keep it to turn offsets into positions with LineIndex.
func LineStarts(src []byte) []int {
	ls := make([]int, 1, bytes.Count(src, []byte{'\n'})+1)
	for i, b := range src {
		if b == '\n' {
			ls = append(ls, i+1)
		}
	}
	return ls
}

// LineIndex returns the 0-based index of the line holding offset off, given
// the line starts of LineStarts.
func LineIndex(lines []int, off int) int {
	lo, hi := 0, len(lines)-1
	for lo < hi {
		m := (lo + hi + 1) / 2
		if lines[m] <= off {
			lo = m
		} else {
			hi = m - 1
		}
	}
	return lo
}
