package k8slint

// haveTicks: ticks reads the time-stamp counter (ticks_amd64.s).
const haveTicks = true

func ticks() uint64
