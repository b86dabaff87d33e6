package k8slint

// Version is the k8slint release, set at build time with
// -ldflags "-X github.com/k8slint/k8slint/plugin/k8slint.Version=...".
var Version = "0.1.0-dev"

// VersionString returns the text coredns-custom puts in CoreDNS's commit
// field of -version: the k8slint version, followed by CoreDNS's own commit
// when the build set one.
func VersionString(coreCommit string) string {
	s := Name + "-" + Version
	if coreCommit != "" {
		s += " coredns-commit-" + coreCommit
	}
	return s
}
