// Package resolvconf reads and writes resolv.conf files and computes the
// resolv.conf kubelet gives a pod. It holds only what the file says:
// how glibc, musl and Go interpret each option (their caps, what they
// ignore) lives in package resolver.
package resolvconf

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Conf is the content of a resolv.conf file, in file order.
type Conf struct {
	Nameservers []string
	// Search is the search list. A "domain" line is read as a one-entry
	// search list, as glibc and musl do: the last search or domain line
	// wins.
	Search  []string
	Options []Option
}

// Option is one word of an "options" line: "ndots:5" is {ndots 5},
// "rotate" is {rotate ""}.
type Option struct {
	Name  string
	Value string
}

// String returns the option as it is written in resolv.conf.
func (o Option) String() string {
	if o.Value == "" {
		return o.Name
	}
	return o.Name + ":" + o.Value
}

// ParseOption splits an options word such as "ndots:5" at its first colon.
func ParseOption(word string) Option {
	name, value, _ := strings.Cut(word, ":")
	return Option{Name: name, Value: value}
}

// Option returns the value of the last option called name, as resolvers
// let a later word override an earlier one, and whether it is present.
func (c Conf) Option(name string) (string, bool) {
	value, found := "", false
	for _, o := range c.Options {
		if o.Name == name {
			value, found = o.Value, true
		}
	}
	return value, found
}

// Has reports whether option name is present.
func (c Conf) Has(name string) bool {
	_, ok := c.Option(name)
	return ok
}

// IntOption returns the numeric value of the last option called name, or
// def when it is absent or not a number (resolvers then keep their default).
func (c Conf) IntOption(name string, def int) int {
	v, ok := c.Option(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return def
	}
	return n
}

// WithOption returns a copy of c with option name set to value, in place
// of any earlier one, at the end of the options.
func (c Conf) WithOption(name, value string) Conf {
	out := c
	out.Options = nil
	for _, o := range c.Options {
		if o.Name != name {
			out.Options = append(out.Options, o)
		}
	}
	out.Options = append(out.Options, Option{Name: name, Value: value})
	return out
}

// WithNdots returns a copy of c with ndots n.
func (c Conf) WithNdots(n int) Conf { return c.WithOption("ndots", strconv.Itoa(n)) }

// String writes c as a resolv.conf, in the order kubelet writes one:
// nameserver lines, one search line, one options line.
func (c Conf) String() string {
	var b strings.Builder
	for _, ns := range c.Nameservers {
		fmt.Fprintf(&b, "nameserver %s\n", ns)
	}
	if len(c.Search) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(c.Search, " "))
	}
	if len(c.Options) > 0 {
		words := make([]string, len(c.Options))
		for i, o := range c.Options {
			words[i] = o.String()
		}
		fmt.Fprintf(&b, "options %s\n", strings.Join(words, " "))
	}
	return b.String()
}

// numericOptions are the options whose value resolvers read as a number.
var numericOptions = map[string]bool{"ndots": true, "timeout": true, "attempts": true}

// flagOptions are the options that take no value.
var flagOptions = map[string]bool{
	"single-request": true, "single-request-reopen": true, "use-vc": true,
	"edns0": true, "rotate": true, "trust-ad": true, "no-tld-query": true,
	"inet6": true, "debug": true, "no-check-names": true, "no-reload": true,
	"no-aaaa": true,
}

// ParseError lists what Parse could not understand, one entry per line.
// Resolvers skip such lines or words silently; the linter reports them.
type ParseError struct {
	Problems []LineProblem
}

// LineProblem is one thing a resolver would skip, with its 1-based line.
type LineProblem struct {
	Line int
	Msg  string
}

// Error joins the problems as "line N: message" lines.
func (e *ParseError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = fmt.Sprintf("line %d: %s", p.Line, p.Msg)
	}
	return strings.Join(parts, "; ")
}

// Parse reads resolv.conf text. Like the resolvers it keeps going past
// lines it cannot use: it returns everything it understood and, when some
// line or option was malformed, a *ParseError naming them. Comments start
// with '#' or ';'. Unknown options are kept (kubelet passes them through),
// unknown keywords are skipped.
func Parse(r io.Reader) (Conf, error) {
	var c Conf
	var problems []LineProblem
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexAny(line, "#;"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "nameserver":
			if len(f) < 2 {
				problems = append(problems, LineProblem{n, "nameserver without an address"})
				continue
			}
			c.Nameservers = append(c.Nameservers, f[1])
		case "search", "domain":
			if len(f) < 2 {
				problems = append(problems, LineProblem{n, f[0] + " without a domain"})
				continue
			}
			if f[0] == "domain" {
				c.Search = []string{f[1]}
			} else {
				c.Search = append([]string(nil), f[1:]...)
			}
		case "options":
			for _, w := range f[1:] {
				o := ParseOption(w)
				switch {
				case numericOptions[o.Name]:
					if _, err := strconv.Atoi(o.Value); err != nil {
						problems = append(problems, LineProblem{n, fmt.Sprintf("option %s needs a number, got %q", o.Name, w)})
						continue
					}
				case flagOptions[o.Name] && o.Value != "":
					problems = append(problems, LineProblem{n, fmt.Sprintf("option %s takes no value, got %q", o.Name, w)})
					continue
				}
				c.Options = append(c.Options, o)
			}
		case "sortlist":
			// Understood by glibc, irrelevant to which queries are sent.
		default:
			problems = append(problems, LineProblem{n, fmt.Sprintf("unknown keyword %q", f[0])})
		}
	}
	if err := sc.Err(); err != nil {
		return c, err
	}
	if len(problems) > 0 {
		return c, &ParseError{Problems: problems}
	}
	return c, nil
}
