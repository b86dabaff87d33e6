//go:build !race

package k8slint

const raceEnabled = false
