// Package report is the k8slint report: which workloads wasted DNS over a
// window, and how. The plugin serves it as JSON at /k8slint/report
// (`report ADDR`); dnslint decodes the reports of several CoreDNS replicas
// and merges them with Merge. The package uses only the standard library,
// so that a reader of reports links nothing of CoreDNS.
//
// The JSON schema is these types (the json tags are the field names),
// version Version: a reader rejects another version (Decode). The fields
// and how they merge are documented here and in plugin/k8slint/README.md,
// "The report"; testdata/report.golden.json is a complete example.
//
// Every count of a report is a sum, so reports merge by adding them. The
// entries are a space-saving summary (Metwally et al.) of the workloads
// by wasted NXDOMAIN answers: a report keeps at most Capacity entries, and
// an entry that took the place of another carries in WastedError how much
// it may have wasted before it was listed. Floor bounds what any entry
// not listed wasted. Both are kept through Merge.
package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Version is the schema version of the reports this package reads and
// writes.
const Version = 3

// Entry levels: who sent the queries.
const (
	// LevelWorkload: the pods of one workload (Kind is its kind: Deployment,
	// StatefulSet, DaemonSet, Job, CronJob, ReplicaSet, Pod for a pod
	// without a controller, or another owner's kind).
	LevelWorkload = "workload"
	// LevelNode: a node's own address (host-network pods, the node itself,
	// or NodeLocal DNSCache on it); Name is the node's name.
	LevelNode = "node"
	// LevelAddress: a client address attribution could not name (attribution
	// off, the API unreachable, or not a pod); Address is the address.
	LevelAddress = "address"
)

// NamesCapacity is how many base names an entry keeps.
const NamesCapacity = 8

// Report is one report: the counts of a window, per entry.
type Report struct {
	Version   int       `json:"version"`
	Generator string    `json:"generator"`
	Window    Window    `json:"window"`
	Replicas  []Replica `json:"replicas"`
	// Capacity is the most entries a replica's summary keeps (100 in
	// k8slint).
	Capacity int `json:"capacity"`
	// Floor bounds the wasted NXDOMAIN answers of any entry not listed.
	Floor uint64 `json:"floor"`
	// Totals are the counts of every query of the window, listed or not.
	Totals    Counts     `json:"totals"`
	Workloads []Workload `json:"workloads"`
}

// Window is the time a report covers.
type Window struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Complete is false for a window still in progress (End is when the
	// report was made).
	Complete bool `json:"complete"`
}

// Replica is one k8slint instance whose counts a report holds.
type Replica struct {
	// Name is the host name: the CoreDNS pod's name in a cluster.
	Name string `json:"name"`
	// Servers are the server labels (the `server` label of the metrics)
	// the instance watched.
	Servers []string `json:"servers"`
	// Started is when the instance started: a restart loses the window.
	Started     time.Time   `json:"started"`
	Window      Window      `json:"window"`
	Attribution Attribution `json:"attribution"`
}

// Attribution states.
const (
	AttributionOff         = "off"
	AttributionConnecting  = "connecting"
	AttributionSynced      = "synced"
	AttributionUnreachable = "unreachable"
)

// CronJob owner states: whether the pods of a CronJob's Jobs are named as
// the CronJob (attribution's watch of Jobs).
const (
	// CronJobsConnecting: the Jobs are not listed yet.
	CronJobsConnecting = "connecting"
	// CronJobsSynced: the Jobs are watched; a CronJob's pods are named as
	// the CronJob.
	CronJobsSynced = "synced"
	// CronJobsUnavailable: the Jobs cannot be watched (CronJobsError says
	// why: no list and watch on jobs in API group batch); a CronJob's pods
	// are named as their Job.
	CronJobsUnavailable = "unavailable"
)

// Attribution is the state of a replica's pod watch when the report was
// made.
type Attribution struct {
	State string `json:"state"`
	// Pods is how many pods the replica knows.
	Pods int `json:"pods"`
	// Error is why the API is unreachable (state unreachable).
	Error string `json:"error,omitempty"`
	// CronJobs is the state of the Job watch that names a CronJob's pods
	// as the CronJob (CronJobs* states; absent with attribution off), and
	// CronJobsError why it is unavailable.
	CronJobs      string `json:"cronJobs,omitempty"`
	CronJobsError string `json:"cronJobsError,omitempty"`
}

