#!/usr/bin/env bash
# gen.sh VERSION: rewrite go.mod for k8s.io/kubernetes VERSION (e.g. v1.34.12),
# replacing every staging module it requires at v0.0.0 with the matching
# v0.MINOR.PATCH tag (its own replace lines do not apply to a module that
# requires it), then tidy. Update Version in ../testcluster.go to match.
set -euo pipefail
cd "$(dirname "$0")"
K=${1:?usage: gen.sh v1.MINOR.PATCH}
S=v0.${K#v1.}
go mod download k8s.io/kubernetes@"$K"
{
	echo 'module github.com/k8slint/k8slint/internal/testcluster/kubetools'
	echo
	echo 'go 1.25.0'
	echo
	echo 'godebug default=go1.24'
	echo
	echo "require k8s.io/kubernetes $K"
	echo
	echo 'replace ('
	grep -E '=> ./staging' "$(go env GOMODCACHE)/k8s.io/kubernetes@$K/go.mod" | awk -v V="$S" '{print "\t"$1" => "$1" "V}'
	echo ')'
} > go.mod
rm -f go.sum
go mod tidy
