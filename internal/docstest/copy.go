package docstest

import (
	"io/fs"
	"os"
	"path/filepath"
)

// CopyRepo copies the repository's regular files at root (not bin/ or
// .git) into dst, where a page's commands run as in a checkout and may
// change files (dnslint --fix) without touching the real one.
func CopyRepo(root, dst string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if rel == "bin" || rel == ".git" || rel == ".cache" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, info.Mode().Perm())
	})
}
