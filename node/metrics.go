package node

import (
	"errors"
	"sync"
	"time"

	"github.com/gospresso/gospresso/network"
	"github.com/gospresso/gospresso/node/replica"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gospresso/gospresso/chain"
)

// Version is the gospresso version reported in metrics and logs.
const Version = "0.1.0-dev"

// metrics holds the node's Prometheus collectors (docs/operator.md,
// "Metrics"). Values the replica counts are read from a snapshot the run
// loop publishes after each step, so nothing is counted twice and nothing
// reads the replica from outside its goroutine.
type metrics struct {
	reg        prometheus.Registerer
	collectors []prometheus.Collector

	mu       sync.Mutex
	snap     snapshot
	lastTime time.Time

	viewsPerDecide prometheus.Histogram
	failedMessages prometheus.Counter
}

// snapshot is what the run loop publishes of its replica.
type snapshot struct {
	replica.Stats
	pending, pendingBytes int
	// fetchDropped counts requests for missing leaves dropped because the
	// fetch server's queue was full.
	fetchDropped uint64
}

func newMetrics(n *Node) (*metrics, error) {
	m := &metrics{reg: n.s.registry}
	gauge := func(name, help string, f func(s snapshot) float64) {
		m.collectors = append(m.collectors, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "consensus", Name: name, Help: help}, func() float64 {
			return f(m.snapshot())
		}))
	}
	counter := func(name, help string, f func(s snapshot) float64) {
		m.collectors = append(m.collectors, prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "consensus", Name: name, Help: help}, func() float64 {
			return f(m.snapshot())
		}))
	}
	gauge("current_view", "Current consensus view.", func(s snapshot) float64 { return float64(s.View) })
	gauge("last_decided_view", "View of the last decided leaf.", func(s snapshot) float64 { return float64(s.LastDecidedView) })
	gauge("last_voted_view", "Highest view this node may no longer vote in.", func(s snapshot) float64 { return float64(s.LastVotedView) })
	gauge("last_synced_block_height", "Height of the last decided block.", func(s snapshot) float64 { return float64(s.LastDecidedHeight) })
	gauge("number_of_views_since_last_decide", "Views between the current view and the last decided view.", func(s snapshot) float64 {
		return float64(s.View - min(s.View, s.LastDecidedView))
	})
	gauge("invalid_qc", "Invalid quorum certificates seen.", func(s snapshot) float64 { return float64(s.InvalidQCs) })
	counter("number_of_timeouts", "View timeouts.", func(s snapshot) float64 { return float64(s.Timeouts) })
	counter("number_of_timeouts_as_leader", "Views this node led but did not propose in.", func(s snapshot) float64 { return float64(s.TimeoutsAsLeader) })
	counter("number_of_empty_blocks_proposed", "Empty blocks this node proposed.", func(s snapshot) float64 { return float64(s.EmptyBlocksProposed) })
	counter("rejected_proposals", "Proposals that failed header validation and got no vote.", func(s snapshot) float64 { return float64(s.RejectedProposals) })
	counter("invalid_messages", "Consensus messages dropped as invalid.", func(s snapshot) float64 { return float64(s.InvalidMessages) })
	counter("view_syncs", "View-sync rounds this node started.", func(s snapshot) float64 { return float64(s.ViewSyncs) })
	counter("fetch_requests", "Requests for missing leaves sent to peers.", func(s snapshot) float64 { return float64(s.FetchRequests) })
	counter("fetches_abandoned", "Missing leaves given up on after every peer was asked twice without an answer.", func(s snapshot) float64 {
		return float64(s.FetchesAbandoned)
	})
	counter("catchup_sessions", "Long catch-ups by checkpoints started (a missing ancestor more than 128 blocks above the last decided one).", func(s snapshot) float64 {
		return float64(s.CatchupSessions)
	})
	counter("behind_pruning_horizon", "Catch-ups given up on because every peer asked had pruned the blocks this node needs.", func(s snapshot) float64 {
		return float64(s.BehindPruningHorizon)
	})
	counter("bad_vote_signatures", "Votes whose signature failed its check; the sender's further votes to that vote set are ignored.", func(s snapshot) float64 {
		return float64(s.BadVoteSignatures)
	})
	counter("conflicting_decides", "Certified two-chains that decided a leaf conflicting with the decided chain: more than a third of the stake broke the rules, and the node halted.", func(s snapshot) float64 {
		return float64(s.ConflictingDecides)
	})
	counter("bad_vid_shares", "VID shares from a view's leader that failed their check against the proposal's payload commitment (the leader is reported).", func(s snapshot) float64 {
		return float64(s.BadShares)
	})
	counter("signature_checks", "Pairing checks of signatures and certificates (each a product with one final exponentiation), on the consensus goroutine and on the verification workers.", func(s snapshot) float64 {
		return float64(s.SignatureChecks)
	})
	counter("checks_ahead", "Proposals and certificates checked by the verification workers before consensus took them.", func(s snapshot) float64 {
		return float64(s.ChecksAhead)
	})
	counter("checks_ahead_refused", "Proposals and certificates left to consensus to check because their sender failed a check on the workers before.", func(s snapshot) float64 {
		return float64(s.ChecksAheadRefused)
	})
	counter("faulty_members", "Members caught with a bad vote signature or an invalid certificate (each reported to a scoring transport).", func(s snapshot) float64 {
		return float64(s.Faults)
	})
	counter("future_votes_dropped", "Votes for views ahead refused, or evicting another, because their member already had that many vote sets of the kind ahead.", func(s snapshot) float64 {
		return float64(s.FutureVotesDropped)
	})
	counter("certificate_checks_refused", "Certificates dropped unchecked because their sender, once caught with an invalid certificate, had used its checks for the view.", func(s snapshot) float64 {
		return float64(s.CertificateChecksRefused)
	})
	counter("fetch_requests_refused", "Requests for missing leaves not answered because of their sender: over its rate, or neither a member nor an observer.", func(s snapshot) float64 {
		return float64(s.FetchRequestsRefused)
	})
	counter("fetch_requests_not_allowed", "Requests for missing leaves refused because their sender is neither a member nor a configured observer.", func(s snapshot) float64 {
		return float64(s.FetchRequestsNotAllowed)
	})
	counter("fetch_requests_dropped", "Admitted requests for missing leaves dropped because the fetch server's queue was full.", func(s snapshot) float64 {
		return float64(s.fetchDropped)
	})
	counter("fetch_requests_answered", "Requests for missing leaves answered.", func(s snapshot) float64 { return float64(s.FetchRequestsAnswered) })
	counter("fetch_bytes_answered", "Bytes of the answers to requests for missing leaves.", func(s snapshot) float64 { return float64(s.FetchBytesAnswered) })
	m.collectors = append(m.collectors,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "consensus", Name: "last_decided_time", Help: "Unix time of the last decide."}, func() float64 {
			m.mu.Lock()
			defer m.mu.Unlock()
			if m.lastTime.IsZero() {
				return 0
			}
			return float64(m.lastTime.Unix())
		}),
	)
	if pc, ok := n.s.transport.(network.PeerCounter); ok {
		m.collectors = append(m.collectors, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "consensus", Name: "libp2p_num_connected_peers",
			Help: "Peers the network transport is connected to."}, func() float64 { return float64(pc.ConnectedPeers()) }))
	}
	if r, ok := n.s.transport.(network.Readier); ok {
		m.collectors = append(m.collectors, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "consensus", Name: "libp2p_is_ready",
			Help: "1 when broadcasts reach peers."}, func() float64 {
			if r.Ready() {
				return 1
			}
			return 0
		}))
	}
	gauge("outstanding_transactions", "Transactions in the mempool.", func(s snapshot) float64 { return float64(s.pending) })
	gauge("outstanding_transactions_memory_size", "Payload bytes in the mempool.", func(s snapshot) float64 { return float64(s.pendingBytes) })
	counter("invalid_frames", "Network messages that could not be decoded.", func(s snapshot) float64 { return float64(s.InvalidFrames) })
	nodeIndex := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "consensus", Name: "node_index", Help: "This node's index in the stake table."})
	idx, ok := n.setup.Table.Index(n.keys.Staking.PubKey())
	if !ok {
		idx = -1
	}
	nodeIndex.Set(float64(idx))
	nodeKey := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "consensus", Name: "node", Help: "This node's staking key."}, []string{"key"})
	nodeKey.WithLabelValues(n.keys.Staking.PubKey().String()).Set(1)
	version := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "consensus", Name: "version", Help: "Build information."}, []string{"rev", "desc", "timestamp"})
	version.WithLabelValues("", "gospresso "+Version, "").Set(1)
	m.viewsPerDecide = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "consensus", Name: "number_of_views_per_decide_event", Help: "Leaves decided per decide event.", Buckets: []float64{1, 2, 3, 5, 10, 20, 50, 100}})
	m.failedMessages = prometheus.NewCounter(prometheus.CounterOpts{Namespace: "consensus", Name: "libp2p_num_failed_messages", Help: "Messages the network failed to send."})
	m.collectors = append(m.collectors, nodeIndex, nodeKey, version, m.viewsPerDecide, m.failedMessages, rejections{n})
	for i, c := range m.collectors {
		if err := m.reg.Register(c); err != nil {
			for _, done := range m.collectors[:i] {
				m.reg.Unregister(done)
			}
			var already prometheus.AlreadyRegisteredError
			if errors.As(err, &already) {
				return nil, errors.Join(ErrInvalidOption, errors.New("node: metrics already registered on this registry (one node per registry)"))
			}
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) update(s snapshot) {
	m.mu.Lock()
	m.snap = s
	m.mu.Unlock()
}

func (m *metrics) snapshot() snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.snap
}

