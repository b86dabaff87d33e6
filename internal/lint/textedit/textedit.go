// Package textedit holds byte-range edits and applies them, and Lines, the
// one index of a text's lines that turns offsets into lines and columns
// and back. Both the loaders (which map edits from an embedded Corefile
// into its YAML file) and the fixer use it, so it sits below them with no
// dependencies of its own.
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

// Lines holds where each line of a text starts, to turn byte offsets into
// 1-based lines and columns and back. Loaders keep one per text.
type Lines struct {
	starts []int // offset of each line's first byte, the first being 0
	size   int   // the text's length
}

// NewLines indexes the lines of src.
func NewLines(src []byte) Lines {
	ls := make([]int, 1, bytes.Count(src, []byte{'\n'})+1)
	for i, b := range src {
		if b == '\n' {
			ls = append(ls, i+1)
		}
	}
	return Lines{starts: ls, size: len(src)}
}

// Count is the number of lines; a text that ends with a newline has an
// empty last line.
func (l Lines) Count() int { return len(l.starts) }

// Line returns the 1-based line that holds offset off.
func (l Lines) Line(off int) int {
	lo, hi := 0, len(l.starts)-1
	for lo < hi {
		m := (lo + hi + 1) / 2
		if l.starts[m] <= off {
			lo = m
		} else {
			hi = m - 1
		}
	}
	return lo + 1
}

// Position returns the 1-based line and byte column of offset off.
func (l Lines) Position(off int) (line, col int) {
	line = l.Line(off)
	return line, off - l.starts[line-1] + 1
}

// Start returns the offset at which 1-based line n starts: 0 before the
// first line, the text's length past the last.
func (l Lines) Start(n int) int {
	if n < 1 {
		return 0
	}
	if n > len(l.starts) {
		return l.size
	}
	return l.starts[n-1]
}

// End returns the offset at which 1-based line n ends, before its
// newline: the text's length for the last line and past it.
func (l Lines) End(n int) int {
	if n >= len(l.starts) {
		return l.size
	}
	return l.starts[max(n, 1)] - 1
}

// Offset returns the offset of 1-based line and byte column col, kept
// inside the text: 0 before the first line, the text's length past it.
func (l Lines) Offset(line, col int) int {
	if line < 1 {
		return 0
	}
	return min(l.Start(line)+col-1, l.size)
}
