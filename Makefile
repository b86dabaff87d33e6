# Everything runs on loopback or inside network namespaces the tests create.
GO      ?= go
BIN     := bin
export CGO_ENABLED := 0
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/k8slint/k8slint/plugin/k8slint.Version=$(VERSION)

.PHONY: all build test race demo bench lint clean

all: build

build:
	@mkdir -p $(BIN)
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/...

# The end-to-end tests use bin/coredns-custom built here.
test: build lint
	K8SLINT_COREDNS_BIN=$(CURDIR)/$(BIN)/coredns-custom $(GO) test -count=1 -timeout 30m ./...
	CGO_ENABLED=1 $(GO) test -count=1 -race -timeout 15m ./plugin/... ./internal/...

demo: build
	$(GO) run ./internal/demo/cmd/k8slint-demo -coredns $(BIN)/coredns-custom

bench: build
	K8SLINT_COREDNS_BIN=$(CURDIR)/$(BIN)/coredns-custom $(GO) run ./internal/bench/cmd/k8slint-bench

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

clean:
	rm -rf $(BIN)
