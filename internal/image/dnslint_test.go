package image

import (
	"reflect"
	"testing"
	"time"
)

func TestTheDNSLintImageRunsDNSLintAsNonRootWithoutACapability(t *testing.T) {
	bins := fakeBinaries(t)
	s, err := DNSLintSpec(BuildInfo{Version: "v1", Created: time.Unix(0, 0), Binaries: bins})
	if err != nil {
		t.Fatal(err)
	}
	if c := s.Config; !reflect.DeepEqual(c.Entrypoint, []string{"/dnslint"}) || c.User != User || c.WorkingDir != "/" || len(c.Ports) != 0 {
		t.Errorf("config %+v, want entrypoint /dnslint, user %s, workdir /, no ports", c, User)
	}
	if len(s.Platforms) != len(Platforms) {
		t.Fatalf("%d platforms, want %d", len(s.Platforms), len(Platforms))
	}
	for _, p := range s.Platforms {
		found := false
		for _, f := range p.Files {
			if f.Path == "/dnslint" {
				found = true
				if len(f.Xattrs) != 0 || f.Mode != 0o755 {
					t.Errorf("%s/%s: /dnslint mode %o xattrs %v, want 0755 and none", p.OS, p.Arch, f.Mode, f.Xattrs)
				}
			}
		}
		if !found {
			t.Errorf("%s/%s: no /dnslint", p.OS, p.Arch)
		}
	}
}
