package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/k8slint/k8slint/internal/lint"
)

// progName is the name the usage text shows. kubectl runs a plugin found on
// PATH as kubectl-NAME with the plugin's path as argv[0]; dnslint installed
// (or linked) as kubectl-dnslint then calls itself "kubectl dnslint", as
// kubectl plugins do. main sets it from os.Args[0].
var progName = "dnslint"

// programName returns the name to show for a binary started as argv0:
// "kubectl NAME" for kubectl-NAME (kubectl maps a "-" in a plugin's
// command to "_" in its file name), "dnslint" otherwise.
func programName(argv0 string) string {
	base := filepath.Base(argv0)
	if name, ok := strings.CutPrefix(base, "kubectl-"); ok && name != "" {
		return "kubectl " + strings.ReplaceAll(name, "_", "-")
	}
	return "dnslint"
}

// usageText is the usage message under progName.
func usageText() string {
	return strings.ReplaceAll(fmt.Sprintf(usage, lint.DefaultCoreDNSVersion), "dnslint ", progName+" ")
}
