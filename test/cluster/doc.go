// Package cluster holds the tests that run on the project's single-node
// Kubernetes (internal/testcluster) and need tool modules kept out of the
// project's go.mod: the kustomize overlays of deploy/kustomize rendered
// with the kustomize Go API and applied server-side, the rollback, the
// monitoring mixin's dashboard answered from a scrape of the cluster's
// CoreDNS, and the docs pages whose commands need a cluster. One cluster
// serves every test of the package.
package cluster
