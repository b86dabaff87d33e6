package testcluster

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/k8slint/k8slint/internal/image"
)

// Image is an image to import: built from Spec, or read from Tar (an
// archive `make image` wrote).
type Image struct {
	Ref  string
	Spec *image.Spec
	Tar  string
}

// Refs of the images the harness builds.
const (
	GlibcToolboxImage = "localhost/k8slint/toolbox-glibc:e2e"
	MuslToolboxImage  = "localhost/k8slint/toolbox-musl:e2e"
)

var epoch = time.Unix(0, 0)

// ImportImages writes each image's archive (when built from a Spec) under
// STATE/images and imports it into containerd's k8s.io namespace.
func (c *Cluster) ImportImages(ctx context.Context, imgs ...Image) error {
	dir := c.path("images")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, img := range imgs {
		tar := img.Tar
		if img.Spec != nil {
			idx, err := image.Build(*img.Spec)
			if err != nil {
				return fmt.Errorf("image %s: %w", img.Ref, err)
			}
			tar = filepath.Join(dir, regexp.MustCompile(`[^a-zA-Z0-9.-]+`).ReplaceAllString(img.Ref, "_")+".tar")
			if err := image.Write(tar, img.Ref, idx, img.Spec.Created); err != nil {
				return fmt.Errorf("image %s: %w", img.Ref, err)
			}
		}
		if err := c.ctr("images", "import", tar); err != nil {
			return err
		}
		if img.Ref != "" {
			if err := c.ctr("images", "check", "name=="+img.Ref); err != nil {
				return err
			}
			out, _ := exec.CommandContext(ctx, "ctr", "-a", c.containerdSock(), "-n", "k8s.io", "images", "ls", "-q", "name=="+img.Ref).Output()
			if strings.TrimSpace(string(out)) != img.Ref {
				return fmt.Errorf("image %s: not in containerd after importing %s", img.Ref, tar)
			}
		}
	}
	return nil
}

// goBuild builds a main package (of this module or a dependency) for
// linux/amd64, static, to out, with make build's flags so that the Go
// build cache it filled serves.
func goBuild(root, pkg, out string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b.String())
	}
	return nil
}

// pauseBinary builds the pause program once per cluster.
func (c *Cluster) pauseBinary() (string, error) {
	p := c.path("images", "pause")
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", err
	}
	return p, goBuild(c.opts.Root, "./internal/testcluster/pause", p)
}

func single(files []image.File, cfg image.Config) *image.Spec {
	return &image.Spec{Created: epoch, Config: cfg, Platforms: []image.Platform{{OS: "linux", Arch: "amd64", Files: files}}}
}

func (c *Cluster) buildPauseImage() (Image, error) {
	bin, err := c.pauseBinary()
	if err != nil {
		return Image{}, err
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return Image{}, err
	}
	return Image{Ref: PauseImage, Spec: single([]image.File{{Path: "/pause", Mode: 0o755, Data: data}}, image.Config{Entrypoint: []string{"/pause"}, User: "65535:65535"})}, nil
}

// CoreDNSImage is the coredns-custom image (image.CoreDNSSpec, linux/amd64)
// of the binary bin, named ref.
func CoreDNSImage(ref, bin string) (Image, error) {
	s, err := image.CoreDNSSpec(image.BuildInfo{Version: "e2e", Source: "https://github.com/k8slint/k8slint", Created: epoch, Binaries: map[string]string{"linux/amd64": bin}})
	if err != nil {
		return Image{}, err
	}
	return Image{Ref: ref, Spec: &s}, nil
}

