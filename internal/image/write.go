package image

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Annotation keys on the image layout's index.json entry that name the image:
// the OCI one, and the one containerd (ctr images import) reads first.
const (
	AnnotationRefName        = "org.opencontainers.image.ref.name"
	AnnotationContainerdName = "io.containerd.image.name"
)

// dockerManifest is one entry of docker save's manifest.json.
type dockerManifest struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// Write writes idx as a tar to path (through a temporary file renamed into
// place, so a failed write leaves no half archive): the OCI image layout
// (oci-layout, index.json naming the image ref, blobs/sha256/...) and
// docker's manifest.json for the linux/amd64 image (the first image if
// there is none), which loaders of docker save's older format read. Every
// entry has the time stamp mtime.
func Write(path, ref string, idx v1.ImageIndex, mtime time.Time) error {
	// A fully qualified reference, written as given (go-containerregistry
	// would spell docker.io as index.docker.io; containerd does not).
	reg, _, _ := strings.Cut(ref, "/")
	if _, err := name.NewTag(ref, name.StrictValidation); err != nil || !strings.ContainsAny(reg, ".:") && reg != "localhost" {
		return fmt.Errorf("image reference %q: want REGISTRY/REPOSITORY:TAG", ref)
	}
	full := ref
	idxDigest, err := idx.Digest()
	if err != nil {
		return err
	}
	idxRaw, err := idx.RawManifest()
	if err != nil {
		return err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	blobs := map[v1.Hash]blob{}
	var order []v1.Hash
	add := func(h v1.Hash, size int64, open func() (io.ReadCloser, error)) {
		if _, ok := blobs[h]; !ok {
			blobs[h] = blob{size, open}
			order = append(order, h)
		}
	}
	add(idxDigest, int64(len(idxRaw)), rawOpener(idxRaw))
	var docker *dockerManifest
	for i, d := range im.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			return err
		}
		raw, err := img.RawManifest()
		if err != nil {
			return err
		}
		add(d.Digest, int64(len(raw)), rawOpener(raw))
		cfgName, err := img.ConfigName()
		if err != nil {
			return err
		}
		cfg, err := img.RawConfigFile()
		if err != nil {
			return err
		}
		add(cfgName, int64(len(cfg)), rawOpener(cfg))
		layers, err := img.Layers()
		if err != nil {
			return err
		}
		dm := &dockerManifest{Config: blobPath(cfgName), RepoTags: []string{full}}
		for _, l := range layers {
			ld, err := l.Digest()
			if err != nil {
				return err
			}
			size, err := l.Size()
			if err != nil {
				return err
			}
			add(ld, size, l.Compressed)
			dm.Layers = append(dm.Layers, blobPath(ld))
		}
		if i == 0 || (d.Platform != nil && d.Platform.OS == "linux" && d.Platform.Architecture == "amd64") {
			docker = dm
		}
	}
	index := v1.IndexManifest{
		SchemaVersion: 2,
		MediaType:     types.OCIImageIndex,
		Manifests: []v1.Descriptor{{
			MediaType: types.OCIImageIndex,
			Size:      int64(len(idxRaw)),
			Digest:    idxDigest,
			Annotations: map[string]string{
				AnnotationRefName:        full,
				AnnotationContainerdName: full,
			},
		}},
	}
	indexJSON, err := json.Marshal(index)
	if err != nil {
		return err
	}
	manifestJSON, err := json.Marshal([]dockerManifest{*docker})
	if err != nil {
		return err
	}

	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	tw := tar.NewWriter(tmp)
	mtime = mtime.UTC().Truncate(time.Second)
	file := func(name string, size int64, open func() (io.ReadCloser, error)) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644, ModTime: mtime, Format: tar.FormatPAX}); err != nil {
			return err
		}
		rc, err := open()
		if err != nil {
			return err
		}
		defer rc.Close()
		n, err := io.Copy(tw, rc)
		if err == nil && n != size {
			err = fmt.Errorf("%s: %d bytes, expected %d", name, n, size)
		}
		return err
	}
	dir := func(name string) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755, ModTime: mtime, Format: tar.FormatPAX})
	}
	layout := []byte(`{"imageLayoutVersion":"1.0.0"}`)
	if err := file("oci-layout", int64(len(layout)), rawOpener(layout)); err != nil {
		return err
	}
	if err := file("index.json", int64(len(indexJSON)), rawOpener(indexJSON)); err != nil {
		return err
	}
	if err := file("manifest.json", int64(len(manifestJSON)), rawOpener(manifestJSON)); err != nil {
		return err
	}
	if err := dir("blobs/"); err != nil {
		return err
	}
	if err := dir("blobs/sha256/"); err != nil {
		return err
	}
	for _, h := range order {
		if err := file(blobPath(h), blobs[h].size, blobs[h].open); err != nil {
			return fmt.Errorf("blob %s: %w", h, err)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func blobPath(h v1.Hash) string { return "blobs/" + h.Algorithm + "/" + h.Hex }

func rawOpener(b []byte) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
}

// blob is one file under blobs/.
type blob struct {
	size int64
	open func() (io.ReadCloser, error)
}
