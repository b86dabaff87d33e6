// Package monitoring renders the k8slint monitoring mixin (Jsonnet, in this
// directory) into the files it ships: prometheus_alerts.yaml,
// prometheus_rules.yaml, the PrometheusRule manifest prometheusrule.yaml and
// the Grafana dashboards in dashboards_out/. The tests check that the
// committed files are what the mixin renders, and hold the rules and the
// dashboard against Prometheus's parser, its rule-test engine and the
// metrics the built coredns-custom really exports.
package monitoring

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"

	"github.com/google/go-jsonnet"
)

//go:embed *.libsonnet render.jsonnet alerts/*.libsonnet rules/*.libsonnet dashboards/*.libsonnet lib/*.libsonnet
var sources embed.FS

// Render evaluates render.jsonnet and returns each output file's path
// (relative to this directory) and contents. extra, if not empty, is Jsonnet
// merged into the mixin's _config, e.g. `{ corednsSelector: 'job="coredns"' }`.
func Render(extra string) (map[string]string, error) {
	vm := jsonnet.MakeVM()
	vm.Importer(&embedImporter{cache: map[string]jsonnet.Contents{}})
	if extra == "" {
		extra = "{}"
	}
	top := "(import 'render.jsonnet')((import 'mixin.libsonnet') + { _config+:: " + extra + " })"
	out, err := vm.EvaluateAnonymousSnippet("render-main.jsonnet", top)
	if err != nil {
		return nil, err
	}
	var files map[string]string
	if err := json.Unmarshal([]byte(out), &files); err != nil {
		return nil, fmt.Errorf("render.jsonnet: want an object of strings: %v", err)
	}
	return files, nil
}

// Names returns the rendered file names, sorted.
func Names(files map[string]string) []string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// embedImporter resolves imports relative to the importing file inside the
// embedded sources, as jsonnet does on disk. The VM wants the same Contents
// each time a file is imported again.
type embedImporter struct {
	cache map[string]jsonnet.Contents
}

func (im *embedImporter) Import(importedFrom, importedPath string) (jsonnet.Contents, string, error) {
	p := path.Clean(path.Join(path.Dir(importedFrom), importedPath))
	if c, ok := im.cache[p]; ok {
		return c, p, nil
	}
	b, err := fs.ReadFile(sources, p)
	if err != nil {
		return jsonnet.Contents{}, "", fmt.Errorf("import %q from %q: %v", importedPath, importedFrom, err)
	}
	c := jsonnet.MakeContents(string(b))
	im.cache[p] = c
	return c, p, nil
}
