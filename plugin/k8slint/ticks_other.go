//go:build !amd64

package k8slint

// haveTicks: there is no counter to read here (clock.go).
const haveTicks = false

func ticks() uint64 { return 0 }
