// Command dnslint lints Corefiles and the CoreDNS ConfigMaps that carry
// them, the way CoreDNS itself reads them.
//
//	dnslint [flags] PATH...        lint files, directories (recursive) or - (stdin)
//	dnslint rules [--format text|markdown]
//	dnslint explain RULE
//	dnslint explain-lookup NAME [flags]
//	dnslint cluster [--kubeconfig F] [--context C] [-n NS | -A] [flags]
//
// Exit codes: 0 no finding at or above --fail-on; 1 findings at or above
// --fail-on; 2 usage or input error (unreadable file, unknown rule, file
// too large; for cluster, a kubeconfig that cannot be used or a read the
// API server refused).
//
// Files are linted one per CPU at a time and the documents of a file are
// parsed concurrently; output keeps the order of the files. Unless GOGC is
// set, dnslint runs with GOGC=200 (gc.go says what that costs).
package main

import "os"

func main() {
	tuneGC()
	progName = programName(os.Args[0])
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
