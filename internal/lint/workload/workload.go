// Package workload turns the workload objects of a loaded manifest (Pod,
// Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController,
// Job, CronJob, PodTemplate, also inside a List) into pod specs with
// positions: the DNS fields kubelet reads (dnsPolicy, hostNetwork,
// dnsConfig), the containers and their images, and the hostnames the pod's
// containers are given in env values, command/args and the ConfigMaps of
// the same input they consume (envFrom, configMapKeyRef, mounted keys).
//
// Where a key appears twice in a mapping (hand-edited or templated YAML),
// the model takes the last one, as the API server's JSON decoding does; the
// earlier ones are kept so rules can point at them.
package workload

import (
	"strings"
	"unicode/utf8"

	"github.com/k8slint/k8slint/internal/lint/manifest"
	"github.com/k8slint/k8slint/internal/lint/textedit"
	"github.com/k8slint/k8slint/internal/parallel"
	"gopkg.in/yaml.v3"
)

// Scalar is one scalar of the pod spec with its position.
type Scalar struct {
	Value  string
	Node   *yaml.Node
	Offset int // file offset of the value
	// KeyOffset is the file offset of the key holding the value, or of the
	// sequence item.
	KeyOffset int
}

// Pod is one pod spec of a manifest object.
type Pod struct {
	Object     *manifest.Object
	Kind, Name string
	Namespace  string // from metadata; "" when absent
	Spec       *yaml.Node
	SpecOffset int // file offset of the pod spec's first key
	// DNSPolicy is the last dnsPolicy key, nil when absent (ClusterFirst).
	DNSPolicy *Scalar
	// DNSPolicyDups are the dnsPolicy keys before the last one.
	DNSPolicyDups []Scalar
	HostNetwork   *Scalar // nil when absent
	DNSConfig     *DNSConfig
	Containers    []Container
	Hosts         []Host
	src           *source
}

// HostNetworkOn reports whether the pod runs in the host's network namespace.
func (p *Pod) HostNetworkOn() bool { return p.HostNetwork != nil && p.HostNetwork.Value == "true" }

// Policy returns the dnsPolicy as written, "" when absent.
func (p *Pod) Policy() string {
	if p.DNSPolicy == nil {
		return ""
	}
	return p.DNSPolicy.Value
}

// Src returns the bytes of the file the pod was read from.
func (p *Pod) Src() []byte { return p.src.b }

// Describe names the object for messages: "Deployment shop/web".
func (p *Pod) Describe() string {
	n := p.Name
	if p.Namespace != "" {
		n = p.Namespace + "/" + n
	}
	if n == "" {
		n = "(unnamed)"
	}
	return p.Kind + " " + n
}

// DNSConfig is spec.dnsConfig.
type DNSConfig struct {
	Key         Scalar // the dnsConfig key; Node is the mapping
	Nameservers []Scalar
	Searches    []Scalar
	Options     []Option
	// NameserversNode, SearchesNode and OptionsNode are the sequences, nil
	// when absent.
	NameserversNode, SearchesNode, OptionsNode *yaml.Node
}

// Option is one entry of dnsConfig.options.
type Option struct {
	Item  *yaml.Node // the mapping
	Name  Scalar
	Value *Scalar // nil when absent
}

// Container is one container or init container.
type Container struct {
	Name  string
	Image Scalar
	Init  bool
}

// Host is a hostname a container is given.
type Host struct {
	Name      string // lower-case, as written (a trailing dot kept)
	Offset    int    // file offset of the name, or of the value holding it
	Container string
	// Source says where it was found: "env DB_HOST", "args",
	// "ConfigMap shop/app key DATABASE_URL".
	Source string
}

// podSpecPath is where each kind keeps its pod spec.
var podSpecPath = map[string][]string{
	"Pod":                   {"spec"},
	"Deployment":            {"spec", "template", "spec"},
	"StatefulSet":           {"spec", "template", "spec"},
	"DaemonSet":             {"spec", "template", "spec"},
	"ReplicaSet":            {"spec", "template", "spec"},
	"ReplicationController": {"spec", "template", "spec"},
	"Job":                   {"spec", "template", "spec"},
	"CronJob":               {"spec", "jobTemplate", "spec", "template", "spec"},
	"PodTemplate":           {"template", "spec"},
}

// source converts yaml.v3 positions (1-based line, column in characters)
// into byte offsets of the file.
type source struct {
	b     []byte
	lines textedit.Lines
}

func newSource(f *manifest.File) *source {
	return &source{b: f.Src, lines: f.Lines()}
}

func (s *source) offset(n *yaml.Node) int {
	if n == nil || n.Line < 1 {
		return 0
	}
	o := s.lines.Start(n.Line)
	for c := 1; c < n.Column && o < len(s.b) && s.b[o] != '\n'; c++ {
		_, w := utf8.DecodeRune(s.b[o:])
		o += w
	}
	return o
}

// Load returns the pod specs of every workload object of f.
func Load(f *manifest.File) []*Pod { return LoadN(f, 1) }

