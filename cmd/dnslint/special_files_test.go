package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runWithin runs the CLI and fails instead of hanging when it does not
// return within a few seconds.
func runWithin(t *testing.T, args ...string) (int, string) {
	t.Helper()
	type res struct {
		code int
		out  string
	}
	done := make(chan res, 1)
	go func() {
		code, out, errs := runCLI(t, "", args...)
		done <- res{code, out + errs}
	}()
	select {
	case r := <-done:
		return r.code, r.out
	case <-time.After(10 * time.Second):
		t.Fatalf("dnslint %s did not return within 10s", strings.Join(args, " "))
		return 0, ""
	}
}

func TestACorefileImportingAFIFOOrADeviceIsReportedNotFollowed(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "custom.conf")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	cf := filepath.Join(dir, "Corefile")
	body := ".:53 {\n    import " + fifo + "\n    import /dev/zero\n}\n"
	if err := os.WriteFile(cf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	// --root /: the FIFO is checked where it is, on this machine.
	code, out := runWithin(t, "--root", "/", "--enable", "corefile-not-validated,corefile-invalid", cf)
	want := cf + ":2:5: warning: not validated: import " + fifo + ": a named pipe (FIFO), not a regular file: opening it blocks until a writer appears [corefile-not-validated]\n"
	if code != exitFindings || out != want {
		t.Fatalf("exit %d\n%s\nwant\n%s", code, out, want)
	}
}

func TestADirectoryWalkSkipsAFIFONamedLikeACorefile(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "Corefile"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "b.Corefile"), []byte(".:53 {\n    whoami\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := runWithin(t, "--enable", "corefile-invalid", dir)
	if code != exitOK || out != "" {
		t.Fatalf("exit %d\n%s", code, out)
	}
}