// Workload is one entry: the queries of one workload, node or address.
type Workload struct {
	Level     string `json:"level"`
	Namespace string `json:"namespace,omitempty"`
	Kind      string `json:"kind,omitempty"`
	Name      string `json:"name,omitempty"`
	Address   string `json:"address,omitempty"`
	Counts
	// WastedError is how many more wasted NXDOMAIN answers the entry may
	// have caused before it was listed: the true count lies between
	// WastedNXDOMAIN and WastedNXDOMAIN+WastedError. When it is 0, every
	// count of the entry is exact.
	WastedError uint64 `json:"wastedError"`
	// TopNames are the base names it wasted most on, a space-saving summary
	// of NamesCapacity names; NamesFloor bounds a name not listed.
	TopNames   []Name    `json:"topNames"`
	NamesFloor uint64    `json:"namesFloor"`
	Resolver   Resolver  `json:"resolver"`
	FirstSeen  time.Time `json:"firstSeen"`
	LastSeen   time.Time `json:"lastSeen"`
}

// Counts are the sums a report keeps per entry and in total.
type Counts struct {
	Queries          uint64 `json:"queries"`
	SearchExpansions uint64 `json:"searchExpansions"`
	WastedNXDOMAIN   uint64 `json:"wastedNXDOMAIN"`
	// UnconfirmedNXDOMAIN are NXDOMAIN answers to names shaped as search
	// candidates whose walk the replica did not see go on: the other
	// candidates went to other replicas, or the name was asked as it is.
	// The waste of the entry's walks lies between WastedNXDOMAIN and
	// WastedNXDOMAIN+UnconfirmedNXDOMAIN (plugin/k8slint/README.md,
	// "Search-path expansion").
	UnconfirmedNXDOMAIN uint64   `json:"unconfirmedNXDOMAIN"`
	Pairs               Pairs    `json:"pairs"`
	RaceSuspected       uint64   `json:"raceSuspected"`
	UpstreamFailures    Upstream `json:"upstreamFailures"`
}

// Pairs are the A/AAAA pairs by how they were sent (see the plugin's
// README, "A/AAAA pairs").
type Pairs struct {
	Parallel   uint64 `json:"parallel"`
	SameSocket uint64 `json:"sameSocket"`
	NewSocket  uint64 `json:"newSocket"`
	TCP        uint64 `json:"tcp"`
}

// Upstream are the failed answers for names outside the cluster, by the
// reason of coredns_k8slint_upstream_failures_total.
type Upstream struct {
	Servfail          uint64 `json:"servfail"`
	Refused           uint64 `json:"refused"`
	Timeout           uint64 `json:"timeout"`
	ConnectionRefused uint64 `json:"connectionRefused"`
	NoHealthyUpstream uint64 `json:"noHealthyUpstream"`
	Error             uint64 `json:"error"`
}

// Name is a base name and the wasted NXDOMAIN answers searching it cost:
// between WastedNXDOMAIN and WastedNXDOMAIN+Error.
type Name struct {
	Name           string `json:"name"`
	WastedNXDOMAIN uint64 `json:"wastedNXDOMAIN"`
	Error          uint64 `json:"error"`
}

// Resolver is what the queries say of the clients' resolver settings.
// Absent fields were not observed.
type Resolver struct {
	// SearchedDots is the most dots in a base name whose search walk went
	// through to the bare name: the clients' ndots was greater.
	SearchedDots *int `json:"searchedDots,omitempty"`
	// AsIsDots is the fewest dots in a name outside the cluster that was
	// asked as it is, not after search candidates: the clients' ndots was at
	// most that, unless the application wrote the name with a trailing dot.
	AsIsDots *int `json:"asIsDots,omitempty"`
	// NdotsAtLeast is SearchedDots+1.
	NdotsAtLeast *int `json:"ndotsAtLeast,omitempty"`
	// NdotsAtMost is AsIsDots when it does not contradict NdotsAtLeast.
	NdotsAtMost *int `json:"ndotsAtMost,omitempty"`
	// SearchListLength is the most search candidates a walk that went
	// through to the bare name asked: the length of the search list.
	SearchListLength *int `json:"searchListLength,omitempty"`
}

// Key identifies an entry.
type Key struct{ Level, Namespace, Kind, Name, Address string }

// Key returns w's identity: an address entry is its address, a node its
// name, a workload its namespace, kind and name.
func (w *Workload) Key() Key {
	switch w.Level {
	case LevelAddress:
		return Key{Level: w.Level, Address: w.Address}
	case LevelNode:
		return Key{Level: w.Level, Name: w.Name}
	}
	return Key{Level: w.Level, Namespace: w.Namespace, Kind: w.Kind, Name: w.Name}
}

