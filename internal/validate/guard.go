package validate

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/coredns/caddy/caddyfile"
)

// MaxFileSize bounds the files a Corefile names that validation would
// read (dnslint's own limit for its inputs, lint.MaxFileSize).
const MaxFileSize = 8 << 20

// maxImportDepth bounds how deep the guard follows imports of imports;
// caddy itself stops cyclic imports only after 100000 expansions.
const maxImportDepth = 10

// Refusal says why a Corefile was not validated: it names a file that
// running CoreDNS's setup code on would block or exhaust memory (a device,
// a FIFO, a socket) or that is larger than MaxFileSize.
type Refusal struct {
	File      string // the Corefile (or imported file) that names it
	Line      int
	Directive string // import, file, hosts or tls
	Path      string
	Reason    string
}

func (r *Refusal) Error() string {
	return fmt.Sprintf("%s:%d - %s %s: %s", r.File, r.Line, r.Directive, r.Path, r.Reason)
}

// guard looks at the files body names in import, file, hosts and tls
// lines, following regular imported files, and refuses the first that is
// not a regular file (directories are left to CoreDNS, which refuses them
// itself) or is too large. caddy's import reads a file to its end and the
// file and tls setups read theirs during validation: /dev/zero would never
// end and a FIFO would block on open. hosts only looks at its file during
// setup, but reads it at start-up, where a FIFO blocks as well.
func guard(filename string, body []byte) *Refusal {
	abs, err := filepath.Abs(filename)
	if err != nil {
		return nil // caddy reports it
	}
	return guardFile(filename, filepath.Dir(abs), body, map[string]bool{}, 0)
}

type tok struct {
	text string
	line int
}

func guardFile(name, dir string, body []byte, seen map[string]bool, depth int) *Refusal {
	d := caddyfile.NewDispenser(name, bytes.NewReader(body))
	var toks []tok
	for d.Next() {
		toks = append(toks, tok{d.Val(), d.Line()})
	}
	snippets := map[string]bool{}
	for i, t := range toks {
		if firstOnLine(toks, i) && len(t.text) > 2 && strings.HasPrefix(t.text, "(") && strings.HasSuffix(t.text, ")") {
			snippets[t.text[1:len(t.text)-1]] = true
		}
	}
	// file, hosts and tls paths are relative to the block's root (the root
	// plugin), which applies to the whole block wherever it stands.
	type ref struct {
		directive string
		arg       tok
	}
	var refs []ref
	root, nesting := "", 0
	flush := func() *Refusal {
		for _, r := range refs {
			p := r.arg.text
			if !filepath.IsAbs(p) && root != "" {
				p = filepath.Join(root, p)
			}
			if why := unsafeFile(p); why != "" {
				return &Refusal{File: name, Line: r.arg.line, Directive: r.directive, Path: r.arg.text, Reason: why}
			}
		}
		refs, root = nil, ""
		return nil
	}
	for i, t := range toks {
		switch t.text {
		case "{":
			nesting++
			continue
		case "}":
			if nesting--; nesting == 0 {
				if r := flush(); r != nil {
					return r
				}
			}
			continue
		}
		if !firstOnLine(toks, i) {
			continue
		}
		args := lineArgs(toks, i)
		switch {
		case t.text == "import" && len(args) == 1:
			pattern := replaceEnv(args[0].text)
			if snippets[pattern] || pattern == "" {
				continue
			}
			if r := guardImport(name, dir, pattern, args[0].line, seen, depth); r != nil {
				return r
			}
		case t.text == "root" && nesting <= 1 && len(args) == 1:
			root = args[0].text
		case (t.text == "file" || t.text == "hosts") && nesting <= 1 && len(args) >= 1:
			refs = append(refs, ref{t.text, args[0]})
		case t.text == "tls" && nesting <= 1:
			for _, a := range args[:min(3, len(args))] {
				refs = append(refs, ref{t.text, a})
			}
		}
	}
	return flush()
}

func guardImport(name, dir, pattern string, line int, seen map[string]bool, depth int) *Refusal {
	glob := pattern
	if !filepath.IsAbs(glob) {
		glob = filepath.Join(dir, glob)
	}
	if strings.Count(glob, "*") > 1 || strings.Count(glob, "?") > 1 || (strings.Contains(glob, "[") && strings.Contains(glob, "]")) {
		return nil // caddy refuses the pattern before reading anything
	}
	matches, err := filepath.Glob(glob)
	if err != nil {
		return nil
	}
	for _, m := range matches {
		if why := unsafeFile(m); why != "" {
			return &Refusal{File: name, Line: line, Directive: "import", Path: m, Reason: why}
		}
		st, err := os.Stat(m)
		if err != nil || st.IsDir() || seen[m] || depth >= maxImportDepth {
			continue
		}
		seen[m] = true
		body, err := os.ReadFile(m)
		if err != nil {
			continue
		}
		if r := guardFile(m, filepath.Dir(m), body, seen, depth+1); r != nil {
			// Point at the import line of this file; say what the imported
			// file names.
			return &Refusal{File: name, Line: line, Directive: "import", Path: m,
				Reason: fmt.Sprintf("its line %d names %s %s: %s", r.Line, r.Directive, r.Path, r.Reason)}
		}
	}
	return nil
}

// unsafeFile says why reading path could hang or exhaust dnslint, or ""
// when it is a regular file within bounds, a directory or absent (CoreDNS
// itself reports those).
func unsafeFile(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return ""
	}
	if real, err := filepath.EvalSymlinks(path); err == nil && real == os.DevNull {
		return "" // reads as empty, at once
	}
	m := st.Mode()
	switch {
	case m.IsRegular():
		if st.Size() > MaxFileSize {
			return fmt.Sprintf("%d bytes, above dnslint's limit of %d", st.Size(), MaxFileSize)
		}
		return ""
	case m.IsDir():
		return ""
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO), not a regular file: opening it blocks until a writer appears"
	case m&fs.ModeCharDevice != 0:
		return "a character device, not a regular file: reading it may never end"
	case m&fs.ModeDevice != 0:
		return "a block device, not a regular file"
	case m&fs.ModeSocket != 0:
		return "a socket, not a regular file"
	}
	return "not a regular file"
}

func firstOnLine(toks []tok, i int) bool { return i == 0 || toks[i-1].line != toks[i].line }

// lineArgs returns the tokens after toks[i] on its line, up to a brace.
func lineArgs(toks []tok, i int) []tok {
	var out []tok
	for j := i + 1; j < len(toks) && toks[j].line == toks[i].line && toks[j].text != "{" && toks[j].text != "}"; j++ {
		out = append(out, toks[j])
	}
	return out
}

// replaceEnv expands {$VAR} and {%VAR%} as caddy does in import paths.
func replaceEnv(s string) string {
	for _, p := range [][2]string{{"{%", "%}"}, {"{$", "}"}} {
		for {
			i := strings.Index(s, p[0])
			if i < 0 {
				break
			}
			j := strings.Index(s[i:], p[1])
			if j <= len(p[0]) {
				break
			}
			ref := s[i : i+j+len(p[1])]
			s = strings.ReplaceAll(s, ref, os.Getenv(ref[len(p[0]):len(ref)-len(p[1])]))
		}
	}
	return s
}