// ToolboxImages builds and imports two images whose pods idle in /pause
// and resolve names with a real resolver when exec'd: GlibcToolboxImage
// has /usr/bin/getent with the glibc it is linked against (copied from
// this machine, loader and all), MuslToolboxImage /gai, a static musl-gcc
// build of gaiSource (a getaddrinfo(AF_UNSPEC) program). Both have
// /etc/nsswitch.conf "hosts: files dns", as Debian's.
func (c *Cluster) ToolboxImages(ctx context.Context, gaiSource string) error {
	pause, err := c.pauseBinary()
	if err != nil {
		return err
	}
	pauseData, err := os.ReadFile(pause)
	if err != nil {
		return err
	}
	base := []image.File{
		{Path: "/pause", Mode: 0o755, Data: pauseData},
		{Path: "/etc/nsswitch.conf", Mode: 0o644, Data: []byte("hosts: files dns\n")},
		{Path: "/etc/passwd", Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/bin/sh\n")},
		{Path: "/tmp", Dir: true, Mode: 0o1777},
	}
	glibc, err := glibcFiles("/usr/bin/getent")
	if err != nil {
		return err
	}
	gai := c.path("images", "gai-musl")
	ctx2, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx2, "musl-gcc", "-static", "-O2", "-o", gai, gaiSource).CombinedOutput(); err != nil {
		return fmt.Errorf("musl-gcc: %v\n%s", err, out)
	}
	gaiData, err := os.ReadFile(gai)
	if err != nil {
		return err
	}
	cfg := image.Config{Entrypoint: []string{"/pause"}, Env: []string{"PATH=/usr/bin:/bin"}}
	return c.ImportImages(ctx,
		Image{Ref: GlibcToolboxImage, Spec: single(append(append([]image.File(nil), base...), glibc...), cfg)},
		Image{Ref: MuslToolboxImage, Spec: single(append(append([]image.File(nil), base...), image.File{Path: "/gai", Mode: 0o755, Data: gaiData}), cfg)},
	)
}

// glibcFiles returns bin and the shared objects ldd lists for it, each at
// its path on this machine (symlinked paths such as /lib64's loader become
// the file they point to).
func glibcFiles(bin string) ([]image.File, error) {
	out, err := exec.Command("ldd", bin).Output()
	if err != nil {
		return nil, fmt.Errorf("ldd %s: %v", bin, err)
	}
	paths := []string{bin}
	for _, line := range strings.Split(string(out), "\n") {
		for _, f := range strings.Fields(line) {
			if strings.HasPrefix(f, "/") {
				paths = append(paths, f)
			}
		}
	}
	var files []image.File
	seen := map[string]bool{}
	for _, p := range paths {
		if seen[p] {
			continue
		}
		seen[p] = true
		data, err := os.ReadFile(p) // follows symlinks
		if err != nil {
			return nil, err
		}
		files = append(files, image.File{Path: p, Mode: 0o755, Data: data})
	}
	return files, nil
}

// StockCoreDNSRef names the stock CoreDNS v1.15.0 (the main package of
// github.com/coredns/coredns at the version go.mod pins: every stock
// plugin, no k8slint) built here, in the same image shape. It stands in
// for registry.k8s.io/coredns/coredns:v1.15.0, which cannot be pulled here.
const StockCoreDNSRef = "localhost/k8slint/coredns-stock:v1.15.0"

// StockCoreDNSImage builds the stock CoreDNS binary into dir and returns
// its image (see StockCoreDNSRef).
func StockCoreDNSImage(root, dir string) (Image, error) {
	bin := filepath.Join(dir, "coredns-stock")
	if err := goBuild(root, "github.com/coredns/coredns", bin); err != nil {
		return Image{}, err
	}
	return CoreDNSImage(StockCoreDNSRef, bin)
}

// KubeadmCorefile returns corefiles/kubeadm.Corefile, without its k8slint
// line unless withK8slint: kubeadm's own Corefile, as a cluster has it
// before the swap, or the project's.
func KubeadmCorefile(root string, withK8slint bool) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, "corefiles", "kubeadm.Corefile"))
	if err != nil {
		return "", err
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "#") || (!withK8slint && t == "k8slint") {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n"), nil
}
