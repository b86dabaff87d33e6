# Everything runs on loopback or inside network namespaces the tests create.
GO      ?= go
BIN     := bin
export CGO_ENABLED := 0
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/k8slint/k8slint/plugin/k8slint.Version=$(VERSION)

.PHONY: all build test demo bench lint clean

all: build

build:
	@mkdir -p $(BIN)
	flock $${TMPDIR:-/tmp}/k8slint-build.lock $(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/...

# The end-to-end tests use bin/coredns-custom built here.
test: build lint
	K8SLINT_COREDNS_BIN=$(CURDIR)/$(BIN)/coredns-custom $(GO) test -count=1 -timeout 30m ./...
	CGO_ENABLED=1 $(GO) test -count=1 -race -timeout 15m ./plugin/... ./internal/resolver/... ./internal/parallel/... ./internal/lint/... ./internal/poddns/... ./cmd/dnslint/...

demo: build
	$(GO) run ./internal/demo/cmd/k8slint-demo -coredns $(BIN)/coredns-custom

# Per-query cost of the plugin against the same chain without it, measured
# in the same run; prints the ratio and the difference. Then dnsperf against
# bin/coredns-custom with and without k8slint, runs alternating (needs
# dnsperf; prints ratios, never fails on a missed target).
# bin/dnslint as a whole process on 10,000 generated workload objects:
# median wall time and peak RSS against the absolute targets.
bench: build
	$(GO) test -run '^$$' -bench 'ServeDNS' -benchmem -count 5 ./plugin/k8slint/ | tee $(BIN)/bench-plugin.txt
	@awk '/BenchmarkServeDNS\/without/ {w+=$$3; nw++} /BenchmarkServeDNS\/with-/ {k+=$$3; a=$$7; nk++} \
	  END { if (nw && nk) printf "k8slint per query: %.0f ns/op with, %.0f ns/op without: ratio %.2f, cost %.0f ns, %s allocs/op (with, incl. the chain hop)\n", k/nk, w/nw, (k/nk)/(w/nw), k/nk-w/nw, a }' $(BIN)/bench-plugin.txt
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
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

clean:
	rm -rf $(BIN)
