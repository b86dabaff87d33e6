//go:build race

package k8slint

// raceEnabled: built with the race detector, which cannot see the hand-off
// of a recorder through a per-P slot (recorderCache) as synchronised.
const raceEnabled = true
