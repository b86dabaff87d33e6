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
	cfgs, err := parseFlags([]string{"-rounds", "3", "-duration", "2s", "-rate", "5000", "-control"}, &stderr)
	if err != nil {
		t.Fatal(err, stderr.String())
	}
	if len(cfgs) != 2 {
		t.Fatalf("%d shapes by default, want both", len(cfgs))
	}
	for _, cfg := range cfgs {
		if cfg.Rounds != 3 || cfg.Duration != 2*time.Second || cfg.Rate != 5000 || !cfg.Control ||
			cfg.Binary != "bin/coredns-custom" || cfg.Outstanding != 100 || !cfg.Pin || cfg.Pairs != 15 || cfg.Headroom != 0.7 {
			t.Errorf("config %+v", cfg)
		}
	}
	if cfgs[0].Shape != "64 addresses" || cfgs[0].Sources != 64 || cfgs[0].Clients != 64 || cfgs[1].Shape != "one client" || cfgs[1].Sources != 1 || cfgs[1].Clients != 8 {
		t.Errorf("shapes %+v", cfgs)
	}
	cfgs, err = parseFlags([]string{"-shape", "addresses", "-sources", "16"}, &stderr)
	if err != nil || len(cfgs) != 1 || cfgs[0].Sources != 16 || cfgs[0].Target != 1.01 {
		t.Errorf("-shape addresses -sources 16: %+v, %v", cfgs, err)
	}
	cfgs, err = parseFlags([]string{"-shape", "addresses", "-against", "old/coredns"}, &stderr)
	if err != nil || len(cfgs) != 1 || cfgs[0].Against != "old/coredns" {
		t.Errorf("-against old/coredns: %+v, %v", cfgs, err)
	}
	cfgs, err = parseFlags([]string{"-shape", "addresses", "-pin=false"}, &stderr)
	if err != nil || len(cfgs) != 1 || cfgs[0].Pin {
		t.Errorf("-pin=false: %+v, %v", cfgs, err)
	}
	cfgs, err = parseFlags([]string{"-shape", "addresses", "-headroom", "0"}, &stderr)
	if err != nil || len(cfgs) != 1 || cfgs[0].Headroom != 0 {
		t.Errorf("-headroom 0: %+v, %v", cfgs, err)
	}
	cfgs, err = parseFlags([]string{"-shape", "one-client"}, &stderr)
	if err != nil || len(cfgs) != 1 || cfgs[0].Sources != 1 || cfgs[0].Target != 1.03 {
		t.Errorf("-shape one-client: %+v, %v", cfgs, err)
	}
}

func TestBadFlagsExitTwo(t *testing.T) {
	for _, args := range [][]string{{"-rounds", "0"}, {"-saturated-rounds", "-1"}, {"-pairs", "-1"}, {"-rate", "-1"}, {"-nope"}, {"extra"},
		{"-sources", "0"}, {"-shape", "addresses", "-sources", "257"}, {"-shape", "addresses", "-clients", "257"},
		{"-shape", "pods"}, {"-sources", "8"}, {"-headroom", "1.5"}, {"-headroom", "-0.1"}, {"-shape", "one-client", "-clients", "2"}} {
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
