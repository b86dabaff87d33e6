// Package corefiles embeds the project's example Corefiles and the files
// they read, so the demo and the tests run exactly what is shipped.
package corefiles

import (
	"embed"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

//go:embed *.Corefile db.*
var files embed.FS

// Names returns the Corefiles, sorted.
func Names() []string {
	ents, _ := fs.ReadDir(files, ".")
	var names []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".Corefile") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names
}

// Read returns one embedded file.
func Read(name string) (string, error) {
	b, err := files.ReadFile(name)
	return string(b), err
}

// WriteSupport copies the files Corefiles refer to (zone files) into dir.
func WriteSupport(dir string) error {
	ents, err := fs.ReadDir(files, ".")
	if err != nil {
		return err
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".Corefile") {
			continue
		}
		b, err := files.ReadFile(e.Name())
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
