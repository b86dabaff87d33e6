package corefile

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Placeholder is unrendered template or placeholder text in a Corefile:
// a Go/Helm action, a sed/envsubst/salt placeholder or a documentation
// stand-in. Parse reads the Corefile as if each held Value.
type Placeholder struct {
	Text   string
	Offset int
	Value  string // the neutral value read in its place ("" for a control action)
}

var (
	// One pattern per placeholder style; a match of an earlier one wins.
	placeholderRes = []*regexp.Regexp{
		regexp.MustCompile(`\{\{.*?\}\}`),                                           // Go/Helm action
		regexp.MustCompile(`%\{[A-Za-z_][A-Za-z0-9_]*\}%`),                          // k3s
		regexp.MustCompile(`__[A-Z0-9]+(?:_{1,2}[A-Z0-9]+)*__`),                     // __PILLAR__X__
		regexp.MustCompile(`\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$[A-Za-z_][A-Za-z0-9_]*`), // $X, ${X}
		regexp.MustCompile(`<[A-Za-z][A-Za-z0-9 _-]*>`),                             // <your-domain>
		regexp.MustCompile(`\b[A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9]\b|\b(?:UPSTREAMNAMESERVER|STUBDOMAINS|FEDERATIONS|dns_domain|dns_server)\b`),
	}
	controlAction = regexp.MustCompile(`^\{\{-?\s*(?:if|else|end|range|with|define|block|template|include|/\*)\b`)
)

// findPlaceholders returns the placeholders of src outside comments, in
// order, with their neutral values.
func findPlaceholders(src []byte) []Placeholder {
	var out []Placeholder
	off := 0
	addrs, names := map[string]string{}, map[string]string{}
	for _, line := range strings.SplitAfter(string(src), "\n") {
		code := line
		if i := commentStart(line); i >= 0 {
			code = line[:i]
		}
		var spans [][2]int
		for _, re := range placeholderRes {
			for _, m := range re.FindAllStringIndex(code, -1) {
				if overlaps(spans, m) || isEnvRef(code, m) || isRegexGroup(code, m) || inQuotes(code, m[0]) {
					continue
				}
				spans = append(spans, [2]int{m[0], m[1]})
			}
		}
		sort.Slice(spans, func(i, j int) bool { return spans[i][0] < spans[j][0] })
		directive := directiveOf(code)
		for _, s := range spans {
			text := code[s[0]:s[1]]
			v := neutral(text, directive, code[s[1]:])
			if v == "example.org" {
				// Distinct placeholders, distinct names: two keys are
				// two zones.
				if _, ok := names[text]; !ok {
					names[text] = "example.org"
					if len(names) > 0 {
						names[text] = fmt.Sprintf("example%d.org", len(names))
					}
				}
				v = names[text]
			}
			if v == "10.0.0.10" {
				// Distinct placeholders, distinct addresses: two bind
				// placeholders on one line are two addresses.
				if _, ok := addrs[text]; !ok {
					addrs[text] = fmt.Sprintf("10.0.0.%d", 10+len(addrs))
				}
				v = addrs[text]
			}
			out = append(out, Placeholder{Text: text, Offset: off + s[0], Value: v})
		}
		off += len(line)
	}
	return out
}

// directiveOf is the first word of a line.
func directiveOf(code string) string {
	if f := strings.Fields(code); len(f) > 0 {
		return f[0]
	}
	return ""
}

// inQuotes reports whether code[i] is inside a double-quoted string: the
// template plugin's answers are Go templates CoreDNS renders itself.
func inQuotes(code string, i int) bool {
	return strings.Count(code[:i], `"`)%2 == 1
}

// commentStart is the index of the '#' starting a comment, or -1.
func commentStart(line string) int {
	quoted := false
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '"':
			quoted = !quoted
		case '#':
			if !quoted {
				return i
			}
		}
	}
	return -1
}

func overlaps(spans [][2]int, m []int) bool {
	for _, s := range spans {
		if m[0] < s[1] && s[0] < m[1] {
			return true
		}
	}
	return false
}

// isEnvRef: CoreDNS's own {$VAR} environment references are not
// placeholders.
func isEnvRef(code string, m []int) bool {
	if code[m[0]] == '$' && m[0] > 0 && code[m[0]-1] == '{' {
		return true
	}
	return m[0] > 1 && code[m[0]-2:m[0]] == "{$"
}

// isRegexGroup: (?P<name>...) in a rewrite regex.
func isRegexGroup(code string, m []int) bool {
	return code[m[0]] == '<' && m[0] > 0 && (code[m[0]-1] == 'P' || code[m[0]-1] == '?')
}

