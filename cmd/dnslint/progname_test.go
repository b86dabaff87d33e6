package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestProgramNameIsKubectlDnslintWhenRunAsTheKubectlPlugin(t *testing.T) {
	for argv0, want := range map[string]string{
		"dnslint":                        "dnslint",
		"/usr/local/bin/dnslint":         "dnslint",
		"/home/me/bin/kubectl-dnslint":   "kubectl dnslint",
		"kubectl-dnslint":                "kubectl dnslint",
		"/opt/krew/bin/kubectl-dns_lint": "kubectl dns-lint",
		"/tmp/go-build123/b001/exe/main": "dnslint",
		"kubectl-":                       "dnslint",
	} {
		if got := programName(argv0); got != want {
			t.Errorf("programName(%q) = %q, want %q", argv0, got, want)
		}
	}
}

func TestHelpShowsTheNameItWasInvokedBy(t *testing.T) {
	defer func(old string) { progName = old }(progName)
	for _, name := range []string{"dnslint", "kubectl dnslint"} {
		progName = name
		var out, errOut bytes.Buffer
		if code := run([]string{"--help"}, nil, &out, &errOut); code != exitOK {
			t.Fatalf("--help exit %d", code)
		}
		lines := strings.Split(out.String(), "\n")
		for i, want := range []string{
			"usage: " + name + " [flags] PATH...",
			"       " + name + " rules",
			"       " + name + " explain RULE",
			"       " + name + " explain-lookup NAME",
		} {
			if !strings.HasPrefix(lines[i], want) {
				t.Errorf("as %q, usage line %d is %q, want it to start with %q", name, i+1, lines[i], want)
			}
		}
		out.Reset()
		if code := run([]string{"--no-such-flag"}, nil, &out, &errOut); code != exitUsage || !strings.Contains(errOut.String(), "usage: "+name+" [flags]") {
			t.Errorf("as %q, a usage error exits %d and prints %q", name, code, errOut.String())
		}
	}
}
