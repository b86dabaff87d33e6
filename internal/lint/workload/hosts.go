package workload

import (
	"regexp"
	"strconv"
	"strings"
)

// How hostnames are recognised in free text (env values, arguments,
// configuration files), and what is deliberately not taken for one:
//
//   - The host of every URL (scheme://[user@]host[:port], several hosts
//     separated by commas as in mongodb://a,b/db, jdbc:...://), and of
//     Oracle's jdbc:oracle:thin:@host:port.
//   - host:port where port is a number that is a well-known service port
//     or at least 1024 (so an image tag such as node:20 is not a host).
//   - A dotted name whose last label is a known top-level domain (com, io,
//     internal, ...), or that ends in .svc or the cluster domain.
//   - In a hostname context — an env variable, ConfigMap key or flag whose
//     name ends in HOST, SERVER, ADDR, ENDPOINT, URL, BROKERS, ..., or the
//     first argument after a command that takes a host (nc redis 6379,
//     ping db, nslookup api; flags between them skipped in shell text) —
//     also single-label names (a Service in the pod's namespace) and
//     service.namespace.
//   - Never: IP addresses (they are not resolved), localhost, version
//     numbers (1.2.3, v2.0), file names (app.py, config.yaml: their last
//     label is no top-level domain), tokens holding template or variable
//     syntax ({{ }}, $(VAR), ${VAR}, %s), and paths.
//
// This is a heuristic: a single word in a hostname context may be no
// hostname, and a hostname in a context it does not know is missed.

var (
	urlRe    = regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.\-]*://`)
	oracleRe = regexp.MustCompile(`(?i)jdbc:oracle:[a-z]+:@([a-z0-9.\-_]+):\d+`)
	// hostKey matches names of variables, keys and flags that hold hosts.
	hostKey = keyMatcher{}
	// lineKV splits "key: value" and "key = value" lines of config files.
	lineKV = regexp.MustCompile(`^\s*-?\s*"?([A-Za-z_][A-Za-z0-9_.\-]*)"?\s*[:=]\s*(.*)$`)
)

// hostWords end the names of variables, keys and flags that hold hosts.
var hostWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`HOST HOSTS HOSTNAME SERVER SERVERS ADDR ADDRESS ADDRS ENDPOINT ENDPOINTS URL URLS URI DSN
		BROKER BROKERS UPSTREAM PROXY FQDN NODES PEERS SEEDS CONTACT_POINTS BOOTSTRAP_SERVERS CONNECTION_STRING CONNSTR`) {
		hostWords[w] = true
	}
}

// hostCommands take a host as their first argument that is not a flag.
var hostCommands = map[string]bool{"nc": true, "ncat": true, "netcat": true, "telnet": true, "ping": true, "ping6": true,
	"nslookup": true, "dig": true, "traceroute": true}

// HostCommand reports whether arg runs a command whose first argument is
// a host (nc, telnet, ping, nslookup, ...), named or by path.
func HostCommand(arg string) bool {
	if i := strings.LastIndexByte(arg, '/'); i >= 0 {
		arg = arg[i+1:]
	}
	return hostCommands[arg]
}

// keyMatcher tells whether a name ends in one of hostWords, as a whole
// word separated by _, . or -.
type keyMatcher struct{}

// keySeparators are the word separators of names besides '_'.
var keySeparators = strings.NewReplacer("-", "_", ".", "_")

func (keyMatcher) MatchString(name string) bool {
	n := strings.ToUpper(keySeparators.Replace(name))
	i := strings.LastIndexByte(n, '_')
	if hostWords[n[i+1:]] {
		return true
	}
	if i > 0 {
		j := strings.LastIndexByte(n[:i], '_')
		return hostWords[n[j+1:]]
	}
	return false
}

func isSep(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\f', '\v', ',', ';', '"', '\'', '=', '(', ')', '[', ']', '{', '}', '<', '>', '|', '`':
		return true
	}
	return false
}

