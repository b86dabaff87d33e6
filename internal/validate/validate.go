// Package validate runs every plugin's own setup code of the linked CoreDNS
// release (plus k8slint) on a Corefile without starting any server: the
// caddy validation path. It rejects what coredns-custom would reject at
// start-up, with CoreDNS's own message and line.
package validate

import (
	"bytes"
	"errors"
	"fmt"
	"log"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/coredns/caddy"
	"github.com/coredns/caddy/caddyfile"
	_ "github.com/coredns/coredns/core/plugin" // every stock plugin

	"github.com/k8slint/k8slint/plugin/k8slint"
)

// mu serialises validations: plugin setups touch process-wide state
// (caddy's instance storage, klog's logger).
var mu sync.Mutex

// directives is the directive list of coredns-custom, so a Corefile naming
// k8slint is accepted here exactly when it is accepted there. Validation
// hands it to caddy's parser and runs the setups in its order: CoreDNS's
// process-wide list (dnsserver.Directives) is never changed.
var directives = sync.OnceValues(k8slint.Directives)

// Result is what CoreDNS's start-up code said about a Corefile.
type Result struct {
	// Err is CoreDNS's refusal, nil when it would start.
	Err error
	// Logs are the warning and error lines plugin setups logged, such as
	// the hosts plugin's "File does not exist", without time stamps.
	Logs []string
	// Refused is set, and nothing else, when the Corefile was not
	// validated because it names a file that reading could hang on or that
	// is too large (see guard).
	Refused *Refusal
}

// Corefile validates body, read from filename (used in messages). A nil
// error means every server block parsed, every plugin's setup accepted its
// configuration and the servers could be assembled.
func Corefile(filename string, body []byte) error { return Check(filename, body).Err }

// Check validates body like Corefile and also returns what the plugin
// setups logged; nothing reaches the process's own log output.
func Check(filename string, body []byte) Result {
	dirs, err := directives()
	if err != nil {
		return Result{Err: err}
	}
	if r := guard(filename, body); r != nil {
		return Result{Refused: r}
	}
	mu.Lock()
	defer mu.Unlock()
	var logs bytes.Buffer
	prev, flags := log.Writer(), log.Flags()
	log.SetOutput(&logs)
	log.SetFlags(0)
	defer func() { log.SetOutput(prev); log.SetFlags(flags) }()
	o := withOfflineKubernetes(OfflineUpstreams(string(body)))
	r := Result{}
	if err := executeSafely(filename, []byte(o.text), dirs); err != nil {
		r.Err = errors.New(o.fixLines(filename, err.Error()))
	}
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.HasPrefix(l, "[WARNING] ") || strings.HasPrefix(l, "[ERROR] ") {
			r.Logs = append(r.Logs, o.fixLines(filename, l))
		}
	}
	return r
}

// executeSafely runs execute and turns a panic in a plugin's setup into
// an error: CoreDNS would crash at start-up, so the Corefile is rejected.
func executeSafely(filename string, body []byte, dirs []string) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("CoreDNS's setup code panics on this Corefile: %v", p)
		}
	}()
	return execute(filename, body, dirs)
}

// execute is what caddy.Start does before it opens any listener: parse the
// server blocks, let the dns server type inspect them, run every
// directive's setup in the order of the directive list, and assemble the
// servers (MakeServers, where duplicate zones and listener overlaps are
// refused). caddy.ValidateAndExecuteDirectives stops before MakeServers,
// so it accepts duplicate zones that CoreDNS refuses at start-up; this
// follows caddy's executeDirectives (coredns/caddy v1.1.4) step by step.
// Start-up callbacks (binding, the kubernetes API wait, loop detection)
// never run. dirs is the directive list, in execution order.
func execute(filename string, body []byte, dirs []string) error {
	blocks, err := caddyfile.Parse(filename, bytes.NewReader(body), dirs)
	if err != nil {
		return err
	}
	if len(blocks) == 0 {
		return nil // CoreDNS serves its default Corefile
	}
	base := caddy.NewTestController(serverType, "")
	ctx := base.Context()
	if ctx == nil {
		return errors.New("validate: the dns server type is not registered")
	}
	blocks, err = ctx.InspectServerBlocks(filename, blocks)
	if err != nil {
		return fmt.Errorf("error inspecting server blocks: %v", err)
	}
	storages := make([]map[string]any, len(blocks))
	for _, dir := range dirs {
		for i, sb := range blocks {
			if storages[i] == nil {
				storages[i] = map[string]any{}
			}
			tokens, ok := sb.Tokens[dir]
			if !ok || len(sb.Keys) == 0 {
				continue
			}
			var once sync.Once
			c := *base
			c.Key = sb.Keys[0]
			c.Dispenser = caddyfile.NewDispenserTokens(filename, tokens)
			c.OncePerServerBlock = func(f func() error) error {
				var err error
				once.Do(func() { err = f() })
				return err
			}
			c.ServerBlockIndex, c.ServerBlockKeyIndex = i, 0
			c.ServerBlockKeys = sb.Keys
			c.ServerBlockStorage = storages[i][dir]
			setup, err := caddy.DirectiveAction(serverType, dir)
			if err != nil {
				return err
			}
			if err := setup(&c); err != nil {
				return err
			}
			storages[i][dir] = c.ServerBlockStorage
		}
	}
	_, err = ctx.MakeServers()
	return err
}

const serverType = "dns"

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