func (m *metrics) decided(blocks int, now time.Time) {
	m.viewsPerDecide.Observe(float64(blocks))
	m.mu.Lock()
	m.lastTime = now
	m.mu.Unlock()
}

func (m *metrics) unregister() {
	for _, c := range m.collectors {
		m.reg.Unregister(c)
	}
}

// rejections is consensus_invalid_headers{rule}: the proposals whose header
// broke a validation rule (chain.RuleNames; docs/data.md, "Header
// validation"), counted by the replica's ledger.
type rejections struct{ n *Node }

var invalidHeadersDesc = prometheus.NewDesc("consensus_invalid_headers",
	"Proposals rejected (no vote) because their header broke a validation rule, by rule.", []string{"rule"}, nil)

// Describe implements prometheus.Collector.
func (rejections) Describe(ch chan<- *prometheus.Desc) { ch <- invalidHeadersDesc }

// Collect implements prometheus.Collector.
func (r rejections) Collect(ch chan<- prometheus.Metric) {
	var counts map[string]uint64
	if l := r.n.ledger.Load(); l != nil {
		counts = l.Rejections()
	}
	for _, rule := range chain.RuleNames() {
		ch <- prometheus.MustNewConstMetric(invalidHeadersDesc, prometheus.CounterValue, float64(counts[rule]), rule)
	}
}