// validLabel is [a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?
func validLabel(l string) bool {
	if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// versionLike is v?[0-9]+
func versionLike(l string) bool {
	l = strings.TrimPrefix(l, "v")
	return l != "" && strings.Trim(l, "0123456789") == ""
}

// knownTLDs are the last labels that make a dotted word a hostname without
// further context. Country codes that are also common file extensions (py,
// sh, md, rs, pl, pm, cc, so, ps, in, am, ac, mk, ml, tf, ts) are left out.
var knownTLDs = map[string]bool{}

func init() {
	for _, t := range strings.Fields(`com net org io dev app cloud co ai info biz gov edu mil int xyz tech site online me tv ly
		us uk de fr eu nl jp cn ru br au ca ch se no es it at be dk fi ie nz za kr sg hk tw mx ar cl cz hu ro gr pt
		il tr ua vn id my th ph lt lv ee sk si hr bg rs is lu
		internal local localdomain lan corp home intranet private test example invalid arpa
		services systems network digital global page site store shop cloud aws azure amazonaws`) {
		knownTLDs[t] = true
	}
}

// wellKnownPorts are service ports below 1024 taken as ports in host:port.
var wellKnownPorts = map[int]bool{21: true, 22: true, 25: true, 53: true, 80: true, 88: true, 110: true, 123: true, 143: true,
	389: true, 443: true, 465: true, 514: true, 587: true, 636: true, 853: true, 873: true, 993: true, 995: true}

var notHosts = map[string]bool{"localhost": true, "true": true, "false": true, "yes": true, "no": true, "none": true,
	"null": true, "nil": true, "default": true, "all": true, "any": true, "auto": true, "disabled": true, "enabled": true,
	"on": true, "off": true, "0": true}

// Extract returns the hostnames in value, as written,, an env value or a ConfigMap
// entry called key ("" when none).
func Extract(value, key string) []string {
	var out []string
	seen := map[string]bool{}
	if strings.Contains(value, "\n") {
		for _, line := range strings.Split(value, "\n") {
			if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") || strings.HasPrefix(t, "//") {
				continue
			}
			k, v := key, line
			if m := lineKV.FindStringSubmatch(line); m != nil && !strings.HasPrefix(strings.TrimSpace(m[2]), "//") {
				k, v = m[1], m[2]
			}
			for _, f := range extract(v, hostKey.MatchString(k)) {
				if !seen[f] {
					seen[f] = true
					out = append(out, f)
				}
			}
		}
		return out
	}
	for _, f := range extract(value, hostKey.MatchString(key)) {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

// ExtractArg returns the hostnames in one command-line argument; flag is
// the argument before it when that was a flag without "=value".
func ExtractArg(arg, flag string) []string {
	if strings.HasPrefix(arg, "-") {
		name, v, ok := strings.Cut(arg, "=")
		if !ok {
			return nil
		}
		return extract(v, hostKey.MatchString(strings.TrimLeft(name, "-")))
	}
	ctx := flag != "" && (hostKey.MatchString(strings.TrimLeft(flag, "-")) || HostCommand(flag))
	if strings.Contains(arg, "\n") || strings.Count(arg, " ") > 3 {
		// A shell script (sh -c "..."): read it as a config text.
		return Extract(arg, "")
	}
	return extract(arg, ctx)
}

// extract finds hostnames in one line of text; ctx says the text is the
// value of something that holds hosts.
func extract(s string, ctx bool) []string {
	var out []string
	rest := s
	if strings.Contains(s, "@") {
		for _, m := range oracleRe.FindAllStringSubmatchIndex(s, -1) {
			out = appendHost(out, s[m[2]:m[3]], true)
		}
	}
	var locs [][]int
	if strings.Contains(s, "://") {
		locs = urlSchemes(s)
	}
	if locs != nil {
		var b strings.Builder
		prev := 0
		for _, l := range locs {
			if l[0] < prev {
				continue
			}
			b.WriteString(s[prev:l[0]])
			end := l[1]
			for end < len(s) && !strings.ContainsRune("/?# \t\"'<>()[]{}`|\\", rune(s[end])) {
				end++
			}
			authority := s[l[1]:end]
			if i := strings.LastIndexByte(authority, '@'); i >= 0 {
				authority = authority[i+1:]
			}
			for _, h := range strings.FieldsFunc(authority, func(r rune) bool { return r == ',' || r == ';' }) {
				if strings.HasPrefix(h, "[") { // IPv6 literal
					continue
				}
				host, _, _ := strings.Cut(h, ":")
				out = appendHost(out, host, true)
			}
			prev = end
		}
		b.WriteString(s[prev:])
		rest = b.String()
	}
	afterCmd := false // the previous words were a host command and its flags
	for _, tok := range strings.FieldsFunc(rest, isSep) {
		tok = strings.Trim(tok, "`*!?")
		tctx := ctx
		switch {
		case HostCommand(tok):
			afterCmd = true
			continue
		case afterCmd && strings.HasPrefix(tok, "-"):
			continue
		case afterCmd:
			tctx, afterCmd = true, false
		}
		if tok == "" || strings.ContainsAny(tok, "/\\$%@{}") {
			continue
		}
		if h, port, ok := strings.Cut(tok, ":"); ok {
			n, err := strconv.Atoi(port)
			if err != nil || n <= 0 || n > 65535 || n < 1024 && !wellKnownPorts[n] {
				continue
			}
			out = appendHost(out, h, true)
			continue
		}
		out = appendHost(out, tok, tctx)
	}
	return out
}

// urlSchemes returns what urlRe.FindAllStringIndex(s, -1) does: the
// "scheme://" of every URL. For ASCII text it scans for "://" and walks
// back over the scheme (the regexp was most of the time of extracting
// hosts); other text, where (?i) also folds the Kelvin sign and the long
// s, goes to the regexp.
func urlSchemes(s string) [][]int {
	if !isASCII(s) {
		return urlRe.FindAllStringIndex(s, -1)
	}
	var out [][]int
	for pos := 0; pos < len(s); {
		k := strings.Index(s[pos:], "://")
		if k < 0 {
			break
		}
		colon := pos + k
		// The scheme is the run of [a-z0-9+.-] before the colon (the
		// regexp's greedy run can end only there, as ':' is not in it);
		// it starts at its leftmost letter at a word boundary.
		r := colon
		for r > pos && isSchemeByte(s[r-1]) {
			r--
		}
		start := -1
		for i := r; i < colon; i++ {
			if isLetter(s[i]) && (i == 0 || !isWordByte(s[i-1])) {
				start = i
				break
			}
		}
		if start < 0 {
			pos = colon + 1
			continue
		}
		out = append(out, []int{start, colon + 3})
		pos = colon + 3
	}
	return out
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isSchemeByte(c byte) bool {
	return isLetter(c) || '0' <= c && c <= '9' || c == '+' || c == '.' || c == '-'
}

// isWordByte is \w of Go's regexp: [0-9A-Za-z_].
func isWordByte(c byte) bool { return isLetter(c) || '0' <= c && c <= '9' || c == '_' }

func appendHost(out []string, raw string, ctx bool) []string {
	if IsHostname(raw, ctx) {
		out = append(out, raw)
	}
	return out
}

// IsHostname reports whether s is taken for a hostname: always when it
// ends in .svc or has a known top-level domain, and in a hostname context
// (ctx) also single labels and other dotted names.
func IsHostname(s string, ctx bool) bool {
	s = strings.ToLower(s)
	t := strings.TrimSuffix(s, ".")
	if t == "" || len(t) > 253 || notHosts[t] || strings.HasSuffix(t, ".localhost") {
		return false
	}
	labels := strings.Split(t, ".")
	for _, l := range labels {
		if !validLabel(l) {
			return false
		}
	}
	lastL := labels[len(labels)-1]
	if strings.Trim(lastL, "0123456789") == "" || versionLike(labels[0]) && len(labels) > 1 {
		return false // an IP address, a version, a number
	}
	if len(labels) == 1 {
		return ctx && !strings.Contains(t, "_")
	}
	if lastL == "svc" || strings.Contains(t, ".svc.") || knownTLDs[lastL] {
		return true
	}
	return ctx
}
