package k8slint

import (
	"github.com/coredns/coredns/plugin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Every vector has a server label; namespace values are bounded by
// namespaces_max (see namespaces.go), reason and mode by fixed lists.
var (
	searchExpansions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace, Subsystem: Name, Name: "search_expansions_total",
		Help: "Queries for a name a client's resolver built from its search list, for a base name it could have asked directly.",
	}, []string{"server", "namespace"})
	wastedNXDomain = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace, Subsystem: Name, Name: "wasted_nxdomain_total",
		Help: "Search expansions answered NXDOMAIN.",
	}, []string{"server", "namespace"})
	stormActive = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: plugin.Namespace, Subsystem: Name, Name: "storm_active",
		Help: "1 while a namespace's wasted-NXDOMAIN rate is above the storm threshold.",
	}, []string{"server", "namespace"})
	stormsTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace, Subsystem: Name, Name: "storms_total",
		Help: "Search-path storms that started.",
	}, []string{"server", "namespace"})
	parallelPairs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace, Subsystem: Name, Name: "parallel_a_aaaa_total",
		Help: "A/AAAA pairs sent in parallel from one UDP socket (exposed to the conntrack race).",
	}, []string{"server", "namespace"})
	sequentialPairs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace, Subsystem: Name, Name: "sequential_a_aaaa_total",
		Help: "A/AAAA pairs sent one after the other, by mode: same_socket, new_socket or tcp.",
	}, []string{"server", "namespace", "mode"})
	raceSuspected = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace, Subsystem: Name, Name: "race_suspected_total",
		Help: "Lone A or AAAA queries re-sent with their ID from the same address (or whose missing twin came from the same port) more than 90 ms after the answer, within the retry window.",
	}, []string{"server", "namespace"})
	raceRetryDelay = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: plugin.Namespace, Subsystem: Name, Name: "race_retry_delay_seconds",
		Help:    "Time from a lone A or AAAA query to its retransmission: the stall the client saw.",
		Buckets: []float64{0.25, 0.5, 1, 2, 3, 4, 5, 6, 8, 10, 15, 30},
	}, []string{"server"})
	upstreamFailures = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace, Subsystem: Name, Name: "upstream_failures_total",
		Help: "Failed answers for names outside the cluster domains, by reason.",
	}, []string{"server", "reason"})
	upstreamDegraded = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: plugin.Namespace, Subsystem: Name, Name: "upstream_degraded",
		Help: "1 while the failure ratio of names outside the cluster domains is above the upstream_degraded ratio.",
	}, []string{"server"})
	trackedClients = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: plugin.Namespace, Subsystem: Name, Name: "tracked_clients",
		Help: "Client addresses whose recent queries k8slint keeps (at most clients_max).",
	}, []string{"server"})
	evictionsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace, Subsystem: Name, Name: "evictions_total",
		Help: "Tracked clients dropped to stay within clients_max (those not seen recently first).",
	}, []string{"server"})
)

// Failure reasons of upstream_failures_total.
const (
	reasonServfail = iota
	reasonRefused
	reasonTimeout
	reasonConnRefused
	reasonNoHealthy
	reasonError
	numReasons
)

// What the answers waiting in the shards' queues (queue.go) add to is
// registered through one collector that works through the queues and
// publishes the counts the clients' entries keep before it collects them
// (counts.go): the counters queries add to most, and those of the rare
// events observing an answer finds. The other vectors register themselves.
func init() {
	prometheus.MustRegister(countedCollector{searchExpansions, wastedNXDomain, parallelPairs, sequentialPairs,
		raceSuspected, raceRetryDelay, evictionsTotal})
}

var reasonNames = [numReasons]string{"servfail", "refused", "timeout", "connection_refused", "no_healthy_upstream", "error"}

// Modes of sequential_a_aaaa_total.
const (
	modeSameSocket = iota
	modeNewSocket
	modeTCP
	numModes
)

var modeNames = [numModes]string{"same_socket", "new_socket", "tcp"}