// LoadN is Load with the pod specs read by up to workers goroutines; the
// result is the same as Load's. Each pod is read on its own from f, which
// is only read.
func LoadN(f *manifest.File, workers int) []*Pod {
	if f == nil {
		return nil
	}
	var src *source
	var out []*Pod
	cms := configMaps(f)
	for _, o := range f.Objects {
		path, ok := podSpecPath[o.Kind]
		if !ok {
			continue
		}
		spec := o.Node
		for _, k := range path {
			spec = last(spec, k)
		}
		if spec == nil || spec.Kind != yaml.MappingNode {
			continue
		}
		if src == nil {
			src = newSource(f)
		}
		out = append(out, &Pod{Object: o, Kind: o.Kind, Name: o.Name, Namespace: o.Namespace, Spec: spec, src: src})
	}
	parallel.For(len(out), workers, func(i int) { out[i].read(cms) })
	return out
}

// last returns the value of the last key named key in mapping m, or nil.
func last(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	var v *yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			v = m.Content[i+1]
		}
	}
	return v
}

// all returns every key/value pair named key in m.
func all(m *yaml.Node, key string) [][2]*yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	var out [][2]*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			out = append(out, [2]*yaml.Node{m.Content[i], m.Content[i+1]})
		}
	}
	return out
}

