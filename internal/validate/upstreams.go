package validate

import (
	"net"
	"strings"

	"github.com/miekg/dns"
)

// OfflineUpstream is the address given, for validation only, to a
// forward upstream named by host name. CoreDNS 1.15.0's forward setup
// resolves such names while it parses (plugin/forward/resolve.go: the
// system resolver, or the block's `resolver` addresses): validating would
// otherwise send DNS queries from the linting machine, and the answer
// would say what that machine resolves, not what the CoreDNS pod does.
// 192.0.2.1 is TEST-NET-1 (RFC 5737); nothing is ever sent to it, since
// validation starts no server.
const OfflineUpstream = "192.0.2.1"

// OfflineUpstreams returns text with every forward upstream that CoreDNS
// would resolve by name replaced by OfflineUpstream, transport, port and
// TLS server name (%zone) kept. Lines are neither added nor removed, so
// CoreDNS's line numbers stay the input's.
func OfflineUpstreams(text string) string {
	lines := strings.SplitAfter(text, "\n")
	changed := false
	for i, line := range lines {
		code := stripComment(line)
		fields := strings.Fields(code)
		if len(fields) < 3 || fields[0] != "forward" {
			continue
		}
		out := line
		for _, f := range fields[2:] {
			if strings.HasPrefix(f, "{") || strings.HasPrefix(f, "#") {
				break
			}
			if r, ok := offlineUpstream(f); ok {
				out = replaceField(out, f, r)
			}
		}
		if out != line {
			lines[i], changed = out, true
		}
	}
	if !changed {
		return text
	}
	return strings.Join(lines, "")
}

// offlineUpstream returns tok with its host name replaced, if tok is an
// upstream CoreDNS's forward resolves by name: not an IP address, not a
// path, a domain name, with a transport forward accepts for names.
func offlineUpstream(tok string) (string, bool) {
	t := strings.TrimSuffix(tok, "{")
	zone := ""
	if i := strings.IndexByte(t, '%'); i >= 0 {
		t, zone = t[:i], t[i:]
	}
	prefix := ""
	for _, p := range []string{"dns://", "tls://", "https://", "quic://"} {
		if strings.HasPrefix(t, p) {
			prefix, t = p, t[len(p):]
			break
		}
	}
	if strings.Contains(t, "://") || strings.Contains(t, "/") || t == "" {
		return "", false // another transport, a file, or a path
	}
	host, port := t, ""
	if h, p, err := net.SplitHostPort(t); err == nil {
		host, port = h, ":"+p
	}
	host = strings.Trim(host, "[]")
	if net.ParseIP(host) != nil {
		return "", false
	}
	if _, ok := dns.IsDomainName(host); !ok {
		return "", false
	}
	r := prefix + OfflineUpstream + port + zone
	if strings.HasSuffix(tok, "{") {
		r += "{"
	}
	return r, true
}

// replaceField replaces the first whitespace-delimited occurrence of f in
// line with r.
func replaceField(line, f, r string) string {
	from := 0
	for {
		i := strings.Index(line[from:], f)
		if i < 0 {
			return line
		}
		i += from
		end := i + len(f)
		before := i == 0 || line[i-1] == ' ' || line[i-1] == '\t'
		after := end == len(line) || strings.ContainsRune(" \t\r\n#", rune(line[end]))
		if before && after {
			return line[:i] + r + line[end:]
		}
		from = end
	}
}
