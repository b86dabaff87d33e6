package image

import (
	"encoding/pem"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// The user the images run as: distroless's "nonroot", the stock CoreDNS
// image's user, given by number so that kubelet can check runAsNonRoot.
const (
	NonRootUID = 65532
	User       = "65532:65532"
)

// Repository names of the images `make image` writes.
const (
	CoreDNSRepo = "docker.io/k8slint/coredns-custom"
	DNSLintRepo = "docker.io/k8slint/dnslint"
)

// CACertsPath is where the images carry the CA roots, as Debian and the
// stock CoreDNS image do (Go's crypto/x509 reads it there).
const CACertsPath = "/etc/ssl/certs/ca-certificates.crt"

// BuildInfo says what an image is made of: the commit and version it was
// built from, and the binary for each platform ("linux/amd64" → path).
type BuildInfo struct {
	Version  string
	Revision string
	Source   string // repository URL
	Created  time.Time
	Binaries map[string]string
}

// Platforms are the platforms `make image` builds, in index order.
var Platforms = []string{"linux/amd64", "linux/arm64"}

// CoreDNSSpec is the coredns-custom image, shaped like the stock CoreDNS
// v1.15.0 image (distroless static nonroot with /coredns): entrypoint
// /coredns with the file capability cap_net_bind_service=+ep, user
// 65532:65532, working directory /, ports 53/udp and 53/tcp, CA roots.
func CoreDNSSpec(b BuildInfo) (Spec, error) {
	return spec(b, "/coredns", map[string]string{"security.capability": FileCapability(CapNetBindService)},
		Config{Ports: []string{"53/tcp", "53/udp"}},
		"coredns-custom", "CoreDNS v1.15.0 with every stock plugin and k8slint")
}

// DNSLintSpec is the dnslint image: entrypoint /dnslint, the same user and
// base files as the CoreDNS image, no capability.
func DNSLintSpec(b BuildInfo) (Spec, error) {
	return spec(b, "/dnslint", nil, Config{}, "dnslint", "Linter for CoreDNS Corefiles and pod DNS settings")
}

func spec(b BuildInfo, entry string, xattrs map[string]string, c Config, title, description string) (Spec, error) {
	certs, err := CACerts()
	if err != nil {
		return Spec{}, err
	}
	c.Entrypoint = []string{entry}
	c.User = User
	c.WorkingDir = "/"
	c.Env = []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"SSL_CERT_FILE=" + CACertsPath,
	}
	c.Labels = map[string]string{
		"org.opencontainers.image.title":       title,
		"org.opencontainers.image.description": description,
		"org.opencontainers.image.source":      b.Source,
		"org.opencontainers.image.version":     b.Version,
		"org.opencontainers.image.revision":    b.Revision,
		"org.opencontainers.image.created":     b.Created.UTC().Format(time.RFC3339),
	}
	s := Spec{Created: b.Created, Config: c, Annotations: c.Labels}
	for _, pl := range Platforms {
		path, ok := b.Binaries[pl]
		if !ok {
			continue
		}
		bin, err := os.ReadFile(path)
		if err != nil {
			return Spec{}, err
		}
		p, err := ParsePlatform(pl)
		if err != nil {
			return Spec{}, err
		}
		p.Files = append(BaseFiles(certs), File{Path: entry, Mode: 0o755, Data: bin, Xattrs: xattrs})
		s.Platforms = append(s.Platforms, p)
	}
	if len(s.Platforms) == 0 {
		return Spec{}, fmt.Errorf("no binary for any of %v", Platforms)
	}
	return s, nil
}

// ParsePlatform reads "os/arch[/variant]".
func ParsePlatform(s string) (Platform, error) {
	var p Platform
	parts := strings.Split(s, "/")
	switch len(parts) {
	case 3:
		p.Variant = parts[2]
		fallthrough
	case 2:
		p.OS, p.Arch = parts[0], parts[1]
	default:
		return p, fmt.Errorf("platform %q: want os/arch", s)
	}
	if p.OS == "" || p.Arch == "" {
		return p, fmt.Errorf("platform %q: want os/arch", s)
	}
	return p, nil
}

// BaseFiles are what distroless static nonroot gives the stock image and a
// static binary needs: users root, nobody and nonroot (65532) with their
// groups, nsswitch.conf, a sticky /tmp, nonroot's home, and the CA roots.
func BaseFiles(caCerts []byte) []File {
	return []File{
		{Path: "/etc/passwd", Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")},
		{Path: "/etc/group", Mode: 0o644, Data: []byte("root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n")},
		{Path: "/etc/nsswitch.conf", Mode: 0o644, Data: []byte("hosts: files dns\n")},
		{Path: CACertsPath, Mode: 0o644, Data: caCerts},
		{Path: "/tmp", Dir: true, Mode: 0o1777},
		{Path: "/home/nonroot", Dir: true, Mode: 0o700, UID: NonRootUID, GID: NonRootUID},
		{Path: "/root", Dir: true, Mode: 0o700},
	}
}

// CACerts returns the Mozilla NSS roots of golang.org/x/crypto/x509roots
// (a version pinned in go.mod, so the bytes follow from the commit) as a
// PEM bundle. Roots with constraints X.509 cannot express (a distrust
// date) are left out: a PEM file would trust them without the constraint.
func CACerts() ([]byte, error) {
	var out []byte
	for r := range bundle.Roots() {
		if r.Constraint != nil {
			continue
		}
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.Certificate})...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no CA roots in golang.org/x/crypto/x509roots/fallback/bundle")
	}
	return out, nil
}