func str(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

func seq(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

func (p *Pod) scalar(k, v *yaml.Node) Scalar {
	return Scalar{Value: str(v), Node: v, Offset: p.src.offset(v), KeyOffset: p.src.offset(k)}
}

func (p *Pod) read(cms map[string]*manifest.Object) {
	s := p.Spec
	if len(s.Content) > 0 {
		p.SpecOffset = p.src.offset(s.Content[0])
	}
	pol := all(s, "dnsPolicy")
	for i, kv := range pol {
		sc := p.scalar(kv[0], kv[1])
		if i == len(pol)-1 {
			p.DNSPolicy = &sc
		} else {
			p.DNSPolicyDups = append(p.DNSPolicyDups, sc)
		}
	}
	if kv := all(s, "hostNetwork"); len(kv) > 0 {
		sc := p.scalar(kv[len(kv)-1][0], kv[len(kv)-1][1])
		p.HostNetwork = &sc
	}
	if kv := all(s, "dnsConfig"); len(kv) > 0 {
		p.readDNSConfig(kv[len(kv)-1][0], kv[len(kv)-1][1])
	}
	volumes := map[string]*yaml.Node{}
	for _, v := range seq(last(s, "volumes")) {
		if cm := last(v, "configMap"); cm != nil {
			volumes[str(last(v, "name"))] = cm
		}
	}
	for _, group := range []struct {
		key  string
		init bool
	}{{"initContainers", true}, {"containers", false}} {
		for _, c := range seq(last(s, group.key)) {
			ct := Container{Name: str(last(c, "name")), Init: group.init}
			if kv := all(c, "image"); len(kv) > 0 {
				ct.Image = p.scalar(kv[len(kv)-1][0], kv[len(kv)-1][1])
			}
			p.Containers = append(p.Containers, ct)
			p.containerHosts(c, ct.Name, cms, volumes)
		}
	}
}

func (p *Pod) readDNSConfig(k, v *yaml.Node) {
	dc := &DNSConfig{Key: p.scalar(k, v)}
	dc.Key.Node = v
	p.DNSConfig = dc
	if v.Kind != yaml.MappingNode {
		return
	}
	dc.NameserversNode = last(v, "nameservers")
	for _, n := range seq(dc.NameserversNode) {
		dc.Nameservers = append(dc.Nameservers, p.scalar(n, n))
	}
	dc.SearchesNode = last(v, "searches")
	for _, n := range seq(dc.SearchesNode) {
		dc.Searches = append(dc.Searches, p.scalar(n, n))
	}
	dc.OptionsNode = last(v, "options")
	for _, it := range seq(dc.OptionsNode) {
		if it.Kind != yaml.MappingNode {
			continue
		}
		o := Option{Item: it}
		if kv := all(it, "name"); len(kv) > 0 {
			o.Name = p.scalar(kv[len(kv)-1][0], kv[len(kv)-1][1])
		}
		if kv := all(it, "value"); len(kv) > 0 {
			sc := p.scalar(kv[len(kv)-1][0], kv[len(kv)-1][1])
			o.Value = &sc
		}
		dc.Options = append(dc.Options, o)
	}
}

// configMaps indexes the ConfigMaps of f by "namespace/name".
func configMaps(f *manifest.File) map[string]*manifest.Object {
	out := map[string]*manifest.Object{}
	for _, o := range f.Objects {
		if o.Kind == "ConfigMap" && o.Name != "" {
			out[o.Namespace+"/"+o.Name] = o
		}
	}
	return out
}

// configMap finds ConfigMap name for a pod in ns: same namespace, or one
// side without a namespace (both are applied into the same one).
func configMap(cms map[string]*manifest.Object, ns, name string) *manifest.Object {
	if o := cms[ns+"/"+name]; o != nil {
		return o
	}
	if ns == "" {
		for k, o := range cms {
			if strings.HasSuffix(k, "/"+name) {
				return o
			}
		}
		return nil
	}
	return cms["/"+name]
}

func (p *Pod) add(hosts []string, container, source string, n *yaml.Node) {
	base := p.src.offset(n)
	for _, h := range hosts {
		off := base
		// Point at the name itself when the file holds it verbatim
		// near the value (plain, quoted or block scalars without escapes).
		lim := min(len(p.src.b), base+len(n.Value)+64*(1+strings.Count(n.Value, "\n")))
		if i := indexFold(p.src.b[base:lim], h); i >= 0 {
			off = base + i
		}
		p.Hosts = append(p.Hosts, Host{Name: strings.ToLower(h), Offset: off, Container: container, Source: source})
	}
}

// indexFold returns the index of s in b, ignoring case, as an index into
// b lowered with strings.ToLower; -1 when absent.
func indexFold(b []byte, s string) int {
	if !isASCII(b) || !isASCII(s) {
		return strings.Index(strings.ToLower(string(b)), strings.ToLower(s))
	}
	// ASCII: lowering keeps every byte in place, so search in place.
	for i := 0; i+len(s) <= len(b); i++ {
		if asciiEqualFold(b[i:i+len(s)], s) {
			return i
		}
	}
	return -1
}

func isASCII[T []byte | string](b T) bool {
	for i := range len(b) {
		if b[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func asciiEqualFold(b []byte, s string) bool {
	for i := range len(s) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func (p *Pod) containerHosts(c *yaml.Node, name string, cms map[string]*manifest.Object, volumes map[string]*yaml.Node) {
	for _, e := range seq(last(c, "env")) {
		en := str(last(e, "name"))
		if v := last(e, "value"); v != nil && v.Kind == yaml.ScalarNode {
			p.add(Extract(v.Value, en), name, "env "+en, v)
		}
		ref := last(last(e, "valueFrom"), "configMapKeyRef")
		if ref == nil {
			continue
		}
		cm := configMap(cms, p.Namespace, str(last(ref, "name")))
		if cm == nil {
			continue
		}
		key := str(last(ref, "key"))
		if v := last(last(cm.Node, "data"), key); v != nil && v.Kind == yaml.ScalarNode {
			ctx := en // either name may say the value holds a host
			if hostKey.MatchString(key) {
				ctx = key
			}
			p.add(Extract(v.Value, ctx), name, cmSource(cm, key), v)
		}
	}
	for _, ef := range seq(last(c, "envFrom")) {
		ref := last(ef, "configMapRef")
		if ref == nil {
			continue
		}
		if cm := configMap(cms, p.Namespace, str(last(ref, "name"))); cm != nil {
			prefix := str(last(ef, "prefix"))
			p.configMapHosts(cm, nil, name, prefix)
		}
	}
	// flag is the argument before when it was a flag without a value; cmd
	// a host command (nc, ping) whose first non-flag argument is a host.
	var flag, cmd string
	for _, key := range []string{"command", "args"} {
		for _, a := range seq(last(c, key)) {
			if a.Kind != yaml.ScalarNode {
				continue
			}
			ctx := flag
			if cmd != "" && !strings.HasPrefix(a.Value, "-") {
				ctx, cmd = cmd, ""
			}
			p.add(ExtractArg(a.Value, ctx), name, key, a)
			flag = ""
			switch {
			case HostCommand(a.Value):
				cmd = a.Value
			case strings.HasPrefix(a.Value, "-") && !strings.Contains(a.Value, "="):
				flag = a.Value
			}
		}
	}
	for _, m := range seq(last(c, "volumeMounts")) {
		vol := volumes[str(last(m, "name"))]
		if vol == nil {
			continue
		}
		cm := configMap(cms, p.Namespace, str(last(vol, "name")))
		if cm == nil {
			continue
		}
		var keys map[string]bool
		if items := seq(last(vol, "items")); items != nil {
			keys = map[string]bool{}
			for _, it := range items {
				keys[str(last(it, "key"))] = true
			}
		}
		if sub := str(last(m, "subPath")); sub != "" {
			keys = map[string]bool{sub: true}
		}
		p.configMapHosts(cm, keys, name, "")
	}
}

// configMapHosts extracts the hostnames of ConfigMap cm's data keys (only
// those in keys, when keys is not nil).
func (p *Pod) configMapHosts(cm *manifest.Object, keys map[string]bool, container, prefix string) {
	data := manifest.Get(cm.Node, "data")
	if data == nil || data.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(data.Content); i += 2 {
		k, v := data.Content[i].Value, data.Content[i+1]
		if keys != nil && !keys[k] || v.Kind != yaml.ScalarNode {
			continue
		}
		p.add(Extract(v.Value, prefix+k), container, cmSource(cm, k), v)
	}
}

func cmSource(cm *manifest.Object, key string) string {
	n := cm.Name
	if cm.Namespace != "" {
		n = cm.Namespace + "/" + n
	}
	return "ConfigMap " + n + " key " + key
}