// neutral is the value a placeholder is read as: nothing for a template
// control action or a placeholder standing for whole server blocks, a
// single label when glued to a following domain, else a domain, a reverse
// zone, an address or a number as its name or directive suggests.
func neutral(text, directive, after string) string {
	if controlAction.MatchString(text) || text == "STUBDOMAINS" || text == "FEDERATIONS" {
		return ""
	}
	up := strings.ToUpper(text)
	if strings.HasPrefix(text, "<") {
		// A documentation stand-in (<your-domain>, <our-internal-root-domain>)
		// is the reader's own name, never the cluster domain.
		up = strings.ReplaceAll(up, "DOMAIN", "")
	}
	if len(after) > 1 && after[0] == '.' && isLetter(after[1]) || strings.HasPrefix(after, `\.`) {
		return "example"
	}
	switch {
	case strings.Contains(up, "CIDR"):
		return "in-addr.arpa"
	case strings.Contains(up, "DOMAIN"):
		return "cluster.local"
	case strings.Contains(up, "TTL"):
		return "30"
	case strings.Contains(up, "SERVER"), strings.Contains(up, "IP"), strings.Contains(up, "UPSTREAM"),
		strings.Contains(up, "LOCAL__DNS"), strings.Contains(up, "CLUSTER__DNS"):
		return "10.0.0.10"
	}
	switch directive {
	case "bind", "forward", "proxy", "health", "ready", "prometheus":
		return "10.0.0.10"
	}
	return "example.org"
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// piece is a run of the substituted text: a copy of src[orig:origEnd]
// or, when repl is set, a placeholder's value standing for it.
type piece struct {
	at, orig, origEnd int
	repl              bool
}

// substitute returns src with every placeholder replaced by its value,
// line for line: a line holding only template actions becomes blank, and
// the text after a leading `{{-` action (which trims the line break before
// it) joins the line before. pieces map the result back to src.
func substitute(src []byte, ps []Placeholder) ([]byte, []piece) {
	var out []byte
	var pieces []piece
	copyRange := func(a, b int) {
		if a < b {
			pieces = append(pieces, piece{at: len(out), orig: a, origEnd: b})
			out = append(out, src[a:b]...)
		}
	}
	put := func(p Placeholder) {
		pieces = append(pieces, piece{at: len(out), orig: p.Offset, origEnd: p.Offset + len(p.Text), repl: true})
		out = append(out, p.Value...)
	}
	i, pos := 0, 0
	for pos < len(src) {
		end := pos
		for end < len(src) && src[end] != '\n' {
			end++
		}
		var mine []Placeholder
		for i < len(ps) && ps[i].Offset < end {
			mine = append(mine, ps[i])
			i++
		}
		line := string(src[pos:end])
		code := line
		if c := commentStart(line); c >= 0 {
			code = line[:c]
		}
		rest := code
		for j := len(mine) - 1; j >= 0; j-- {
			p := mine[j]
			rest = rest[:p.Offset-pos] + rest[p.Offset-pos+len(p.Text):]
		}
		onlyActions := len(mine) > 0 && strings.TrimSpace(rest) == "" && strings.HasPrefix(mine[0].Text, "{{")
		switch {
		case onlyActions:
			// Kept as an empty line (its comment too, for `# want`).
			if c := commentStart(line); c >= 0 {
				copyRange(pos+c, end)
			}
		case len(mine) > 0 && strings.HasPrefix(mine[0].Text, "{{-") && strings.TrimSpace(line[:mine[0].Offset-pos]) == "" && len(out) > 0 && out[len(out)-1] == '\n':
			// `{{-` trims the line break before it: what follows joins
			// the line before, and this line stays empty.
			out = out[:len(out)-1]
			pieces = trimLast(pieces, len(out))
			emitLine(src, mine, pos, end, copyRange, put)
			pieces = append(pieces, piece{at: len(out), orig: end, origEnd: end, repl: true})
			out = append(out, '\n')
		default:
			emitLine(src, mine, pos, end, copyRange, put)
		}
		if end < len(src) {
			copyRange(end, end+1)
		}
		pos = end + 1
	}
	return out, pieces
}

// emitLine copies src[from:end] with the placeholders ps replaced.
func emitLine(src []byte, ps []Placeholder, from, end int, copyRange func(a, b int), put func(Placeholder)) {
	for _, p := range ps {
		copyRange(from, p.Offset)
		put(p)
		from = p.Offset + len(p.Text)
	}
	copyRange(from, end)
}

// trimLast drops what pieces hold at or after n bytes of output.
func trimLast(pieces []piece, n int) []piece {
	for len(pieces) > 0 {
		l := &pieces[len(pieces)-1]
		if l.at >= n {
			pieces = pieces[:len(pieces)-1]
			continue
		}
		if !l.repl && l.at+(l.origEnd-l.orig) > n {
			l.origEnd = l.orig + (n - l.at)
		}
		break
	}
	return pieces
}

// mapBack maps an offset of the substituted text to src: inside a
// placeholder's value to the placeholder's start (or end, for end
// offsets).
func mapBack(pieces []piece, off int, isEnd bool) int {
	k := sort.Search(len(pieces), func(i int) bool { return pieces[i].at > off }) - 1
	if isEnd {
		k = sort.Search(len(pieces), func(i int) bool { return pieces[i].at >= off }) - 1
	}
	if k < 0 {
		return off
	}
	p := pieces[k]
	if p.repl {
		if isEnd {
			return p.origEnd
		}
		return p.orig
	}
	return min(p.orig+(off-p.at), p.origEnd)
}
