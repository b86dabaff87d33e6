package image

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/k8slint/k8slint/internal/testenv"
)

// dockerfileShape is what the final stage of a Dockerfile gives the image,
// in the terms of a Spec.
type dockerfileShape struct {
	User, WorkingDir string
	Entrypoint       []string
	Ports            []string
	Capability       []int  // from `setcap caps=+ep FILE` on the entrypoint
	CACerts          string // where the CA bundle is copied to
}

// shapeOfDockerfile reads the instructions that decide the image's shape.
// It knows the few forms deploy/Dockerfile uses and fails on others, so a
// rewrite of the Dockerfile cannot slip past it.
func shapeOfDockerfile(text string) (dockerfileShape, error) {
	var s dockerfileShape
	var setcap []string
	final := false
	for i, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		where := fmt.Sprintf("line %d", i+1)
		switch strings.ToUpper(f[0]) {
		case "FROM":
			final = true // the last FROM wins: reset what the stage gives
			s = dockerfileShape{}
		case "RUN":
			if len(f) >= 4 && f[1] == "setcap" {
				setcap = f[2:]
			}
		case "USER":
			s.User = strings.Join(f[1:], " ")
		case "WORKDIR":
			s.WorkingDir = strings.Join(f[1:], " ")
		case "EXPOSE":
			for _, p := range f[1:] {
				if !strings.Contains(p, "/") {
					p += "/tcp"
				}
				s.Ports = append(s.Ports, p)
			}
			sort.Strings(s.Ports)
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(strings.TrimSpace(strings.TrimPrefix(line, f[0]))), &s.Entrypoint); err != nil {
				return s, fmt.Errorf("%s: ENTRYPOINT is not in exec form: %v", where, err)
			}
		case "COPY":
			if strings.HasSuffix(f[len(f)-2], "ca-certificates.crt") {
				s.CACerts = f[len(f)-1]
			}
		}
	}
	if !final {
		return s, fmt.Errorf("no FROM")
	}
	if len(setcap) != 2 || len(s.Entrypoint) == 0 || setcap[1] != s.Entrypoint[0] {
		return s, fmt.Errorf("no `RUN setcap CAPS %v`", s.Entrypoint)
	}
	caps, ok := strings.CutSuffix(setcap[0], "=+ep")
	if !ok {
		return s, fmt.Errorf("setcap %s: want CAPS=+ep", setcap[0])
	}
	for _, c := range strings.Split(caps, ",") {
		n, ok := map[string]int{"cap_net_bind_service": CapNetBindService}[c]
		if !ok {
			return s, fmt.Errorf("setcap: capability %s unknown here", c)
		}
		s.Capability = append(s.Capability, n)
	}
	return s, nil
}

// specShape is the same view of what `make image` builds.
func specShape(t *testing.T) dockerfileShape {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "coredns")
	if err := os.WriteFile(bin, []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := CoreDNSSpec(BuildInfo{Created: time.Unix(0, 0), Binaries: map[string]string{"linux/amd64": bin}})
	if err != nil {
		t.Fatal(err)
	}
	var caps []int
	for _, f := range s.Platforms[0].Files {
		if f.Path == s.Config.Entrypoint[0] {
			caps, _, err = ParseFileCapability(f.Xattrs["security.capability"])
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	ports := append([]string(nil), s.Config.Ports...)
	sort.Strings(ports)
	return dockerfileShape{User: s.Config.User, WorkingDir: s.Config.WorkingDir, Entrypoint: s.Config.Entrypoint, Ports: ports, Capability: caps, CACerts: CACertsPath}
}

func TestDeployDockerfileBuildsTheShapeMakeImageBuilds(t *testing.T) {
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(filepath.Join(root, "deploy", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := shapeOfDockerfile(string(text))
	if err != nil {
		t.Fatalf("deploy/Dockerfile: %v", err)
	}
	if want := specShape(t); !reflect.DeepEqual(got, want) {
		t.Fatalf("deploy/Dockerfile gives\n%+v\nmake image gives\n%+v", got, want)
	}
}

// The comparison above catches a Dockerfile that runs as root or lost its
// setcap.
func TestTheDockerfileShapeCatchesARootUserAndAMissingCapability(t *testing.T) {
	want := specShape(t)
	root := "FROM scratch\nRUN setcap cap_net_bind_service=+ep /coredns\nCOPY a /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt\nUSER 0\nWORKDIR /\nEXPOSE 53 53/udp\nENTRYPOINT [\"/coredns\"]\n"
	got, err := shapeOfDockerfile(root)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(got, want) {
		t.Fatal("a Dockerfile with USER 0 compared equal")
	}
	if _, err := shapeOfDockerfile(strings.Replace(root, "RUN setcap cap_net_bind_service=+ep /coredns\n", "", 1)); err == nil {
		t.Fatal("a Dockerfile without setcap was accepted")
	}
}
