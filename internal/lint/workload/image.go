package workload

import (
	"strings"

	"github.com/k8slint/k8slint/internal/resolver"
)

// Family is what an image reference says about the resolver its programs
// use.
type Family struct {
	Kind  resolver.Kind
	Known bool   // false: the reference says nothing dnslint trusts
	Why   string // the evidence, for messages
}

// ImageFamily guesses the stub resolver of an image from its reference
// alone (dnslint pulls nothing):
//
//   - musl: "alpine" or "musl" anywhere in the reference (alpine:3.19,
//     python:3.12-alpine, nginx:alpine, busybox:musl), and images known to
//     be Alpine-based by default (grafana/grafana).
//   - glibc: a Debian, Ubuntu, RHEL-family, Amazon Linux or Wolfi name or
//     tag (debian, bookworm, slim, ubuntu, jammy, ubi9, centos, ...),
//     distroless base/cc/java/python/nodejs, bitnami images (Debian), and
//     official Docker images whose default variant is Debian or Ubuntu
//     (python, node, ruby, openjdk, nginx, postgres, redis, ...) when the
//     tag names no other variant.
//   - go: Go binaries with Go's own resolver: Kubernetes components from
//     registry.k8s.io, Prometheus, CoreDNS, distroless/static.
//   - unknown otherwise. The limits: the resolver is the application's,
//     not the base image's — a Go program on a Debian image uses Go's
//     resolver, a static binary has none of the image's libc — and a
//     private image says nothing about its base. Use --resolver when the
//     guess is wrong or unknown.
func ImageFamily(ref string) Family {
	r := strings.ToLower(ref)
	if i := strings.IndexByte(r, '@'); i >= 0 {
		r = r[:i]
	}
	repo, tag := r, ""
	if i := strings.LastIndexByte(r, ':'); i > strings.LastIndexByte(r, '/') {
		repo, tag = r[:i], r[i+1:]
	}
	// Docker Hub's official images: "python", "library/python",
	// "docker.io/library/python".
	name := strings.TrimPrefix(strings.TrimPrefix(repo, "docker.io/"), "library/")
	has := func(words ...string) string {
		for _, w := range words {
			if strings.Contains(r, w) {
				return w
			}
		}
		return ""
	}
	switch {
	case r == "":
		return Family{Why: "no image"}
	case strings.ContainsAny(r, "{}$"):
		return Family{Why: "templated image reference"}
	}
	if w := has("alpine", "musl"); w != "" {
		return Family{Kind: resolver.Musl, Known: true, Why: "\"" + w + "\" in the image reference"}
	}
	if name == "grafana/grafana" && !strings.Contains(tag, "ubuntu") {
		return Family{Kind: resolver.Musl, Known: true, Why: "grafana/grafana is Alpine-based"}
	}
	if w := has("distroless/static", "registry.k8s.io/kube-", "k8s.gcr.io/kube-", "registry.k8s.io/coredns",
		"coredns/coredns", "prom/", "quay.io/prometheus/", "registry.k8s.io/metrics-server", "registry.k8s.io/dns/k8s-dns-node-cache",
		"registry.k8s.io/external-dns", "registry.k8s.io/cpa/"); w != "" {
		return Family{Kind: resolver.Go, Known: true, Why: "\"" + strings.TrimSuffix(w, "/") + "\" images are Go binaries"}
	}
	if w := has("debian", "ubuntu", "bookworm", "bullseye", "buster", "stretch", "trixie", "jammy", "focal", "noble",
		"bionic", "xenial", "-slim", ":slim", "centos", "rhel", "ubi8", "ubi9", "ubi-", "/ubi", "fedora", "rockylinux",
		"almalinux", "amazonlinux", "oraclelinux", "distroless/base", "distroless/cc", "distroless/java",
		"distroless/python", "distroless/nodejs", "wolfi", "bitnami/"); w != "" {
		return Family{Kind: resolver.GLibc, Known: true, Why: "\"" + strings.Trim(w, "-:/") + "\" in the image reference"}
	}
	if debianByDefault[name] {
		return Family{Kind: resolver.GLibc, Known: true, Why: "the default " + name + " image is Debian- or Ubuntu-based"}
	}
	return Family{Why: "nothing in " + ref + " names its base"}
}

// debianByDefault are official images whose default variant uses glibc.
var debianByDefault = map[string]bool{
	"python": true, "node": true, "ruby": true, "openjdk": true, "eclipse-temurin": true, "amazoncorretto": true,
	"nginx": true, "httpd": true, "postgres": true, "redis": true, "mysql": true, "mariadb": true, "mongo": true,
	"rabbitmq": true, "memcached": true, "php": true, "perl": true, "tomcat": true, "wordpress": true,
	"elasticsearch": true, "ubuntu": true, "debian": true, "jenkins/jenkins": true,
	"cassandra": true, "zookeeper": true, "maven": true, "gradle": true, "haproxy": true,
}
