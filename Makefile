# Everything runs on loopback or inside network namespaces the tests create.
GO      ?= go
BIN     := bin
export CGO_ENABLED := 0
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/k8slint/k8slint/plugin/k8slint.Version=$(VERSION)

.PHONY: all build image test e2e cluster-up cluster-down demo bench lint clean monitoring

all: build

build:
	@mkdir -p $(BIN)
	flock $${TMPDIR:-/tmp}/k8slint-build.lock $(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/...
	ln -f $(BIN)/dnslint $(BIN)/kubectl-dnslint  # kubectl finds it on PATH: `kubectl dnslint`

# bin/coredns-custom.oci.tar and bin/dnslint.oci.tar: OCI image indexes for
# IMAGE_PLATFORMS, built without a container engine (internal/image). The
# binaries are built for each platform with -trimpath and the commit's time
# stamp is the images' creation time, so two builds of one commit give the
# same digests.
IMAGE_PLATFORMS := linux/amd64 linux/arm64
REVISION := $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
CREATED  := $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

image:
	@mkdir -p $(BIN)
	@for p in $(IMAGE_PLATFORMS); do \
	  echo "building for $$p"; \
	  flock $${TMPDIR:-/tmp}/k8slint-build.lock env GOOS=$${p%/*} GOARCH=$${p#*/} \
	    $(GO) build -trimpath -ldflags '-s -w $(LDFLAGS)' -o $(BIN)/$${p%/*}_$${p#*/}/ ./cmd/... || exit 1; \
	done
	$(GO) run ./internal/image/cmd/k8slint-image -out $(BIN) -version $(VERSION) -revision $(REVISION) -created $(CREATED) \
	  $(foreach p,$(IMAGE_PLATFORMS),-bin $(p)=$(BIN)/$(subst /,_,$(p)))

# A single-node Kubernetes (internal/testcluster) for a person: kubeconfig
# in bin/cluster/kubeconfig; the first run builds the Kubernetes commands
# (about 10 minutes on 2 cores) into .cache/kube/.
cluster-up: build
	$(GO) build -o $(BIN)/k8slint-cluster ./internal/testcluster/cmd/k8slint-cluster
	$(BIN)/k8slint-cluster up -state $(BIN)/cluster -coredns $(BIN)/coredns-custom

cluster-down:
	$(GO) build -o $(BIN)/k8slint-cluster ./internal/testcluster/cmd/k8slint-cluster
	$(BIN)/k8slint-cluster down -state $(BIN)/cluster

# The end-to-end tests use bin/coredns-custom built here.
test: build lint
	K8SLINT_COREDNS_BIN=$(CURDIR)/$(BIN)/coredns-custom $(GO) test -count=1 -timeout 30m $$($(GO) list ./... | grep -v '/test/e2e$$')
	CGO_ENABLED=1 $(GO) test -count=1 -race -timeout 15m ./plugin/... ./internal/resolver/... ./internal/parallel/... ./internal/lint/... ./internal/poddns/... ./cmd/dnslint/...
	# Nested tools modules, kept out of go.mod: the monitoring mixin, the CI example (actionlint), the cluster tests (kustomize).
	cd deploy/monitoring && K8SLINT_COREDNS_BIN=$(CURDIR)/$(BIN)/coredns-custom $(GO) test -count=1 -timeout 30m ./...
	cd deploy/ci && $(GO) test -count=1 ./...
	# The overlays of deploy/kustomize (kustomize's Go API), the dashboard on a
	# scrape of the cluster's CoreDNS, the docs pages that need a cluster: one
	# cluster for all of them.
	cd test/cluster && K8SLINT_COREDNS_BIN=$(CURDIR)/$(BIN)/coredns-custom $(GO) test -count=1 -timeout 30m -v ./...
	$(MAKE) e2e

# The scenarios on a real single-node Kubernetes (test/e2e; as root, with
# the Debian packages .ci/run installs; otherwise they skip and say why).
e2e: build
	K8SLINT_COREDNS_BIN=$(CURDIR)/$(BIN)/coredns-custom $(GO) test -count=1 -timeout 40m -v ./test/e2e/

demo: build
	$(GO) run ./internal/demo/cmd/k8slint-demo -coredns $(BIN)/coredns-custom

# Per-query cost of the plugin against the same chain without it, measured
# in the same run; prints the ratio and the difference. Then dnsperf against
# bin/coredns-custom with and without k8slint, runs alternating (CoreDNS on
# a CPU of its own, dnsperf on the others; at 20,000 qps, or at 70% of what
# CoreDNS answers saturated on the machine where that is less), in two
# shapes of load (64 client addresses; one client sending everything), and
# both ratios together (needs dnsperf; never fails on a missed target).
# What attribution keeps per pod at 10,000 and 100,000 pods (goal 300 B).
# bin/dnslint as a whole process on 10,000 generated workload objects:
# median wall time and peak RSS against the absolute targets.
bench: build
	$(GO) test -run '^$$' -bench 'ServeDNS(Syscalls)?$$' -benchmem -count 5 ./plugin/k8slint/ | tee $(BIN)/bench-plugin.txt
	@awk '/BenchmarkServeDNS\/without/ {w+=$$3; aw=$$7; nw++} /BenchmarkServeDNS\/with-/ {k+=$$3; a=$$7; nk++} \
	  /BenchmarkServeDNSSyscalls\/without/ {sw+=$$3; nsw++} /BenchmarkServeDNSSyscalls\/with-/ {sk+=$$3; nsk++} \
	  /BenchmarkServeDNS\/kept-/ {kp+=$$3; ak=$$7; nkp++} \
	  END { if (nw && nk) printf "k8slint per query: %.0f ns/op with, %.0f ns/op without: ratio %.2f, cost %.0f ns (target 200), allocs/op %s with, %s without\n", k/nk, w/nw, (k/nk)/(w/nw), k/nk-w/nw, a, aw; \
	    if (nw && nkp) printf "k8slint per query with a recorder per query (as under cache serve_stale verify TIMEOUT): %.0f ns/op: cost %.0f ns, allocs/op %s\n", kp/nkp, kp/nkp-w/nw, ak; \
	    if (nsw && nsk) printf "k8slint per query between system calls (one before the query, one in the write): %.0f ns/op with, %.0f ns/op without: cost %.0f ns\n", sk/nsk, sw/nsw, sk/nsk-sw/nsw }' $(BIN)/bench-plugin.txt
	$(GO) test -run '^$$' -bench 'Attribution(Job)?Memory' -benchtime 1x -count 3 ./plugin/k8slint/ | tee $(BIN)/bench-attribution.txt
	@awk '/AttributionMemory/ { split($$1, n, "[=-]"); for (i = 2; i <= NF; i++) if ($$i == "B/pod") { s[n[2]] += $$(i-1); c[n[2]]++ } } \
	  /AttributionJobMemory/ { for (i = 2; i <= NF; i++) if ($$i == "B/job") { j += $$(i-1); nj++ } } \
	  END { for (k in s) printf "k8slint attribution, %s pods: %.0f B/pod kept (goal 300)\n", k, s[k]/c[k]; \
	    if (nj) printf "k8slint attribution, 10000 Jobs of CronJobs: %.0f B/job kept\n", j/nj }' $(BIN)/bench-attribution.txt
	$(GO) test -run '^$$' -bench 'LintCorefiles' -benchtime 3x -count 3 ./internal/lint/rules/ | tee $(BIN)/bench-dnslint.txt
	@awk '{ for (i = 2; i <= NF; i++) { if ($$i == "ns/corefile") v = $$(i-1); if ($$i == "invalid/1000") n = $$(i-1) } } \
	  /LintCorefiles\/all-rules/ {a+=v; na++} /LintCorefiles\/without-validation/ {w+=v; nw++} \
	  END { if (na && nw) printf "dnslint per Corefile over 1,000 generated (%d invalid): %.0f us with CoreDNS validation, %.0f us without: ratio %.1f\n", n, a/na/1000, w/nw/1000, (a/na)/(w/nw) }' $(BIN)/bench-dnslint.txt
	$(GO) test -run '^$$' -bench 'LintWorkloads|CLIWorkloads' -benchtime 3x ./internal/lint/rules/ ./cmd/dnslint/ | tee $(BIN)/bench-workloads.txt
	@awk '/objects\/s/ { printf "dnslint, 10000 generated workload objects, %s: %s objects/s\n", $$1, $$(NF-1) } \
	  /load-only/ {l=$$(NF-1)} /sequential/ {s=$$(NF-1)} \
	  END { if (l && s) printf "dnslint: linting runs at %.2f of the speed of loading alone\n", s/l }' $(BIN)/bench-workloads.txt
	$(GO) run ./internal/lint/lintbench/cmd/dnslint-bench -dnslint $(BIN)/dnslint | tee $(BIN)/bench-dnslint-process.txt
	$(GO) run ./internal/dnsbench/cmd/k8slint-dnsbench -coredns $(BIN)/coredns-custom > $(BIN)/bench-dnsperf.txt && cat $(BIN)/bench-dnsperf.txt

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	cd deploy/monitoring && $(GO) vet ./... && $(GO) run $(STATICCHECK) ./...
	cd deploy/ci && $(GO) vet ./... && $(GO) run $(STATICCHECK) ./...
	cd test/cluster && $(GO) vet ./... && $(GO) run $(STATICCHECK) ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# Render the monitoring mixin (deploy/monitoring/*.libsonnet) into the files
# it ships; a test fails when they are stale.
monitoring:
	cd deploy/monitoring && $(GO) run ./cmd/render

clean:
	rm -rf $(BIN)
