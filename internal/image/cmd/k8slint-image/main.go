// k8slint-image writes bin/coredns-custom.oci.tar and bin/dnslint.oci.tar
// (`make image`): multi-platform OCI images of the binaries built for each
// platform, without a container engine.
//
//	k8slint-image -out bin -version v1 -revision SHA -created UNIX \
//	    -bin linux/amd64=bin/linux_amd64 -bin linux/arm64=bin/linux_arm64
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/k8slint/k8slint/internal/image"
)

type binDirs map[string]string

func (b binDirs) String() string { return fmt.Sprint(map[string]string(b)) }

func (b binDirs) Set(v string) error {
	pl, dir, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("%q: want PLATFORM=DIR", v)
	}
	if _, err := image.ParsePlatform(pl); err != nil {
		return err
	}
	b[pl] = dir
	return nil
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("k8slint-image", flag.ContinueOnError)
	out := fs.String("out", "bin", "directory the .oci.tar files are written to")
	version := fs.String("version", "dev", "image tag and org.opencontainers.image.version")
	revision := fs.String("revision", "", "commit (org.opencontainers.image.revision)")
	source := fs.String("source", "https://github.com/k8slint/k8slint", "org.opencontainers.image.source")
	created := fs.Int64("created", 0, "creation time, Unix seconds (the commit time keeps builds reproducible)")
	bins := binDirs{}
	fs.Var(bins, "bin", "PLATFORM=DIR: DIR holds coredns-custom and dnslint built for PLATFORM (repeatable)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if len(bins) == 0 {
		fmt.Fprintln(os.Stderr, "k8slint-image: no -bin PLATFORM=DIR")
		return 2
	}
	info := image.BuildInfo{Version: *version, Revision: *revision, Source: *source, Created: time.Unix(*created, 0).UTC()}
	for _, img := range []struct {
		name, repo string
		spec       func(image.BuildInfo) (image.Spec, error)
	}{
		{"coredns-custom", image.CoreDNSRepo, image.CoreDNSSpec},
		{"dnslint", image.DNSLintRepo, image.DNSLintSpec},
	} {
		info.Binaries = map[string]string{}
		for pl, dir := range bins {
			info.Binaries[pl] = filepath.Join(dir, img.name)
		}
		path := filepath.Join(*out, img.name+".oci.tar")
		digest, err := write(img.spec, info, img.repo+":"+tag(*version), path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "k8slint-image: %s: %v\n", path, err)
			return 1
		}
		fmt.Printf("%s %s:%s %s\n", path, img.repo, tag(*version), digest)
	}
	return 0
}

func write(specOf func(image.BuildInfo) (image.Spec, error), info image.BuildInfo, ref, path string) (string, error) {
	s, err := specOf(info)
	if err != nil {
		return "", err
	}
	idx, err := image.Build(s)
	if err != nil {
		return "", err
	}
	if err := image.Write(path, ref, idx, info.Created); err != nil {
		return "", err
	}
	d, err := idx.Digest()
	return d.String(), err
}

// tag turns a version (git describe output) into a valid image tag.
func tag(v string) string {
	var b strings.Builder
	for i, r := range v {
		ok := r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || (i > 0 && (r == '.' || r == '-'))
		if !ok {
			r = '-'
		}
		b.WriteRune(r)
	}
	if b.Len() == 0 {
		return "dev"
	}
	s := b.String()
	if len(s) > 128 {
		s = s[:128]
	}
	return s
}
