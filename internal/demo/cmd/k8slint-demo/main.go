// Command k8slint-demo runs the k8slint demo (make demo).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/k8slint/k8slint/internal/demo"
)

func main() {
	bin := flag.String("coredns", "bin/coredns-custom", "the coredns-custom binary")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := demo.Run(ctx, *bin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "k8slint-demo:", err)
		os.Exit(1)
	}
}
