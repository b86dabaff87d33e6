package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestParseFlagsTakesDefaultsAndOverrides(t *testing.T) {
	var stderr bytes.Buffer
	cfg, err := parseFlags([]string{"-rounds", "3", "-duration", "2s", "-rate", "5000", "-control"}, &stderr)
	if err != nil {
		t.Fatal(err, stderr.String())
	}
	if cfg.Rounds != 3 || cfg.Duration != 2*time.Second || cfg.Rate != 5000 || !cfg.Control ||
		cfg.Binary != "bin/coredns-custom" || cfg.Clients != 4 || cfg.Outstanding != 100 || cfg.Sources != 64 {
		t.Errorf("config %+v", cfg)
	}
}

func TestBadFlagsExitTwo(t *testing.T) {
	for _, args := range [][]string{{"-rounds", "0"}, {"-rate", "-1"}, {"-nope"}, {"extra"},
		{"-sources", "0"}, {"-sources", "1001"}, {"-rate", "10", "-sources", "11"}} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
		if stderr.Len() == 0 || stdout.Len() != 0 {
			t.Errorf("%v: stdout %q, stderr %q", args, stdout.String(), stderr.String())
		}
	}
}

func TestMissingBinaryExitsOne(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-coredns", "/nonexistent/coredns-custom"}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "/nonexistent/coredns-custom") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}
