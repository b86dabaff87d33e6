// Package validate runs every plugin's own setup code of the linked CoreDNS
// release (plus k8slint) on a Corefile without starting any server: the
// caddy validation path. It rejects what coredns-custom would reject at
// start-up, with CoreDNS's own message and line.
package validate

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	_ "github.com/coredns/coredns/core/plugin" // every stock plugin

	"github.com/k8slint/k8slint/plugin/k8slint"
)

var (
	setupOnce sync.Once
	setupErr  error
	// mu serialises validations: plugin setups touch process-wide state
	// (caddy's instance storage, klog's logger).
	mu sync.Mutex
)

// placeK8slint makes this process's directive list the one coredns-custom
// uses, so a Corefile naming k8slint is accepted here exactly when it is
// accepted there.
func placeK8slint() error {
	setupOnce.Do(func() {
		d, err := k8slint.InsertDirective(dnsserver.Directives)
		if err != nil {
			setupErr = err
			return
		}
		dnsserver.Directives = d
	})
	return setupErr
}

// Corefile validates body, read from filename (used in messages). A nil
// error means every server block parsed and every plugin's setup accepted
// its configuration.
func Corefile(filename string, body []byte) error {
	if err := placeK8slint(); err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	o := withOfflineKubernetes(string(body))
	in := caddy.CaddyfileInput{
		Contents:       []byte(o.text),
		Filepath:       filename,
		ServerTypeName: "dns",
	}
	if err := caddy.ValidateAndExecuteDirectives(in, nil, true); err != nil {
		return errors.New(o.fixLines(filename, err.Error()))
	}
	return nil
}

// OfflineEndpoint is the API endpoint given to kubernetes blocks that name
// none. The kubernetes plugin builds a client configuration inside its
// setup, and without an endpoint or a kubeconfig it needs the in-cluster
// service account; with an explicit endpoint it only builds a client, which
// connects nowhere until the server starts (it never does here).
const OfflineEndpoint = "http://127.0.0.1:1"

// offline is a Corefile with "endpoint OfflineEndpoint" added to every
// kubernetes block that has neither endpoint nor kubeconfig, so that the
// plugin's real parser runs on everything else unchanged.
type offline struct {
	text string
	// added[i] is the number of lines inserted after original line i+1.
	added []int
}

func withOfflineKubernetes(body string) offline {
	lines := strings.SplitAfter(body, "\n")
	o := offline{added: make([]int, len(lines))}
	var out strings.Builder
	depth := 0
	for i, line := range lines {
		fields := strings.Fields(stripComment(line))
		if depth == 1 && len(fields) > 0 && fields[0] == "kubernetes" && !namesEndpoint(lines[i+1:], fields) {
			code := strings.TrimRight(stripComment(strings.TrimSuffix(line, "\n")), " \t\r")
			if fields[len(fields)-1] == "{" {
				out.WriteString(code + "\nendpoint " + OfflineEndpoint + "\n")
				o.added[i] = 1
			} else {
				out.WriteString(code + " {\nendpoint " + OfflineEndpoint + "\n}\n")
				o.added[i] = 2
			}
		} else {
			out.WriteString(line)
		}
		for _, t := range fields {
			depth += strings.Count(t, "{") - strings.Count(t, "}")
		}
	}
	o.text = out.String()
	return o
}

// namesEndpoint reports whether the kubernetes directive whose first line
// has fields, followed by rest, sets endpoint or kubeconfig in its block.
func namesEndpoint(rest []string, fields []string) bool {
	if fields[len(fields)-1] != "{" {
		return false
	}
	d := 1
	for _, l := range rest {
		f := strings.Fields(stripComment(l))
		if d == 1 && len(f) > 0 && (f[0] == "endpoint" || f[0] == "kubeconfig") {
			return true
		}
		for _, t := range f {
			d += strings.Count(t, "{") - strings.Count(t, "}")
		}
		if d <= 0 {
			return false
		}
	}
	return false
}

// originalLine maps a line of o.text back to the input's line.
func (o offline) originalLine(n int) int {
	shift := 0
	for i, a := range o.added {
		orig := i + 1
		if orig+shift >= n {
			return n - shift
		}
		if n <= orig+shift+a {
			return orig // an inserted line: blame the directive
		}
		shift += a
	}
	return n - shift
}

// fixLines rewrites "filename:N" in msg to the input's line numbers.
func (o offline) fixLines(filename, msg string) string {
	re := regexp.MustCompile(regexp.QuoteMeta(filename) + `:(\d+)`)
	return re.ReplaceAllStringFunc(msg, func(m string) string {
		n, err := strconv.Atoi(m[len(filename)+1:])
		if err != nil {
			return m
		}
		return filename + ":" + strconv.Itoa(o.originalLine(n))
	})
}

func stripComment(s string) string {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		return s[:i]
	}
	return s
}
