package resolvconf

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func str(s string) *string { return &s }

var node = Node{
	ClusterDNS: []string{"10.96.0.10"},
	ResolvConf: Conf{
		Nameservers: []string{"169.254.169.254"},
		Search:      []string{"ec2.internal.", "."},
		Options:     []Option{{"timeout", "2"}},
	},
}

func TestForPod(t *testing.T) {
	cluster := "default.svc.cluster.local svc.cluster.local cluster.local ec2.internal"
	for _, tc := range []struct {
		name   string
		pod    Pod
		policy string
		want   string // Conf.String()
	}{
		{
			name:   "an empty policy is ClusterFirst: cluster DNS, cluster search then the node's, ndots 5",
			pod:    Pod{Namespace: "default"},
			policy: ClusterFirst,
			want:   "nameserver 10.96.0.10\nsearch " + cluster + "\noptions ndots:5\n",
		},
		{
			name:   "ClusterFirst on the host network silently becomes Default",
			pod:    Pod{Namespace: "default", DNSPolicy: ClusterFirst, HostNetwork: true},
			policy: Default,
			want:   "nameserver 169.254.169.254\nsearch ec2.internal\noptions timeout:2\n",
		},
		{
			name:   "ClusterFirstWithHostNet gives a host-network pod cluster DNS",
			pod:    Pod{Namespace: "default", DNSPolicy: ClusterFirstWithHostNet, HostNetwork: true},
			policy: ClusterFirstWithHostNet,
			want:   "nameserver 10.96.0.10\nsearch " + cluster + "\noptions ndots:5\n",
		},
		{
			name: "None takes only dnsConfig",
			pod: Pod{Namespace: "shop", DNSPolicy: None, DNSConfig: &PodDNSConfig{
				Nameservers: []string{"1.1.1.1"}, Searches: []string{"example.com"},
				Options: []PodDNSConfigOption{{Name: "ndots", Value: str("1")}},
			}},
			policy: None,
			want:   "nameserver 1.1.1.1\nsearch example.com\noptions ndots:1\n",
		},
		{
			name: "dnsConfig is appended de-duplicated and its ndots overrides 5",
			pod: Pod{Namespace: "shop", DNSConfig: &PodDNSConfig{
				Nameservers: []string{"10.96.0.10", "10.0.0.2"},
				Searches:    []string{"cluster.local", "corp.example"},
				Options:     []PodDNSConfigOption{{Name: "ndots", Value: str("2")}, {Name: "single-request-reopen"}},
			}},
			policy: ClusterFirst,
			want: "nameserver 10.96.0.10\nnameserver 10.0.0.2\n" +
				"search shop.svc.cluster.local svc.cluster.local cluster.local ec2.internal corp.example\n" +
				"options ndots:2 single-request-reopen\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := ForPod(tc.pod, node)
			if err != nil {
				t.Fatal(err)
			}
			if res.Policy != tc.policy {
				t.Errorf("policy %s, want %s", res.Policy, tc.policy)
			}
			if got := res.Conf.String(); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
			if len(res.Warnings) != 0 {
				t.Errorf("unexpected warnings %+v", res.Warnings)
			}
		})
	}
}

func TestForPodRejectsWhatTheAPIRejects(t *testing.T) {
	for _, pod := range []Pod{
		{DNSPolicy: None},
		{DNSPolicy: None, DNSConfig: &PodDNSConfig{Searches: []string{"a"}}},
		{DNSPolicy: "clusterfirst"},
	} {
		if _, err := ForPod(pod, node); err == nil {
			t.Errorf("%+v: no error", pod)
		}
	}
}

func TestForPodFallsBackToDefaultWithoutClusterDNS(t *testing.T) {
	n := node
	n.ClusterDNS = nil
	res, err := ForPod(Pod{Namespace: "default"}, n)
	if err != nil {
		t.Fatal(err)
	}
	if res.Policy != Default || len(res.Warnings) != 1 || res.Warnings[0].Reason != "MissingClusterDNS" {
		t.Fatalf("policy %s warnings %+v, want Default and one MissingClusterDNS", res.Policy, res.Warnings)
	}
}

