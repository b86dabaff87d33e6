// Command coredns-custom is CoreDNS v1.15.0 with every stock plugin, plus
// k8slint placed immediately before cache. It takes the same flags and
// Corefiles as the stock binary and is meant to replace the cluster's image.
package main

import (
	"fmt"
	"os"

	"github.com/coredns/coredns/core/dnsserver"
	_ "github.com/coredns/coredns/core/plugin" // every stock plugin
	"github.com/coredns/coredns/coremain"

	"github.com/k8slint/k8slint/plugin/k8slint"
)

func main() {
	directives, err := k8slint.Directives()
	if err == nil {
		err = dnsserver.SetDirectives(directives)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "coredns-custom:", err)
		os.Exit(1)
	}
	// -version prints "CoreDNS-1.15.0" and then "<os>/<arch>, <go>, <commit>":
	// the commit field carries the k8slint version, so the first line stays
	// exactly what tools parsing the stock output expect.
	coremain.GitCommit = k8slint.VersionString(coremain.GitCommit)
	coremain.Run()
}
