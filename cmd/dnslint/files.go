package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/k8slint/k8slint/internal/lint"
	"github.com/k8slint/k8slint/internal/resolvconf"
)

// The command's file I/O: what it reads (PATH arguments, directories,
// stdin, the node's resolv.conf, explain-lookup's manifest) and what --fix
// writes.

// collect expands directories into the Corefiles and manifests they hold.
func collect(paths []string, stderr io.Writer) ([]string, bool) {
	var out []string
	bad := false
	for _, p := range paths {
		if p == "-" {
			out = append(out, p)
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			fmt.Fprintf(stderr, "dnslint: %v\n", err)
			bad = true
			continue
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && q != p && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if !d.IsDir() && lint.KindOf(q) != lint.KindUnknown && regular(q, d) {
				found = append(found, q)
			}
			return nil
		})
		if err != nil {
			fmt.Fprintf(stderr, "dnslint: %v\n", err)
			bad = true
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, bad
}

// regular reports whether a walked entry is a regular file, following a
// symbolic link: a FIFO named Corefile in a directory would block the walk.
func regular(path string, d fs.DirEntry) bool {
	if d.Type().IsRegular() {
		return true
	}
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// read reads file path, or stdin for "-", up to lint.MaxFileSize bytes.
func read(path string, stdin io.Reader) ([]byte, error) {
	var r io.Reader = stdin
	size := 0
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			size = int(min(st.Size(), lint.MaxFileSize))
		}
		r = f
	}
	// One buffer of the file's size where it is known, with room for the
	// read that sees the end; io.ReadAll would grow one several times.
	b := bytes.NewBuffer(make([]byte, 0, size+bytes.MinRead))
	_, err := b.ReadFrom(io.LimitReader(r, lint.MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if b.Len() > lint.MaxFileSize {
		return nil, fmt.Errorf("%s: file too large (more than %d bytes)", path, lint.MaxFileSize)
	}
	return b.Bytes(), nil
}

// readResolvConf reads the node's resolv.conf for --node-resolv-conf; a
// line a resolver would skip is an error naming it.
func readResolvConf(path string) (resolvconf.Conf, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return resolvconf.Conf{}, fmt.Errorf("--node-resolv-conf: %v", err)
	}
	conf, err := resolvconf.Parse(bytes.NewReader(b))
	var pe *resolvconf.ParseError
	if errors.As(err, &pe) {
		return conf, fmt.Errorf("--node-resolv-conf %s:%d: %s", path, pe.Problems[0].Line, pe.Problems[0].Msg)
	} else if err != nil {
		return conf, fmt.Errorf("--node-resolv-conf %s: %v", path, err)
	}
	return conf, nil
}

// writeAtomic replaces path with data through a temporary file in the same
// directory, keeping the mode, so a failed write leaves the original.
func writeAtomic(path string, data []byte) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".dnslint-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(st.Mode().Perm()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
