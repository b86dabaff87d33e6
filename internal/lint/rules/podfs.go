package rules

import (
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/lint/corefile"
	"github.com/k8slint/k8slint/internal/lint/manifest"
	"github.com/k8slint/k8slint/internal/validate"
)

// inPod validates the unit's Corefile text (placeholders replaced; wrap
// turns it into the Corefile CoreDNS reads) with the files it names resolved as CoreDNS
// resolves them in its pod, not on the machine dnslint runs on: `import`
// relative to the Corefile's directory (/etc/coredns for a ConfigMap
// mount), `hosts`, `file` and `tls` paths relative to the container's
// working directory (/). A file the input provides (lint.Unit.PodFiles)
// is validated from a scratch copy of the pod's file system; one under
// --root from there (Corefile text it imports from a scratch copy too, its
// upstreams offline: importFromRoot); any other is not checked: an import of it is left
// out, and what CoreDNS says about it (hosts: "File does not exist") is
// dropped. Line numbers do not change.
func inPod(p *lint.Pass, wrap func([]byte) []byte) validate.Result {
	f := p.Corefile
	if len(f.Placeholders) > 0 {
		// CoreDNS reads the text with placeholders replaced: so does
		// the search for paths.
		f = reparse(p, f.Text)
	}
	return inPodText(p, f, f.Text, wrap)
}

// reparse parses text (a Corefile without placeholders) as the unit's.
func reparse(p *lint.Pass, text []byte) *corefile.File {
	if p.Unit.Snippet {
		return corefile.ParseSnippet(p.Corefile.Name, text)
	}
	return corefile.Parse(p.Corefile.Name, text)
}

// inPodText is inPod on src, whose parse is f.
func inPodText(p *lint.Pass, f *corefile.File, src []byte, wrap func([]byte) []byte) validate.Result {
	cfPath, files := p.Unit.PodFiles()
	refs := pathRefs(f)
	if len(refs) == 0 {
		return validate.Check(validateName, wrap(src))
	}
	scratch, err := os.MkdirTemp("", "dnslint-pod-")
	if err != nil {
		return validate.Result{Err: err}
	}
	defer os.RemoveAll(scratch)
	// Files named by hosts, file, root or tls are data; the others are
	// Corefile text (imported snippets, other Corefile keys), whose
	// upstreams are validated offline as the main text's are.
	data := map[string]bool{}
	for _, r := range refs {
		if r.directive != "import" {
			data[r.podPath(cfPath)] = true
		}
	}
	for name, body := range files {
		if !data[name] {
			body = []byte(validate.OfflineUpstreams(string(body)))
		}
		full := filepath.Join(scratch, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(full), 0o700); err != nil {
			return validate.Result{Err: err}
		}
		if err := os.WriteFile(full, body, 0o600); err != nil {
			return validate.Result{Err: err}
		}
	}
	out := append([]byte(nil), src...)
	var unchecked []string
	// Replace from the end so that earlier offsets stay valid.
	for i := len(refs) - 1; i >= 0; i-- {
		r := refs[i]
		pp := r.podPath(cfPath)
		var repl string
		switch {
		case provides(files, pp):
			repl = filepath.Join(scratch, filepath.FromSlash(pp))
		case p.Config.Root != "" && r.directive == "import":
			repl = importFromRoot(p.Config.Root, filepath.Join(scratch, rootCopy), pp)
		case p.Config.Root != "":
			repl = filepath.Join(p.Config.Root, filepath.FromSlash(pp))
		case r.directive == "import":
			// Not checked: CoreDNS imports whatever the pod holds there.
			out = blank(out, r.name.Offset, r.tok.End)
			continue
		default:
			repl = filepath.Join(scratch, filepath.FromSlash(pp))
			unchecked = append(unchecked, repl)
		}
		out = append(out[:r.tok.Offset], append([]byte(repl), out[r.tok.End:]...)...)
	}
	name := filepath.Join(scratch, filepath.FromSlash(cfPath))
	res := validate.Check(name, wrap(out))
	names := func(s string) bool {
		for _, u := range unchecked {
			if strings.Contains(s, u) {
				return true
			}
		}
		return false
	}
	back := strings.NewReplacer(name, validateName, filepath.Join(scratch, rootCopy), p.Config.Root, scratch, "").Replace
	// An error inside another Corefile key of the input is that unit's
	// finding, not this one's.
	for name := range files {
		if name != cfPath && manifest.IsCorefileKey(path.Base(name)) {
			unchecked = append(unchecked, filepath.Join(scratch, filepath.FromSlash(name))+":")
		}
	}
	if res.Err != nil {
		if names(res.Err.Error()) {
			res.Err = nil // about a file not checked here
		} else {
			res.Err = errorString(back(res.Err.Error()))
		}
	}
	logs := res.Logs[:0]
	for _, l := range res.Logs {
		if !names(l) {
			logs = append(logs, back(l))
		}
	}
	res.Logs = logs
	if res.Refused != nil {
		rf := *res.Refused
		rf.File, rf.Path = back(rf.File), back(rf.Path)
		res.Refused = &rf
	}
	return res
}

