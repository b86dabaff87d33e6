package validate

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// checkWithin runs Check and fails the test, instead of hanging it, when
// it does not return within a few seconds.
func checkWithin(t *testing.T, filename, body string) Result {
	t.Helper()
	done := make(chan Result, 1)
	go func() { done <- Check(filename, []byte(body)) }()
	select {
	case r := <-done:
		return r
	case <-time.After(5 * time.Second):
		t.Fatalf("Check did not return within 5s on:\n%s", body)
		return Result{}
	}
}

func TestFilesValidationWouldHangOnAreRefusedWithoutReadingThem(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.conf")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.conf")
	if err := os.WriteFile(huge, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(huge, MaxFileSize+1); err != nil { // sparse: costs no disk
		t.Fatal(err)
	}
	link := filepath.Join(dir, "zero-link")
	if err := os.Symlink("/dev/zero", link); err != nil {
		t.Fatal(err)
	}
	nested := filepath.Join(dir, "nested.conf")
	if err := os.WriteFile(nested, []byte("# imports a device\nimport /dev/zero\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DNSLINT_TEST_FIFO", fifo)
	cases := []struct {
		name, body, want string
		line             int
	}{
		{"import of a FIFO", "import " + fifo + "\n.:53 {\n  whoami\n}\n", "import " + fifo + ": a named pipe (FIFO)", 1},
		{"import of /dev/zero inside a block", ".:53 {\n  whoami\n  import /dev/zero\n}\n", "a character device", 3},
		{"import through a symbolic link", ".:53 {\n  import " + link + "\n}\n", "a character device", 2},
		{"import by glob", ".:53 {\n  import /dev/zer*\n}\n", "import /dev/zero: a character device", 2},
		{"import by environment variable", ".:53 {\n  import {$DNSLINT_TEST_FIFO}\n}\n", "a named pipe", 2},
		{"import of a regular file importing /dev/zero", ".:53 {\n  whoami\n}\nimport " + nested + "\n", "its line 2 names import /dev/zero: a character device", 4},
		{"import of a file above the size limit", "import " + huge + "\n", "above dnslint's limit", 1},
		{"zone file that is a FIFO", "example.org:53 {\n  file " + fifo + "\n}\n", "file " + fifo + ": a named pipe", 2},
		{"zone file relative to root", "example.org:53 {\n  file fifo.conf\n  root " + dir + "\n}\n", "a named pipe", 2},
		{"hosts file that is a FIFO", ".:53 {\n  hosts " + fifo + "\n}\n", "a named pipe", 2},
		{"tls key that is a device", ".:53 {\n  tls /dev/zero /dev/zero\n}\n", "a character device", 2},
		{"braceless single block", ".\nfile /dev/zero example.org\n", "a character device", 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := checkWithin(t, "Corefile", c.body)
			if r.Refused == nil || !strings.Contains(r.Refused.Error(), c.want) || r.Refused.Line != c.line {
				t.Fatalf("got %+v (err %v), want a refusal at line %d containing %q", r.Refused, r.Err, c.line, c.want)
			}
			if r.Err != nil || len(r.Logs) > 0 {
				t.Errorf("a refused Corefile was validated anyway: %v %q", r.Err, r.Logs)
			}
		})
	}
}

func TestRegularFilesAreValidatedExactlyAsBefore(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.conf")
	bad := filepath.Join(dir, "bad.conf")
	if err := os.WriteFile(good, []byte("whoami\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("cache 30 {\n  bogus\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, body, wantErr string }{
		{"import of a regular file", ".:53 {\n  import " + good + "\n}\n", ""},
		{"import of a regular file CoreDNS rejects", ".:53 {\n  import " + bad + "\n}\n", "bad.conf:2"},
		{"import of a directory is CoreDNS's to refuse", ".:53 {\n  import " + dir + "\n}\n", "is a directory"},
		{"a snippet named like a device is a snippet", "(/dev/zero) {\n  whoami\n}\n.:53 {\n  import /dev/zero\n}\n", ""},
		{"/dev/null reads as empty", ".:53 {\n  import /dev/null\n  hosts /dev/null\n}\n", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := checkWithin(t, "Corefile", c.body)
			if r.Refused != nil {
				t.Fatalf("refused: %v", r.Refused)
			}
			if c.wantErr == "" && r.Err != nil || c.wantErr != "" && (r.Err == nil || !strings.Contains(r.Err.Error(), c.wantErr)) {
				t.Fatalf("got %v, want error containing %q", r.Err, c.wantErr)
			}
		})
	}
}
