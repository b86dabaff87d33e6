// Package image writes OCI images from local files, without a container
// engine or a base image: one layer per platform, a multi-platform index,
// and a tar that docker load, podman load and ctr images import all read
// (the OCI image layout plus docker's manifest.json, as docker save writes
// since Docker 25).
//
// Everything in the output follows from the input: entries are sorted, every
// time stamp is Spec.Created, owners are numeric and the layer is gzipped
// here, so two builds of the same files give the same digest.
package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// File is one entry of an image's layer. Exactly one of Data, Dir and Link
// says what it is (Data may be empty for an empty file).
type File struct {
	Path     string // absolute path in the image
	Mode     int64  // permission bits (and sticky bit)
	UID, GID int
	Data     []byte
	Dir      bool
	Link     string // symlink target
	// Xattrs are written as PAX SCHILY.xattr.NAME records, the form
	// containerd, podman and docker apply when they unpack a layer.
	Xattrs map[string]string
}

// Config is the run configuration of an image.
type Config struct {
	Entrypoint []string
	Cmd        []string
	User       string
	WorkingDir string
	Env        []string
	Ports      []string // "53/udp", "53/tcp"
	Labels     map[string]string
}

// Platform is the content of the image for one platform.
type Platform struct {
	OS, Arch, Variant string
	Files             []File
}

// Spec describes a (multi-platform) image.
type Spec struct {
	Created     time.Time
	Config      Config
	Platforms   []Platform
	Annotations map[string]string // on the index
}

// PAXCapability is the PAX record name that carries a file capability.
const PAXCapability = "SCHILY.xattr.security.capability"

// Capability numbers from linux/capability.h that images here grant.
const (
	CapNetBindService = 10
)

// FileCapability returns the security.capability extended attribute value
// (struct vfs_cap_data, revision 2) that setcap writes for caps=+ep: the
// capabilities permitted and effective, none inheritable.
func FileCapability(caps ...int) string {
	const (
		revision2 = 0x02000000
		effective = 0x1
	)
	var permitted [2]uint32
	for _, c := range caps {
		permitted[c/32] |= 1 << (c % 32)
	}
	b := make([]byte, 20)
	binary.LittleEndian.PutUint32(b[0:], revision2|effective)
	binary.LittleEndian.PutUint32(b[4:], permitted[0])
	binary.LittleEndian.PutUint32(b[8:], 0)
	binary.LittleEndian.PutUint32(b[12:], permitted[1])
	binary.LittleEndian.PutUint32(b[16:], 0)
	return string(b)
}

// ParseFileCapability returns the permitted capabilities of a revision 2
// security.capability value and whether they are effective.
func ParseFileCapability(v string) (caps []int, effective bool, err error) {
	if len(v) != 20 {
		return nil, false, fmt.Errorf("capability value of %d bytes, want 20 (revision 2)", len(v))
	}
	b := []byte(v)
	magic := binary.LittleEndian.Uint32(b[0:])
	if magic&0xff000000 != 0x02000000 {
		return nil, false, fmt.Errorf("capability revision %#x, want 0x02000000", magic&0xff000000)
	}
	permitted := [2]uint32{binary.LittleEndian.Uint32(b[4:]), binary.LittleEndian.Uint32(b[12:])}
	for c := 0; c < 64; c++ {
		if permitted[c/32]&(1<<(c%32)) != 0 {
			caps = append(caps, c)
		}
	}
	return caps, magic&1 == 1, nil
}

// Build makes the index of s: one single-layer image per platform.
func Build(s Spec) (v1.ImageIndex, error) {
	if len(s.Platforms) == 0 {
		return nil, errors.New("image: no platform")
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, p := range s.Platforms {
		img, err := buildImage(s, p)
		if err != nil {
			return nil, fmt.Errorf("image %s/%s: %w", p.OS, p.Arch, err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: p.OS, Architecture: p.Arch, Variant: p.Variant}},
		})
	}
	if len(s.Annotations) > 0 {
		idx = mutate.Annotations(idx, s.Annotations).(v1.ImageIndex)
	}
	return idx, nil
}

func buildImage(s Spec, p Platform) (v1.Image, error) {
	gz, err := Layer(p.Files, s.Created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(gz)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History:   v1.History{Created: v1.Time{Time: s.Created}, CreatedBy: "k8slint internal/image", Comment: "one layer"},
	})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Arch, p.Variant
	cf.Created = v1.Time{Time: s.Created}
	c := s.Config
	cf.Config = v1.Config{
		Entrypoint: c.Entrypoint,
		Cmd:        c.Cmd,
		User:       c.User,
		WorkingDir: c.WorkingDir,
		Env:        c.Env,
		Labels:     c.Labels,
	}
	if len(c.Ports) > 0 {
		cf.Config.ExposedPorts = map[string]struct{}{}
		for _, port := range c.Ports {
			cf.Config.ExposedPorts[port] = struct{}{}
		}
	}
	return mutate.ConfigFile(img, cf)
}

// Layer returns the gzipped tar of files: every parent directory is added
// (root-owned, 0755) unless files name it, entries are sorted by path, and
// every time stamp is mtime.
func Layer(files []File, mtime time.Time) ([]byte, error) {
	byPath := map[string]File{}
	for _, f := range files {
		p := path.Clean("/" + f.Path)
		if p == "/" {
			return nil, fmt.Errorf("file %q: the root is not an entry", f.Path)
		}
		if _, dup := byPath[p]; dup {
			return nil, fmt.Errorf("file %s given twice", p)
		}
		f.Path = p
		byPath[p] = f
	}
	for p := range byPath {
		for d := path.Dir(p); d != "/"; d = path.Dir(d) {
			if _, ok := byPath[d]; !ok {
				byPath[d] = File{Path: d, Dir: true, Mode: 0o755}
			}
		}
	}
	paths := make([]string, 0, len(byPath))
	for p := range byPath {
		paths = append(paths, p)
	}
	sort.Strings(paths)

	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(zw)
	mtime = mtime.UTC().Truncate(time.Second)
	for _, p := range paths {
		f := byPath[p]
		h := &tar.Header{
			Name:    strings.TrimPrefix(p, "/"),
			Mode:    f.Mode,
			Uid:     f.UID,
			Gid:     f.GID,
			ModTime: mtime,
			Format:  tar.FormatPAX,
		}
		switch {
		case f.Dir:
			h.Typeflag, h.Name = tar.TypeDir, h.Name+"/"
		case f.Link != "":
			h.Typeflag, h.Linkname = tar.TypeSymlink, f.Link
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.Data))
		}
		if len(f.Xattrs) > 0 {
			h.PAXRecords = map[string]string{}
			for k, v := range f.Xattrs {
				h.PAXRecords["SCHILY.xattr."+k] = v
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(f.Data); err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
