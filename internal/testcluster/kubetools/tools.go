//go:build tools

// Package kubetools pins the Kubernetes release the test cluster runs
// (internal/testcluster builds these commands from this module, one go
// build for all six). It is its own module so that k8s.io/kubernetes and
// its replace lines stay out of the project's go.mod: every staging module
// k8s.io/kubernetes requires at v0.0.0 is replaced by the release's
// v0.MINOR.PATCH tag. Regenerate for another release with gen.sh.
package kubetools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