// rootCopy is the directory of the scratch copy where the Corefile text
// imported from --root is validated.
const rootCopy = ".root"

// importFromRoot returns where validation imports pod path pp (a file or
// a glob) that --root holds: a scratch copy under dst of every file it
// matches, their forward upstreams named by host made offline as the
// input's own text is (validate.OfflineUpstreams), so that validating
// never resolves a name from the linting machine. What is not a regular
// file (missing, a directory, a device, a FIFO) is left where it is, for
// CoreDNS and corefile-not-validated to say so; nothing else is read.
func importFromRoot(root, dst, pp string) string {
	at := filepath.Join(root, filepath.FromSlash(pp))
	names, err := filepath.Glob(at)
	if err != nil || len(names) == 0 {
		return at
	}
	for _, n := range names {
		if fi, err := os.Stat(n); err != nil || !fi.Mode().IsRegular() {
			return at
		}
	}
	for _, n := range names {
		rel, err := filepath.Rel(root, n)
		if err != nil {
			return at
		}
		body, err := os.ReadFile(n)
		if err != nil {
			return at
		}
		full := filepath.Join(dst, rel)
		if os.MkdirAll(filepath.Dir(full), 0o700) != nil || os.WriteFile(full, []byte(validate.OfflineUpstreams(string(body))), 0o600) != nil {
			return at
		}
	}
	return filepath.Join(dst, filepath.FromSlash(pp))
}

type errorString string

func (e errorString) Error() string { return string(e) }

// pathRef is a path a Corefile names: the argument tok of directive name.
type pathRef struct {
	directive string
	name, tok corefile.Token
	rooted    bool // the block sets root: relative paths are the root plugin's
}

// podPath is where CoreDNS in the pod looks for the reference, its
// Corefile being cfPath.
func (r pathRef) podPath(cfPath string) string {
	p := r.tok.Text
	switch {
	case path.IsAbs(p):
		return path.Clean(p)
	case r.directive == "import":
		return path.Join(path.Dir(cfPath), p)
	}
	return path.Join("/", p)
}

// pathRefs lists the file paths f names, in order: import patterns
// (top-level or in a block), the hosts and file plugins' files, tls
// certificate files and root.
func pathRefs(f *corefile.File) []pathRef {
	var out []pathRef
	snippets := snippetNames(f)
	for _, d := range f.Imports {
		if !snippets[d.Args[0].Text] {
			out = append(out, pathRef{directive: "import", name: d.Name, tok: d.Args[0]})
		}
	}
	for _, sb := range f.Blocks {
		rooted := sb.Has("root")
		var rec func(ds []*corefile.Directive, top bool)
		rec = func(ds []*corefile.Directive, top bool) {
			for _, d := range ds {
				var args []corefile.Token
				switch {
				case d.Name.Text == "import" && (len(d.Args) == 0 || !snippets[d.Args[0].Text]):
					args = d.Args[:min(len(d.Args), 1)]
				case top && (d.Name.Text == "hosts" || d.Name.Text == "file") && !rooted:
					args = d.Args[:min(len(d.Args), 1)]
				case top && d.Name.Text == "root":
					args = d.Args[:min(len(d.Args), 1)]
				case top && d.Name.Text == "tls" && !rooted:
					args = d.Args[:min(len(d.Args), 3)]
				}
				for _, a := range args {
					if a.Quoted || strings.Contains(a.Text, "{$") || a.Text == "" {
						continue
					}
					if d.Name.Text == "root" && !path.IsAbs(a.Text) {
						continue
					}
					out = append(out, pathRef{directive: d.Name.Text, name: d.Name, tok: a, rooted: rooted})
				}
				rec(d.Children, false)
			}
		}
		rec(sb.Directives, true)
	}
	// Sorted by offset: replacements run from the end.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].tok.Offset < out[j-1].tok.Offset; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// snippetNames are the snippets f defines, `(NAME) { ... }`: an
// `import NAME` of one is no file.
func snippetNames(f *corefile.File) map[string]bool {
	out := map[string]bool{}
	for _, sb := range f.Blocks {
		if len(sb.Keys) == 1 {
			if k := sb.Keys[0].Text; len(k) > 2 && k[0] == '(' && k[len(k)-1] == ')' {
				out[k[1:len(k)-1]] = true
			}
		}
	}
	return out
}

// provides reports whether files holds pod path pp, or a file matching it
// when it is a glob.
func provides(files map[string][]byte, pp string) bool {
	if _, ok := files[pp]; ok {
		return true
	}
	if !strings.ContainsAny(pp, "*?[") {
		return false
	}
	for name := range files {
		if ok, _ := path.Match(pp, name); ok {
			return true
		}
	}
	return false
}

// blank replaces src[start:end] with spaces, newlines kept.
func blank(src []byte, start, end int) []byte {
	for i := start; i < end && i < len(src); i++ {
		if src[i] != '\n' {
			src[i] = ' '
		}
	}
	return src
}
