package lint

import (
	"bytes"
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/k8slint/k8slint/internal/lint/corefile"
	"github.com/k8slint/k8slint/internal/lint/manifest"
	"github.com/k8slint/k8slint/internal/lint/textedit"
	"github.com/k8slint/k8slint/internal/lint/workload"
)

// MaxFileSize bounds what dnslint reads: a Corefile or manifest larger than
// this is a mistake, and refusing it keeps the run fast and bounded.
const MaxFileSize = 8 << 20

// Unit is one Corefile to lint: a Corefile file, or one Corefile key of a
// ConfigMap in a manifest.
type Unit struct {
	Input   *Input
	Context string // "ConfigMap kube-system/coredns, key Corefile"; "" for a Corefile file
	// Snippet marks *.override keys: directives spliced into a server
	// block, not a Corefile of their own.
	Snippet  bool
	Corefile *corefile.File
	Object   *manifest.Object // the ConfigMap, or nil
	emb      *manifest.Embedded
}

// ToFile maps an offset in the unit's Corefile to one in the input file.
func (u *Unit) ToFile(off int) int {
	if u.emb != nil {
		return u.emb.ToFile(off)
	}
	return off
}

// mapEdits maps Corefile edits to file edits; nil when the unit cannot be
// edited in place.
func (u *Unit) mapEdits(es []Edit) []Edit {
	if u.emb != nil {
		return u.emb.MapEdits(es)
	}
	return es
}

// noFix says why the unit's fixes cannot be applied in place.
func (u *Unit) noFix() string {
	if u.emb != nil && u.emb.NoFix != "" {
		return u.emb.NoFix
	}
	return "applied in place the fix would change how YAML folds the Corefile; write it as a literal block (|)"
}

// Input is one loaded file.
type Input struct {
	Path     string
	Src      []byte
	Units    []*Unit
	Manifest *manifest.File // nil for a Corefile
	// Workloads are the pod specs of the manifest's workload objects.
	Workloads []*workload.Pod
	lines     textedit.Lines
}

// Kind says how to read a file.
type Kind int

// Kinds of input.
const (
	KindUnknown Kind = iota
	KindCorefile
	KindManifest
)

// KindOf recognises a file by name: Corefile*, *.Corefile, *.server and
// *.override are Corefiles; .yaml, .yml and .json are manifests.
func KindOf(path string) Kind {
	b := filepath.Base(path)
	switch {
	case strings.HasPrefix(b, "Corefile"), strings.HasSuffix(b, ".Corefile"), strings.HasSuffix(b, ".corefile"),
		strings.HasSuffix(b, ".server"), strings.HasSuffix(b, ".override"):
		return KindCorefile
	case strings.HasSuffix(b, ".yaml"), strings.HasSuffix(b, ".yml"), strings.HasSuffix(b, ".json"):
		return KindManifest
	}
	return KindUnknown
}

// sniff decides by content: a manifest names apiVersion and kind.
func sniff(src []byte) Kind {
	head := src
	if len(head) > 64<<10 {
		head = head[:64<<10]
	}
	if (bytes.Contains(head, []byte("apiVersion")) && bytes.Contains(head, []byte("kind"))) || bytes.HasPrefix(bytes.TrimSpace(head), []byte("{")) {
		return KindManifest
	}
	return KindCorefile
}

// Load reads one file. It fails only for input it refuses outright (too
// large); everything else it cannot read becomes a finding at Run.
func Load(path string, src []byte) (*Input, error) { return LoadN(path, src, 1) }

// LoadN is Load with the documents of a manifest parsed, and its pod specs
// read, by up to workers goroutines. The Input is the same as Load's.
func LoadN(path string, src []byte, workers int) (*Input, error) {
	k := KindOf(path)
	if k == KindUnknown {
		k = sniff(src)
	}
	return load(path, src, k, workers)
}

