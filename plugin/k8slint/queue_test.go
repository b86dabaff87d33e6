package k8slint

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

// An answer waits in its client's shard's queue until queueLen are there:
// the query that fills the queue observes them all, in order, and empties
// it (the names go with it).
func TestTheQueryThatFillsTheQueueObservesIt(t *testing.T) {
	k, srv := newTestPlugin(t, zone{})
	w := &peer{ip: "10.244.7.1", port: 41000}
	a, _, _, _ := remote(w)
	s := k.clients.shardFor(addrHash(a))
	for i := range queueLen - 1 {
		ask(t, k, srv, w, "example.org.", dns.TypeA, uint16(i))
	}
	s.mu.Lock()
	queued, ents := int(s.queued), len(s.ents)
	s.mu.Unlock()
	if queued != queueLen-1 || ents != 0 {
		t.Fatalf("after %d answers: %d queued, %d clients; want %d and 0", queueLen-1, queued, ents, queueLen-1)
	}
	ask(t, k, srv, w, "example.org.", dns.TypeA, queueLen)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.queued != 0 || len(s.ents) != 1 || s.ents[0].tally.queries != queueLen {
		t.Fatalf("after %d answers: %d queued, %d clients, %d queries tallied; want 0, 1, %d", queueLen, s.queued, len(s.ents), s.ents[0].tally.queries, queueLen)
	}
	for i := range s.queue {
		if s.queue[i] != (answer{}) {
			t.Fatalf("queue entry %d kept after it was observed: %+v", i, s.queue[i])
		}
	}
}

// A scrape counts every answer written before it, the queued ones too:
// the collector of the counted vectors and of the rare events' observes
// the queues of the running instances first.
func TestAScrapeCountsTheQueuedAnswers(t *testing.T) {
	k, srv := newTestPlugin(t, zone{})
	k.startCounting()
	defer k.stopCounting()
	w := &peer{ip: "10.244.7.2", port: 41001}
	ask(t, k, srv, w, "example.org.", dns.TypeA, 7)
	k.epoch.Add(-int64(time.Second)) // the AAAA was lost; the A comes again
	ask(t, k, srv, w, "example.org.", dns.TypeA, 7)
	race := 0.0
	if mf := gatheredFamily(t, "coredns_k8slint_race_suspected_total"); mf != nil {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "server" && l.GetValue() == srv {
					race += m.GetCounter().GetValue()
				}
			}
		}
	}
	if race != 1 {
		t.Errorf("race_suspected_total{server=%q} = %v in a scrape, want 1", srv, race)
	}
}
