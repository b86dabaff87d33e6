package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// readTar returns the regular files of a tar by name.
func readTar(t *testing.T, r io.Reader) (map[string][]byte, map[string]*tar.Header) {
	t.Helper()
	files, headers := map[string][]byte{}, map[string]*tar.Header{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files, headers
		}
		if err != nil {
			t.Fatal(err)
		}
		headers[h.Name] = h
		if h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			files[h.Name] = b
		}
	}
}

func fakeBinaries(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	bins := map[string]string{}
	for _, pl := range Platforms {
		p := filepath.Join(dir, strings.ReplaceAll(pl, "/", "_"))
		if err := os.WriteFile(p, []byte("binary for "+pl), 0o755); err != nil {
			t.Fatal(err)
		}
		bins[pl] = p
	}
	return bins
}

func writeCoreDNS(t *testing.T, bins map[string]string, path string) string {
	t.Helper()
	info := BuildInfo{Version: "v1.2.3", Revision: "0123abc", Source: "https://github.com/k8slint/k8slint", Created: time.Unix(1763796191, 0), Binaries: bins}
	s, err := CoreDNSSpec(info)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := Build(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(path, CoreDNSRepo+":v1.2.3", idx, info.Created); err != nil {
		t.Fatal(err)
	}
	d, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

func TestTwoBuildsOfTheSameFilesGiveTheSameDigestAndBytes(t *testing.T) {
	bins := fakeBinaries(t)
	dir := t.TempDir()
	a := writeCoreDNS(t, bins, filepath.Join(dir, "a.tar"))
	b := writeCoreDNS(t, bins, filepath.Join(dir, "b.tar"))
	if a != b {
		t.Fatalf("digests differ: %s, %s", a, b)
	}
	ra, _ := os.ReadFile(filepath.Join(dir, "a.tar"))
	rb, _ := os.ReadFile(filepath.Join(dir, "b.tar"))
	if sha256.Sum256(ra) != sha256.Sum256(rb) {
		t.Fatal("the two archives differ")
	}
	// A changed binary changes the digest: the comparison above can fail.
	if err := os.WriteFile(bins["linux/arm64"], []byte("another binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	if c := writeCoreDNS(t, bins, filepath.Join(dir, "c.tar")); c == a {
		t.Fatal("a different arm64 binary gave the same index digest")
	}
}

// TestTheCoreDNSImageHasTheStockImageShape reads the archive back as a
// loader does and checks what the stock CoreDNS v1.15.0 image has.
func TestTheCoreDNSImageHasTheStockImageShape(t *testing.T) {
	bins := fakeBinaries(t)
	path := filepath.Join(t.TempDir(), "coredns.oci.tar")
	digest := writeCoreDNS(t, bins, path)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	files, _ := readTar(t, f)
	if got := string(files["oci-layout"]); got != `{"imageLayoutVersion":"1.0.0"}` {
		t.Errorf("oci-layout = %q", got)
	}
	var top struct {
		Manifests []struct {
			MediaType   string
			Digest      string
			Annotations map[string]string
		}
	}
	mustJSON(t, files["index.json"], &top)
	if len(top.Manifests) != 1 || top.Manifests[0].Digest != digest || top.Manifests[0].MediaType != "application/vnd.oci.image.index.v1+json" {
		t.Fatalf("index.json = %s, want one image index %s", files["index.json"], digest)
	}
	ref := "docker.io/k8slint/coredns-custom:v1.2.3"
	if a := top.Manifests[0].Annotations; a[AnnotationRefName] != ref || a[AnnotationContainerdName] != ref {
		t.Errorf("index.json annotations = %v, want the ref %s", a, ref)
	}
	blob := func(d string) []byte {
		b, ok := files["blobs/sha256/"+strings.TrimPrefix(d, "sha256:")]
		if !ok {
			t.Fatalf("blob %s missing", d)
		}
		if got := "sha256:" + hexSum(b); got != d {
			t.Fatalf("blob %s has digest %s", d, got)
		}
		return b
	}
	var idx struct {
		Annotations map[string]string
		Manifests   []struct {
			Digest   string
			Platform struct{ OS, Architecture string }
		}
	}
	mustJSON(t, blob(digest), &idx)
	var platforms []string
	var amd64Config string
	for _, m := range idx.Manifests {
		pl := m.Platform.OS + "/" + m.Platform.Architecture
		platforms = append(platforms, pl)
		var man struct {
			Config struct{ MediaType, Digest string }
			Layers []struct{ MediaType, Digest string }
		}
		mustJSON(t, blob(m.Digest), &man)
		if man.Config.MediaType != "application/vnd.oci.image.config.v1+json" || len(man.Layers) != 1 || man.Layers[0].MediaType != "application/vnd.oci.image.layer.v1.tar+gzip" {
			t.Errorf("%s: manifest %+v, want an OCI config and one gzip layer", pl, man)
		}
		if pl == "linux/amd64" {
			amd64Config = man.Config.Digest
		}
		var cfg struct {
			OS, Architecture string
			Config           struct {
				User, WorkingDir string
				Entrypoint, Cmd  []string
				Env              []string
				ExposedPorts     map[string]struct{}
				Labels           map[string]string
			}
		}
		mustJSON(t, blob(man.Config.Digest), &cfg)
		c := cfg.Config
		if cfg.OS+"/"+cfg.Architecture != pl || c.User != "65532:65532" || c.WorkingDir != "/" || !reflect.DeepEqual(c.Entrypoint, []string{"/coredns"}) || c.Cmd != nil {
			t.Errorf("%s: config %+v", pl, cfg)
		}
		if _, udp := c.ExposedPorts["53/udp"]; !udp || len(c.ExposedPorts) != 2 {
			t.Errorf("%s: exposed ports %v, want 53/udp and 53/tcp", pl, c.ExposedPorts)
		}
		for k, want := range map[string]string{"org.opencontainers.image.source": "https://github.com/k8slint/k8slint", "org.opencontainers.image.version": "v1.2.3", "org.opencontainers.image.revision": "0123abc"} {
			if c.Labels[k] != want || idx.Annotations[k] != want {
				t.Errorf("%s: label %s = %q, index annotation %q, want %q", pl, k, c.Labels[k], idx.Annotations[k], want)
			}
		}
		zr, err := gzip.NewReader(bytes.NewReader(blob(man.Layers[0].Digest)))
		if err != nil {
			t.Fatal(err)
		}
		lf, lh := readTar(t, zr)
		if string(lf["coredns"]) != "binary for "+pl {
			t.Errorf("%s: /coredns holds %q", pl, lf["coredns"])
		}
		h := lh["coredns"]
		caps, eff, err := ParseFileCapability(h.PAXRecords[PAXCapability])
		if err != nil || !eff || !reflect.DeepEqual(caps, []int{CapNetBindService}) || h.Mode != 0o755 || h.Uid != 0 {
			t.Errorf("%s: /coredns mode %o uid %d capability %v effective %v (%v), want 0755 root cap_net_bind_service=+ep", pl, h.Mode, h.Uid, caps, eff, err)
		}
		if h := lh["tmp/"]; h == nil || h.Mode != 0o1777 {
			t.Errorf("%s: /tmp %+v, want mode 1777", pl, h)
		}
		if h := lh["home/nonroot/"]; h == nil || h.Uid != 65532 {
			t.Errorf("%s: /home/nonroot %+v, want owned by 65532", pl, h)
		}
		if !strings.Contains(string(lf["etc/passwd"]), "nonroot:x:65532:65532:") {
			t.Errorf("%s: /etc/passwd has no nonroot 65532:\n%s", pl, lf["etc/passwd"])
		}
		if n := countCerts(t, lf["etc/ssl/certs/ca-certificates.crt"]); n < 100 {
			t.Errorf("%s: %d CA roots, want the NSS set (over 100)", pl, n)
		}
	}
	if !reflect.DeepEqual(platforms, Platforms) {
		t.Errorf("platforms %v, want %v", platforms, Platforms)
	}
	var dm []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	mustJSON(t, files["manifest.json"], &dm)
	if len(dm) != 1 || dm[0].Config != "blobs/sha256/"+strings.TrimPrefix(amd64Config, "sha256:") || !reflect.DeepEqual(dm[0].RepoTags, []string{ref}) {
		t.Errorf("manifest.json = %s, want the linux/amd64 image tagged %s", files["manifest.json"], ref)
	}
}

func countCerts(t *testing.T, b []byte) int {
	t.Helper()
	n := 0
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return n
		}
		if _, err := x509.ParseCertificate(blk.Bytes); err != nil {
			t.Fatalf("CA root %d: %v", n, err)
		}
		n++
	}
}

// TestFileCapabilityIsWhatSetcapWrites compares the PAX value with the
// extended attribute libcap's setcap writes.
func TestFileCapabilityIsWhatSetcapWrites(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("setcap needs root")
	}
	if _, err := exec.LookPath("setcap"); err != nil {
		t.Skip("setcap not installed (Debian libcap2-bin)")
	}
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("setcap", "cap_net_bind_service=+ep", p).CombinedOutput(); err != nil {
		t.Fatalf("setcap: %v: %s", err, out)
	}
	buf := make([]byte, 64)
	n, err := unix.Getxattr(p, "security.capability", buf)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := buf[:n], []byte(FileCapability(CapNetBindService)); !bytes.Equal(got, want) {
		t.Fatalf("setcap wrote %x, FileCapability gives %x", got, want)
	}
}

func TestALayerRejectsTheRootAndDuplicatePaths(t *testing.T) {
	if _, err := Layer([]File{{Path: "/"}}, time.Time{}); err == nil {
		t.Error("a root entry was accepted")
	}
	if _, err := Layer([]File{{Path: "/a"}, {Path: "a"}}, time.Time{}); err == nil {
		t.Error("/a given twice was accepted")
	}
}

func TestALayerAddsParentDirectoriesInOrder(t *testing.T) {
	gz, err := Layer([]File{{Path: "/usr/bin/x", Mode: 0o755, Data: []byte("x")}, {Path: "/a", Link: "/usr/bin/x"}}, time.Unix(5, 0))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.Equal(time.Unix(5, 0)) {
			t.Errorf("%s: mtime %v", h.Name, h.ModTime)
		}
		names = append(names, h.Name)
	}
	if want := []string{"a", "usr/", "usr/bin/", "usr/bin/x"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("entries %v, want %v", names, want)
	}
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
}

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
