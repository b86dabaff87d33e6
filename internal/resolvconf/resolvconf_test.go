package resolvconf

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseReadsNameserversSearchAndOptions(t *testing.T) {
	in := `# written by kubelet
nameserver 10.96.0.10
nameserver 10.96.0.11 ; trailing comment
search shop.svc.cluster.local svc.cluster.local cluster.local
options ndots:5 timeout:1 attempts:2 single-request single-request-reopen use-vc edns0 rotate
`
	got, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := Conf{
		Nameservers: []string{"10.96.0.10", "10.96.0.11"},
		Search:      []string{"shop.svc.cluster.local", "svc.cluster.local", "cluster.local"},
		Options: []Option{
			{"ndots", "5"}, {"timeout", "1"}, {"attempts", "2"}, {"single-request", ""},
			{"single-request-reopen", ""}, {"use-vc", ""}, {"edns0", ""}, {"rotate", ""},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func TestParseLetsTheLastSearchOrDomainLineWin(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"search a b\ndomain c\n", "c"},
		{"domain c\nsearch a b\n", "a b"},
	} {
		got, err := Parse(strings.NewReader(tc.in))
		if err != nil {
			t.Fatal(err)
		}
		if s := strings.Join(got.Search, " "); s != tc.want {
			t.Errorf("%q: search %q, want %q", tc.in, s, tc.want)
		}
	}
}

func TestParseReportsMalformedLinesAndKeepsTheRest(t *testing.T) {
	in := "nameserver\noptions ndots:x rotate:1 timeout:2\nfrobnicate yes\nnameserver 1.1.1.1\n"
	got, err := Parse(strings.NewReader(in))
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("err %v, want a *ParseError", err)
	}
	var lines []int
	for _, p := range pe.Problems {
		lines = append(lines, p.Line)
	}
	if !reflect.DeepEqual(lines, []int{1, 2, 2, 3}) {
		t.Errorf("problem lines %v, want [1 2 2 3]: %v", lines, err)
	}
	want := Conf{Nameservers: []string{"1.1.1.1"}, Options: []Option{{"timeout", "2"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestStringRoundTripsThroughParse(t *testing.T) {
	c := Conf{
		Nameservers: []string{"10.96.0.10"},
		Search:      []string{"default.svc.cluster.local", "svc.cluster.local", "cluster.local"},
		Options:     []Option{{"ndots", "2"}, {"single-request-reopen", ""}},
	}
	want := "nameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:2 single-request-reopen\n"
	if c.String() != want {
		t.Fatalf("String() = %q, want %q", c.String(), want)
	}
	back, err := Parse(strings.NewReader(c.String()))
	if err != nil || !reflect.DeepEqual(back, c) {
		t.Fatalf("Parse(String()) = %+v, %v; want %+v", back, err, c)
	}
}

func TestOptionLookupsTakeTheLastValueAndFallBackOnJunk(t *testing.T) {
	c := Conf{Options: []Option{{"ndots", "1"}, {"ndots", "3"}, {"timeout", "x"}}}
	if n := c.IntOption("ndots", 1); n != 3 {
		t.Errorf("ndots %d, want 3", n)
	}
	if n := c.IntOption("timeout", 5); n != 5 {
		t.Errorf("timeout %d, want the default 5", n)
	}
	if c.Has("rotate") {
		t.Error("Has(rotate) on a conf without it")
	}
}

func TestWithOptionReplacesTheOptionAndLeavesTheOriginal(t *testing.T) {
	c := Conf{Nameservers: []string{"10.96.0.10"}, Options: []Option{{"ndots", "5"}, {"timeout", "2"}, {"ndots", "4"}}}
	got := c.WithNdots(2).WithOption("single-request-reopen", "")
	if s := got.String(); s != "nameserver 10.96.0.10\noptions timeout:2 ndots:2 single-request-reopen\n" {
		t.Errorf("got %q", s)
	}
	if s := c.String(); s != "nameserver 10.96.0.10\noptions ndots:5 timeout:2 ndots:4\n" {
		t.Errorf("the original changed: %q", s)
	}
}