func TestForPodKeepsThreeNameserversAndSaysWhichWereDropped(t *testing.T) {
	pod := Pod{Namespace: "default", DNSConfig: &PodDNSConfig{Nameservers: []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"}}}
	res, err := ForPod(pod, node)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"10.96.0.10", "10.0.0.1", "10.0.0.2"}; !reflect.DeepEqual(res.Conf.Nameservers, want) {
		t.Errorf("nameservers %v, want %v", res.Conf.Nameservers, want)
	}
	if len(res.Warnings) != 1 || !reflect.DeepEqual(res.Warnings[0].Dropped, []string{"10.0.0.3"}) {
		t.Errorf("warnings %+v, want one dropping 10.0.0.3", res.Warnings)
	}
}

func TestForPodTruncatesTheSearchListToTheLimits(t *testing.T) {
	many := func(n, size int) []string {
		var s []string
		for i := range n {
			d := fmt.Sprintf("d%02d.", i)
			s = append(s, d+strings.Repeat("x", size-len(d)))
		}
		return s
	}
	for _, tc := range []struct {
		name     string
		limits   Limits
		searches []string
		kept     int    // search domains in the result
		dropped  string // one of the dropped domains
	}{
		{"legacy clusters keep 6 domains", LegacyLimits, many(5, 10), 6, many(5, 10)[4]},
		{"legacy clusters keep 256 characters", LegacyLimits, many(3, 100), 5, many(3, 100)[1]},
		{"current clusters keep 32 domains", CurrentLimits, many(40, 10), 32, many(40, 10)[39]},
		{"current clusters keep 2048 characters", CurrentLimits, many(25, 100), 23, many(25, 100)[19]},
		{"a domain over 253 characters is dropped", CurrentLimits, many(1, 254), 4, many(1, 254)[0]},
		{"a list within the limits is kept whole", LegacyLimits, many(2, 10), 6, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := node
			n.Limits = tc.limits
			n.ResolvConf.Search = []string{"ec2.internal"}
			res, err := ForPod(Pod{Namespace: "default", DNSConfig: &PodDNSConfig{Searches: tc.searches}}, n)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Conf.Search) != tc.kept {
				t.Errorf("kept %d domains, want %d: %v", len(res.Conf.Search), tc.kept, res.Conf.Search)
			}
			if l := len(strings.Join(res.Conf.Search, " ")); l > tc.limits.SearchChars {
				t.Errorf("search line %d characters, over %d", l, tc.limits.SearchChars)
			}
			if tc.dropped == "" {
				if len(res.Warnings) != 0 {
					t.Errorf("unexpected warnings %+v", res.Warnings)
				}
				return
			}
			if len(res.Warnings) != 1 || res.Warnings[0].Reason != "DNSConfigForming" {
				t.Fatalf("warnings %+v, want one DNSConfigForming", res.Warnings)
			}
			if d := res.Warnings[0].Dropped; !slices.Contains(d, tc.dropped) {
				t.Errorf("dropped %v, want it to hold %s", d, tc.dropped)
			}
			if !strings.HasSuffix(res.Warnings[0].Message, strings.Join(res.Conf.Search, " ")) {
				t.Errorf("message %q does not end with the applied search line", res.Warnings[0].Message)
			}
		})
	}
}

func TestLimitsAreLegacyBeforeKubernetes128(t *testing.T) {
	for _, c := range []struct {
		major, minor int
		want         Limits
	}{{1, 27, LegacyLimits}, {1, 28, CurrentLimits}, {1, 31, CurrentLimits}, {2, 0, CurrentLimits}, {0, 9, LegacyLimits}, {0, 0, CurrentLimits}} {
		if got := LimitsFor(c.major, c.minor); got != c.want {
			t.Errorf("%d.%d: %+v, want %+v", c.major, c.minor, got, c.want)
		}
	}
}

func TestUniqueKeepsTheFirstOfEachShortOrLong(t *testing.T) {
	for _, n := range []int{5, 100} {
		var in, want []string
		for i := range n {
			in = append(in, fmt.Sprint(i%(n/2+1)), fmt.Sprint(i))
		}
		for i := range n {
			if !slices.Contains(want, fmt.Sprint(i%(n/2+1))) {
				want = append(want, fmt.Sprint(i%(n/2+1)))
			}
			if !slices.Contains(want, fmt.Sprint(i)) {
				want = append(want, fmt.Sprint(i))
			}
		}
		if got := Unique(in); !reflect.DeepEqual(got, want) {
			t.Errorf("%d: got %v, want %v", n, got, want)
		}
	}
}
