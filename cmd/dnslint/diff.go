package main

import (
	"fmt"
	"strings"
)

// unifiedDiff returns a unified diff (3 lines of context) from a to b.
func unifiedDiff(path string, a, b []byte) string {
	x, y := splitLines(string(a)), splitLines(string(b))
	if len(x)*len(y) > 16<<20 {
		// Too large for the quadratic table: one hunk of everything.
		return header(path) + hunk(x, y, 0, len(x), 0, len(y))
	}
	// LCS table from the end.
	n, m := len(x), len(y)
	t := make([][]int32, n+1)
	for i := range t {
		t[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				t[i][j] = t[i+1][j+1] + 1
			} else {
				t[i][j] = max(t[i+1][j], t[i][j+1])
			}
		}
	}
	type op struct {
		kind byte
		i, j int
	}
	var ops []op
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && x[i] == y[j]:
			ops = append(ops, op{' ', i, j})
			i, j = i+1, j+1
		case i < n && (j == m || t[i+1][j] >= t[i][j+1]):
			ops = append(ops, op{'-', i, j})
			i++
		default:
			ops = append(ops, op{'+', i, j})
			j++
		}
	}
	var out strings.Builder
	out.WriteString(header(path))
	const ctx = 3
	for k := 0; k < len(ops); {
		if ops[k].kind == ' ' {
			k++
			continue
		}
		start := max(0, k-ctx)
		end := k
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run-end > 2*ctx || run == len(ops) {
				end = min(end+ctx, len(ops))
				break
			}
			end = run
		}
		var body strings.Builder
		na, nb := 0, 0
		for _, o := range ops[start:end] {
			switch o.kind {
			case ' ':
				body.WriteString(" " + x[o.i])
				na++
				nb++
			case '-':
				body.WriteString("-" + x[o.i])
				na++
			case '+':
				body.WriteString("+" + y[o.j])
				nb++
			}
		}
		fmt.Fprintf(&out, "@@ -%d,%d +%d,%d @@\n%s", ops[start].i+1, na, ops[start].j+1, nb, body.String())
		k = end
	}
	return out.String()
}

func header(path string) string { return fmt.Sprintf("--- %s\n+++ %s\n", path, path) }

func hunk(x, y []string, i0, i1, j0, j1 int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "@@ -%d,%d +%d,%d @@\n", i0+1, i1-i0, j0+1, j1-j0)
	for _, l := range x[i0:i1] {
		b.WriteString("-" + l)
	}
	for _, l := range y[j0:j1] {
		b.WriteString("+" + l)
	}
	return b.String()
}

// splitLines splits s after each newline; a last line without one gets a
// marker line, as diff does.
func splitLines(s string) []string {
	ls := strings.SplitAfter(s, "\n")
	if ls[len(ls)-1] == "" {
		ls = ls[:len(ls)-1]
	} else {
		ls[len(ls)-1] += "\n\\ No newline at end of file\n"
	}
	return ls
}
