package textedit

import "testing"

func TestLinesTurnOffsetsIntoPositionsAndBack(t *testing.T) {
	l := NewLines([]byte("ab\n\ncdé\nlast"))
	if l.Count() != 4 {
		t.Fatalf("%d lines", l.Count())
	}
	for _, c := range []struct{ off, line, col int }{{0, 1, 1}, {2, 1, 3}, {3, 2, 1}, {4, 3, 1}, {9, 4, 1}, {12, 4, 4}, {99, 4, 91}} {
		if line, col := l.Position(c.off); line != c.line || col != c.col {
			t.Errorf("offset %d: %d:%d, want %d:%d", c.off, line, col, c.line, c.col)
		}
	}
	for _, c := range []struct{ line, start, end int }{{0, 0, 2}, {1, 0, 2}, {2, 3, 3}, {3, 4, 8}, {4, 9, 13}, {5, 13, 13}} {
		if s, e := l.Start(c.line), l.End(c.line); s != c.start || e != c.end {
			t.Errorf("line %d: [%d, %d), want [%d, %d)", c.line, s, e, c.start, c.end)
		}
	}
	for _, c := range []struct{ line, col, off int }{{0, 5, 0}, {1, 2, 1}, {3, 3, 6}, {4, 9, 13}, {7, 1, 13}} {
		if got := l.Offset(c.line, c.col); got != c.off {
			t.Errorf("%d:%d: offset %d, want %d", c.line, c.col, got, c.off)
		}
	}
}