// String names w as the report's log lines and the HTML page do:
// "Deployment shop/api", "node node-1", "client 10.244.1.7".
func (w *Workload) String() string {
	switch w.Level {
	case LevelAddress:
		return "client " + w.Address
	case LevelNode:
		return "node " + w.Name
	}
	return w.Kind + " " + w.Namespace + "/" + w.Name
}

// upper is the most w may have wasted.
func (w *Workload) upper() uint64 { return w.WastedNXDOMAIN + w.WastedError }

// Add adds o's counts to c.
func (c *Counts) Add(o *Counts) {
	c.Queries += o.Queries
	c.SearchExpansions += o.SearchExpansions
	c.WastedNXDOMAIN += o.WastedNXDOMAIN
	c.UnconfirmedNXDOMAIN += o.UnconfirmedNXDOMAIN
	c.Pairs.Parallel += o.Pairs.Parallel
	c.Pairs.SameSocket += o.Pairs.SameSocket
	c.Pairs.NewSocket += o.Pairs.NewSocket
	c.Pairs.TCP += o.Pairs.TCP
	c.RaceSuspected += o.RaceSuspected
	u, v := &c.UpstreamFailures, &o.UpstreamFailures
	u.Servfail += v.Servfail
	u.Refused += v.Refused
	u.Timeout += v.Timeout
	u.ConnectionRefused += v.ConnectionRefused
	u.NoHealthyUpstream += v.NoHealthyUpstream
	u.Error += v.Error
}

// Total is the sum of the failures.
func (u *Upstream) Total() uint64 {
	return u.Servfail + u.Refused + u.Timeout + u.ConnectionRefused + u.NoHealthyUpstream + u.Error
}

// Merge adds o's observations to r: the most dots searched, the fewest
// asked as they are, the longest search list.
func (r *Resolver) Merge(o *Resolver) {
	r.SearchedDots = maxPtr(r.SearchedDots, o.SearchedDots)
	r.AsIsDots = minPtr(r.AsIsDots, o.AsIsDots)
	r.SearchListLength = maxPtr(r.SearchListLength, o.SearchListLength)
	r.derive()
}

// derive sets the ndots bounds from the observations.
func (r *Resolver) derive() {
	r.NdotsAtLeast, r.NdotsAtMost = nil, nil
	if r.SearchedDots != nil {
		n := *r.SearchedDots + 1
		r.NdotsAtLeast = &n
	}
	if r.AsIsDots != nil && (r.NdotsAtLeast == nil || *r.AsIsDots >= *r.NdotsAtLeast) {
		n := *r.AsIsDots
		r.NdotsAtMost = &n
	}
}

func maxPtr(a, b *int) *int {
	if a == nil || (b != nil && *b > *a) {
		a = cloneInt(b)
	}
	return a
}

func minPtr(a, b *int) *int {
	if a == nil || (b != nil && *b < *a) {
		a = cloneInt(b)
	}
	return a
}

func cloneInt(p *int) *int {
	if p == nil {
		return nil
	}
	n := *p
	return &n
}

// Int returns a pointer to n, for Resolver's fields.
func Int(n int) *int { return &n }

// fold adds o, another share of the same entry, to w (o's WastedError
// adds too). Their names merge as two summaries do: a name one of them
// lacks may have wasted up to that one's NamesFloor there.
func (w *Workload) fold(o *Workload) {
	w.Counts.Add(&o.Counts)
	w.WastedError += o.WastedError
	if o.NamesFloor > 0 {
		for i := range w.TopNames {
			if !hasName(o.TopNames, w.TopNames[i].Name) {
				w.TopNames[i].Error += o.NamesFloor
			}
		}
	}
	for _, n := range o.TopNames {
		if !hasName(w.TopNames, n.Name) {
			n.Error += w.NamesFloor
		}
		w.addName(n)
	}
	w.NamesFloor += o.NamesFloor
	w.Resolver.Merge(&o.Resolver)
	w.seen(o.FirstSeen, o.LastSeen)
	if w.Namespace == "" {
		w.Namespace = o.Namespace
	}
}

func hasName(l []Name, name string) bool {
	for i := range l {
		if l[i].Name == name {
			return true
		}
	}
	return false
}

func (w *Workload) seen(first, last time.Time) {
	if !first.IsZero() && (w.FirstSeen.IsZero() || first.Before(w.FirstSeen)) {
		w.FirstSeen = first
	}
	if last.After(w.LastSeen) {
		w.LastSeen = last
	}
}

