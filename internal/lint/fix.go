package lint

import (
	"fmt"

	"github.com/k8slint/k8slint/internal/lint/textedit"
)

// Lint loads src, the content of file path, and runs the enabled rules on
// it: Load with the documents of a manifest parsed on opts.Workers
// goroutines, then Run.
func Lint(path string, src []byte, opts Options) ([]Finding, error) {
	in, err := LoadN(path, src, opts.Workers)
	if err != nil {
		return nil, err
	}
	return Run(in, opts), nil
}

// MaxFixRounds bounds FixAll: a fix skipped for overlapping another is
// applied in a later round, and no rule needs more.
const MaxFixRounds = 8

// Fixing is the outcome of FixAll.
type Fixing struct {
	Src      []byte    // the text with the fixes applied
	Findings []Finding // what the rules find in Src
	// Converged is false when the last round still changed the text:
	// the fixes of some rule keep rewriting it.
	Converged bool
}

// FixAll lints src and applies the first fix of every finding (Fixed),
// round after round, until a round changes nothing or MaxFixRounds rounds
// have changed it. The command's --fix and --diff and the rules' golden
// tests both fix through it.
func FixAll(path string, src []byte, opts Options) (Fixing, error) {
	fs, err := Lint(path, src, opts)
	if err != nil {
		return Fixing{}, err
	}
	for range MaxFixRounds {
		next, changed, err := Fixed(src, fs)
		if err != nil {
			return Fixing{}, fmt.Errorf("%s: fixing: %v", path, err)
		}
		if !changed {
			return Fixing{Src: src, Findings: fs, Converged: true}, nil
		}
		src = next
		if fs, err = Lint(path, src, opts); err != nil {
			return Fixing{}, err
		}
	}
	_, changed, err := Fixed(src, fs)
	return Fixing{Src: src, Findings: fs, Converged: err == nil && !changed}, nil
}

// Fixed returns src with the first fix of every finding applied, skipping
// fixes that overlap one already taken (a second run picks them up), and
// whether anything changed.
func Fixed(src []byte, fs []Finding) ([]byte, bool, error) {
	var taken []Edit
	for _, f := range fs {
		if len(f.Fixes) == 0 {
			continue
		}
		es := f.Fixes[0].Edits
		if textedit.Overlaps(taken, es) {
			continue
		}
		taken = append(taken, es...)
	}
	if len(taken) == 0 {
		return src, false, nil
	}
	out, err := textedit.Apply(src, taken)
	if err != nil {
		return nil, false, err
	}
	return out, string(out) != string(src), nil
}
