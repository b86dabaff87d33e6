package testenv

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Relocation is a Corefile rewritten to run on this machine without
// touching any address but loopback.
type Relocation struct {
	Corefile string
	// Ports maps every port the original named (server keys and loopback
	// host:port arguments) to the free loopback port that replaced it.
	Ports map[int]int
}

// Port returns the new port for an original one, or 0.
func (r *Relocation) Port(orig int) int { return r.Ports[orig] }

// Relocate rewrites a Corefile so it can run here: every server key gets a
// free port (keys sharing a port keep sharing one), every host:port argument
// (prometheus :9153, health 169.254.20.10:8080, a local upstream
// 127.0.0.1:15353) moves to a free loopback port, bind lists become
// 127.0.0.1, and forward targets that are not on loopback (cluster IPs,
// /etc/resolv.conf, placeholders) become upstream. upstream may be empty
// when the Corefile forwards only to loopback.
func Relocate(corefile, upstream string) (*Relocation, error) {
	r := &Relocation{Ports: map[int]int{}}
	newPort := func(orig int) (int, error) {
		if p, ok := r.Ports[orig]; ok {
			return p, nil
		}
		p, err := FreePort()
		if err != nil {
			return 0, err
		}
		r.Ports[orig] = p
		return p, nil
	}
	var out strings.Builder
	depth := 0
	for _, line := range strings.SplitAfter(corefile, "\n") {
		body, comment := line, ""
		if i := strings.IndexByte(line, '#'); i >= 0 {
			body, comment = line[:i], line[i:]
		}
		nl := ""
		if strings.HasSuffix(comment, "\n") {
			comment, nl = strings.TrimSuffix(comment, "\n"), "\n"
		} else if strings.HasSuffix(body, "\n") {
			body, nl = strings.TrimSuffix(body, "\n"), "\n"
		}
		fields := strings.Fields(body)
		if len(fields) == 0 {
			out.WriteString(line)
			continue
		}
		indent := body[:len(body)-len(strings.TrimLeft(body, " \t"))]
		switch {
		case depth == 0 && fields[len(fields)-1] == "{":
			for i, key := range fields[:len(fields)-1] {
				k, err := relocateKey(key, newPort)
				if err != nil {
					return nil, err
				}
				fields[i] = k
			}
		case depth == 1 && fields[0] == "bind":
			fields = []string{"bind", "127.0.0.1"}
		case depth == 1 && fields[0] == "forward" && len(fields) >= 3:
			for i := 2; i < len(fields) && fields[i] != "{"; i++ {
				if loop, port := isLoopbackHostPort(fields[i]); loop && port > 0 {
					p, err := newPort(port)
					if err != nil {
						return nil, err
					}
					fields[i] = "127.0.0.1:" + strconv.Itoa(p)
					continue
				}
				if upstream == "" {
					return nil, fmt.Errorf("relocate: forward to %q needs an upstream", fields[i])
				}
				fields[i] = upstream
			}
		default:
			// prometheus :9153, health 169.254.20.10:8080, ready :8181, ...
			for i, f := range fields {
				if port := hostPortPort(f); port > 0 {
					p, err := newPort(port)
					if err != nil {
						return nil, err
					}
					fields[i] = "127.0.0.1:" + strconv.Itoa(p)
				}
			}
		}
		for _, f := range fields {
			depth += strings.Count(f, "{") - strings.Count(f, "}")
		}
		out.WriteString(indent + strings.Join(fields, " "))
		if comment != "" {
			out.WriteString(" " + comment)
		}
		out.WriteString(nl)
	}
	r.Corefile = out.String()
	return r, nil
}

// relocateKey gives a server key such as ".:53", "dns://cluster.local" or
// "10.in-addr.arpa:5353" a free port.
func relocateKey(key string, newPort func(int) (int, error)) (string, error) {
	scheme := ""
	if i := strings.Index(key, "://"); i >= 0 {
		scheme, key = key[:i+3], key[i+3:]
	}
	zone, port := key, 53
	if i := strings.LastIndexByte(key, ':'); i >= 0 {
		p, err := strconv.Atoi(key[i+1:])
		if err != nil {
			return "", fmt.Errorf("relocate: bad server key %q", key)
		}
		zone, port = key[:i], p
	}
	p, err := newPort(port)
	if err != nil {
		return "", err
	}
	return scheme + zone + ":" + strconv.Itoa(p), nil
}

// isLoopbackHostPort reports whether s is "host:port" with a loopback or
// empty (all interfaces) host, and returns the port.
func isLoopbackHostPort(s string) (bool, int) {
	host, ps, err := net.SplitHostPort(s)
	if err != nil {
		return false, 0
	}
	port, err := strconv.Atoi(ps)
	if err != nil {
		return false, 0
	}
	if host == "" || host == "localhost" {
		return true, port
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), port
}

// hostPortPort returns the port of s when s is ":port" or "IP:port", else 0.
func hostPortPort(s string) int {
	host, ps, err := net.SplitHostPort(s)
	if err != nil {
		return 0
	}
	if host != "" && host != "localhost" && net.ParseIP(host) == nil {
		return 0
	}
	port, err := strconv.Atoi(ps)
	if err != nil {
		return 0
	}
	return port
}