// addName counts n in w's names, a space-saving summary: a name not kept
// takes the place of the one with the fewest, whose count becomes its
// error.
func (w *Workload) addName(n Name) {
	for i := range w.TopNames {
		if w.TopNames[i].Name == n.Name {
			w.TopNames[i].WastedNXDOMAIN += n.WastedNXDOMAIN
			w.TopNames[i].Error += n.Error
			return
		}
	}
	if len(w.TopNames) < NamesCapacity {
		w.TopNames = append(w.TopNames, n)
		return
	}
	m := 0
	for i := range w.TopNames {
		if w.TopNames[i].WastedNXDOMAIN+w.TopNames[i].Error < w.TopNames[m].WastedNXDOMAIN+w.TopNames[m].Error {
			m = i
		}
	}
	up := w.TopNames[m].WastedNXDOMAIN + w.TopNames[m].Error
	w.NamesFloor = max(w.NamesFloor, up)
	n.Error += up
	w.TopNames[m] = n
}

// Summary is a space-saving summary of entries by wasted NXDOMAIN
// answers, built from a stream of shares (Add). It keeps at most Capacity
// entries; while it is not full every count is exact. A share of an entry
// not kept, when it is full, takes the place of the entry that may have
// wasted least (its upper bound becomes the newcomer's WastedError) if it
// wasted any; a share that wasted nothing is left out (it is in the
// totals), which keeps the bounds: such an entry wasted 0.
type Summary struct {
	capacity int
	floor    uint64
	index    map[Key]int
	entries  []Workload
	totals   Counts
}

// NewSummary returns an empty summary of at most capacity entries.
func NewSummary(capacity int) *Summary {
	return &Summary{capacity: max(capacity, 1), index: map[Key]int{}}
}

// Add counts w, one share of an entry's queries, in the summary and the
// totals.
func (s *Summary) Add(w Workload) {
	s.totals.Add(&w.Counts)
	w.Resolver.derive()
	k := w.Key()
	if i, ok := s.index[k]; ok {
		s.entries[i].fold(&w)
		return
	}
	if len(s.entries) < s.capacity {
		s.index[k] = len(s.entries)
		s.entries = append(s.entries, w)
		return
	}
	if w.upper() == 0 {
		return
	}
	m := 0
	for i := range s.entries {
		if s.entries[i].upper() < s.entries[m].upper() {
			m = i
		}
	}
	up := s.entries[m].upper()
	s.floor = max(s.floor, up)
	w.WastedError += up
	delete(s.index, s.entries[m].Key())
	s.index[k] = m
	s.entries[m] = w
}

// Len is the number of entries kept.
func (s *Summary) Len() int { return len(s.entries) }

// Report returns the summary as a report's Capacity, Floor, Totals and
// Workloads (sorted); the caller sets the rest. The entries are copies.
func (s *Summary) Report() Report {
	r := Report{Version: Version, Capacity: s.capacity, Floor: s.floor, Totals: s.totals, Workloads: make([]Workload, len(s.entries))}
	for i := range s.entries {
		r.Workloads[i] = cloneWorkload(&s.entries[i])
	}
	r.Sort()
	return r
}

// Entries calls f for each entry kept; f may change it but not its key.
func (s *Summary) Entries(f func(w *Workload)) {
	for i := range s.entries {
		f(&s.entries[i])
	}
}

// Remove takes the entry of key k out of the summary and returns it, for
// a caller that learned who it was and adds it again under another key.
// The totals keep its counts.
func (s *Summary) Remove(k Key) (Workload, bool) {
	i, ok := s.index[k]
	if !ok {
		return Workload{}, false
	}
	w := s.entries[i]
	last := len(s.entries) - 1
	if i != last {
		s.entries[i] = s.entries[last]
		s.index[s.entries[i].Key()] = i
	}
	s.entries = s.entries[:last]
	delete(s.index, k)
	return w, true
}

// Readd adds w, taken out with Remove, again without counting it in the
// totals a second time.
func (s *Summary) Readd(w Workload) {
	t := s.totals
	s.Add(w)
	s.totals = t
}

func cloneWorkload(w *Workload) Workload {
	c := *w
	c.TopNames = slices.Clone(w.TopNames)
	c.Resolver = Resolver{SearchedDots: cloneInt(w.Resolver.SearchedDots), AsIsDots: cloneInt(w.Resolver.AsIsDots), SearchListLength: cloneInt(w.Resolver.SearchListLength)}
	c.Resolver.derive()
	return c
}

