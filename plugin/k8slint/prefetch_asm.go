//go:build amd64 || arm64

package k8slint

import "unsafe"

//go:noescape
func prefetchLines(p unsafe.Pointer, n uintptr)