// LoadManifest is LoadN for src known to be a manifest whatever its name
// says: an object read from a cluster, named cluster://NS/KIND/NAME.
func LoadManifest(path string, src []byte, workers int) (*Input, error) {
	return load(path, src, KindManifest, workers)
}

func load(path string, src []byte, k Kind, workers int) (*Input, error) {
	if len(src) > MaxFileSize {
		return nil, fmt.Errorf("%s: file too large (%d bytes; dnslint reads at most %d)", path, len(src), MaxFileSize)
	}
	in := &Input{Path: path, Src: src}
	if k == KindCorefile {
		in.lines = textedit.NewLines(src)
		snip := strings.HasSuffix(path, ".override")
		in.Units = append(in.Units, &Unit{Input: in, Snippet: snip, Corefile: parse(path, src, snip)})
		return in, nil
	}
	in.Manifest = manifest.LoadN(src, workers)
	in.lines = in.Manifest.Lines()
	in.Workloads = workload.LoadN(in.Manifest, workers)
	for _, o := range in.Manifest.Objects {
		for i := range o.Corefiles {
			e := &o.Corefiles[i]
			ctx := fmt.Sprintf("ConfigMap %s, key %s", qualified(o), e.Key)
			if o.Kind == "" {
				ctx = "ConfigMap data without kind, key " + e.Key
			}
			in.Units = append(in.Units, &Unit{Input: in, Context: ctx, Snippet: e.Snippet, Corefile: parse(e.Key, []byte(e.Text), e.Snippet), Object: o, emb: e})
		}
	}
	return in, nil
}

func qualified(o *manifest.Object) string {
	if o.Namespace == "" {
		return o.Name
	}
	return o.Namespace + "/" + o.Name
}

// Position returns the 1-based line and byte column of a file offset.
func (in *Input) Position(off int) (line, col int) {
	return in.lines.Position(off)
}

// RuneColumn returns the 1-based column of a file offset counted in
// Unicode code points (an invalid UTF-8 byte counts as one).
func (in *Input) RuneColumn(off int) int {
	line, col := in.Position(off)
	start := in.lines.Start(line)
	return utf8.RuneCount(in.Src[start:min(start+col-1, len(in.Src))]) + 1
}

func parse(name string, src []byte, snippet bool) *corefile.File {
	if snippet {
		return corefile.ParseSnippet(name, src)
	}
	return corefile.Parse(name, src)
}

// Where a CoreDNS pod mounts its ConfigMaps: kubeadm and every distribution
// run `-conf /etc/coredns/Corefile` from the coredns ConfigMap, and k3s and
// AKS mount the coredns-custom ConfigMap at /etc/coredns/custom.
const (
	PodConfigDir = "/etc/coredns"
	PodCustomDir = "/etc/coredns/custom"
)

// PodFiles returns where the unit's Corefile lives in the CoreDNS pod and
// the files its input provides there, by absolute path: every key of the
// unit's own ConfigMap in its directory, and every key of a coredns-custom
// ConfigMap given in the same input in PodCustomDir. A Corefile file is
// taken to be mounted as /etc/coredns/Corefile and provides nothing else.
func (u *Unit) PodFiles() (corefile string, files map[string][]byte) {
	files = map[string][]byte{}
	if u.Object == nil || u.Input.Manifest == nil {
		return path.Join(PodConfigDir, "Corefile"), files
	}
	dirOf := func(o *manifest.Object) string {
		if o == u.Object {
			if o.Name == "coredns-custom" {
				return PodCustomDir
			}
			return PodConfigDir
		}
		if o.Kind == "ConfigMap" && o.Name == "coredns-custom" {
			return PodCustomDir
		}
		return ""
	}
	for _, o := range u.Input.Manifest.Objects {
		dir := dirOf(o)
		if dir == "" {
			continue
		}
		for k, v := range o.Data {
			files[path.Join(dir, k)] = []byte(v)
		}
	}
	return path.Join(dirOf(u.Object), u.emb.Key), files
}