// Sort orders the entries and their names as a report lists them: by the
// most they may have wasted, then by what they were seen to waste, then by
// queries, then by key.
func (r *Report) Sort() {
	slices.SortFunc(r.Workloads, func(a, b Workload) int {
		switch {
		case a.upper() != b.upper():
			return cmpDesc(a.upper(), b.upper())
		case a.WastedNXDOMAIN != b.WastedNXDOMAIN:
			return cmpDesc(a.WastedNXDOMAIN, b.WastedNXDOMAIN)
		case a.Queries != b.Queries:
			return cmpDesc(a.Queries, b.Queries)
		}
		return strings.Compare(keyString(a.Key()), keyString(b.Key()))
	})
	for i := range r.Workloads {
		w := &r.Workloads[i]
		if w.TopNames == nil {
			w.TopNames = []Name{}
		}
		slices.SortFunc(w.TopNames, func(a, b Name) int {
			if a.WastedNXDOMAIN+a.Error != b.WastedNXDOMAIN+b.Error {
				return cmpDesc(a.WastedNXDOMAIN+a.Error, b.WastedNXDOMAIN+b.Error)
			}
			return strings.Compare(a.Name, b.Name)
		})
	}
}

func cmpDesc(a, b uint64) int {
	if a > b {
		return -1
	}
	return 1
}

func keyString(k Key) string {
	return k.Level + "\x00" + k.Namespace + "\x00" + k.Kind + "\x00" + k.Name + "\x00" + k.Address
}

// Merge returns the report of all of rs together (the replicas of one
// CoreDNS, or one replica's server blocks): counts add, the window spans
// theirs, the replicas are listed together. An entry missing from a report
// whose Floor is not 0 may have wasted up to that Floor there, which its
// WastedError takes in. The entries are not truncated to Capacity (the
// largest of theirs); the floors add.
func Merge(rs ...Report) Report {
	out := Report{Version: Version, Workloads: []Workload{}, Replicas: []Replica{}}
	if len(rs) == 0 {
		return out
	}
	out.Window = Window{Complete: true}
	index := map[Key]int{}
	for ri := range rs {
		r := &rs[ri]
		if out.Generator == "" {
			out.Generator = r.Generator
		}
		out.Window = spanWindows(out.Window, r.Window, ri == 0)
		out.Replicas = append(out.Replicas, r.Replicas...)
		out.Capacity = max(out.Capacity, r.Capacity)
		out.Totals.Add(&r.Totals)
		present := map[Key]bool{}
		for i := range r.Workloads {
			w := cloneWorkload(&r.Workloads[i])
			k := w.Key()
			present[k] = true
			if j, ok := index[k]; ok {
				out.Workloads[j].fold(&w)
				continue
			}
			// Missing from every report before this one: it may have wasted
			// up to their floors there.
			w.WastedError += out.Floor
			w.NamesFloor += out.Floor
			for n := range w.TopNames {
				w.TopNames[n].Error += out.Floor
			}
			index[k] = len(out.Workloads)
			out.Workloads = append(out.Workloads, w)
		}
		if r.Floor > 0 {
			for k, j := range index {
				if !present[k] {
					w := &out.Workloads[j]
					w.WastedError += r.Floor
					w.NamesFloor += r.Floor
					for n := range w.TopNames {
						w.TopNames[n].Error += r.Floor
					}
				}
			}
		}
		out.Floor += r.Floor
	}
	out.Sort()
	return out
}

func spanWindows(a, b Window, first bool) Window {
	if first {
		return b
	}
	if b.Start.Before(a.Start) {
		a.Start = b.Start
	}
	if b.End.After(a.End) {
		a.End = b.End
	}
	a.Complete = a.Complete && b.Complete
	return a
}

// Decode reads one report, rejecting another schema version and unknown
// fields.
func Decode(rd io.Reader) (Report, error) {
	var head struct {
		Version *int `json:"version"`
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		return Report{}, err
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return Report{}, fmt.Errorf("k8slint report: %w", err)
	}
	if head.Version == nil {
		return Report{}, fmt.Errorf("k8slint report: no version field: not a k8slint report")
	}
	if *head.Version != Version {
		return Report{}, fmt.Errorf("k8slint report: version %d, this reader knows version %d", *head.Version, Version)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var r Report
	if err := dec.Decode(&r); err != nil {
		return Report{}, fmt.Errorf("k8slint report: %w", err)
	}
	return r, nil
}

// Encode writes r as indented JSON.
func Encode(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
