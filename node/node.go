package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gospresso/gospresso/api"
	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/clock"
	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/genesis"
	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/l1"
	"github.com/gospresso/gospresso/network"
	"github.com/gospresso/gospresso/node/replica"
	"github.com/gospresso/gospresso/types"
)

// Sentinel errors.
var (
	// ErrInvalidOption marks a bad, repeated or missing option at New.
	ErrInvalidOption = errors.New("node: invalid option")
	// ErrNotStarted is returned by calls that need a started node.
	ErrNotStarted = errors.New("node: not started")
	// ErrStopped is returned once the node has stopped.
	ErrStopped = errors.New("node: stopped")
	// ErrAlreadyStarted is returned by a second Start.
	ErrAlreadyStarted = errors.New("node: already started")
	// ErrNoStakeTable is returned when the genesis lists no stake table.
	ErrNoStakeTable = replica.ErrNoStakeTable
	// ErrL1Required is returned for a genesis that needs an L1 client.
	ErrL1Required = errors.New("node: genesis needs an L1 client")
	// ErrHalted is returned after the node stopped participating because a
	// storage write failed, consensus detected a safety violation, or the
	// network closed under it. It is replica.ErrHalted.
	ErrHalted = replica.ErrHalted
)

// Store is what a node needs of its store: consensus persistence, the
// decided chain, and Close. A store that also implements storage.QueryStore
// or storage.Pruner serves those capabilities to whoever checks for them.
type Store interface {
	replica.Store
	io.Closer
}

// Node is one participant in a gospresso network. Create it with New, run
// it with Start, and always call Stop. Its methods are safe for concurrent
// use.
type Node struct {
	s     settings
	setup *replica.Setup
	keys  keys.Keys
	log   *slog.Logger
	peers []network.PeerID
	index map[network.PeerID]int
	// metrics is set by Start; Stats reads it from any goroutine.
	metrics atomic.Pointer[metrics]

	lifecycle sync.Mutex
	started   bool
	stopped   bool
	stopErr   error
	cancel    context.CancelFunc
	done      chan struct{}
	wake      chan struct{}
	// replica is set by Start; from then on only the run loop drives it
	// (Submit and Pending are safe to call from any goroutine).
	replica *replica.Replica
	// the HTTP API, when WithAPI asked for one
	api         *api.Server
	apiListener net.Listener
	apiDone     chan struct{}

	states    *stateSigner
	relayDone chan struct{}
	// fetcher answers requests for missing leaves off the run loop; set by
	// Start.
	fetcher *fetcher

	// gen is the genesis; setup is derived from it by New, or by Start
	// once the L1 has finalized the genesis [l1_finalized] block.
	gen          *genesis.Genesis
	l1Tracker    *l1.Tracker
	l1Cancel     context.CancelFunc
	l1Done       chan struct{}
	l1Collectors []prometheus.Collector
	ledger       atomic.Pointer[chain.Ledger]

	mu     sync.Mutex
	height uint64 // number of decided blocks (last height + 1)
	notify chan struct{}
	err    error // why the node halted
}

// New checks the genesis, keys and options and returns a node that is ready
// to Start. It does no I/O and starts no goroutine.
//
// Ownership: once New succeeds, the node owns the store and the transport
// given with WithStorage and WithNetwork. Stop closes both, whether Start
// was called, failed or succeeded; the caller closes neither. If New fails,
// they remain the caller's.
//
// Required: WithStorage and WithNetwork. Defaults: no logging, the wall
// clock, a private metrics registry, consensus.DefaultConfig, and the
// chain.MempoolConfig defaults. The genesis must list its stake table
// ([[public_keys]]) and must not need an L1 (no fee_contract and no
// [l1_finalized]) until the L1 client lands.
func New(gen *genesis.Genesis, k keys.Keys, opts ...Option) (*Node, error) {
	if gen == nil {
		return nil, fmt.Errorf("%w: nil genesis", ErrInvalidOption)
	}
	if k.Staking.IsZero() {
		return nil, fmt.Errorf("%w: keys without a staking key", ErrInvalidOption)
	}
	s := settings{seen: make(map[string]bool)}
	for _, o := range opts {
		if err := o(&s); err != nil {
			return nil, err
		}
	}
	switch {
	case s.store == nil:
		return nil, fmt.Errorf("%w: WithStorage is required", ErrInvalidOption)
	case s.transport == nil:
		return nil, fmt.Errorf("%w: WithNetwork is required", ErrInvalidOption)
	}
	if err := gen.Validate(); err != nil {
		return nil, err
	}
	if gen.NeedsL1() && s.l1 == nil {
		return nil, fmt.Errorf("%w: it sets fee_contract or [l1_finalized]; give the node one with WithL1 (docs/l1.md)", ErrL1Required)
	}
	if len(gen.StakeTable) == 0 {
		return nil, ErrNoStakeTable
	}
	var setup *replica.Setup
	if !needsResolve(gen) {
		var err error
		if setup, err = replica.NewSetup(gen); err != nil {
			return nil, err
		}
	}
	if s.logger == nil {
		s.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	if s.registry == nil {
		reg := prometheus.NewRegistry()
		s.registry, s.gatherer = reg, reg
	}
	n := &Node{s: s, gen: gen, setup: setup, keys: k, log: s.logger, index: make(map[network.PeerID]int),
		wake: make(chan struct{}, 1), notify: make(chan struct{}), states: newStateSigner()}
	for i, e := range gen.StakeTable {
		id := PeerID(e.StakingKey)
		n.peers = append(n.peers, id)
		n.index[id] = i
	}
	return n, nil
}

// PeerID returns the network identity gospresso uses for a staking key.
func PeerID(k keys.StakingPubKey) network.PeerID { return network.PeerID(k.String()) }

// Start restores the node's state from its store, joins consensus and
// returns once the node runs. ctx bounds start-up only.
func (n *Node) Start(ctx context.Context) error {
	n.lifecycle.Lock()
	defer n.lifecycle.Unlock()
	if n.stopped {
		return ErrStopped
	}
	if n.started {
		return ErrAlreadyStarted
	}
	if n.s.l1 != nil {
		if err := n.startL1(ctx); err != nil {
			n.stopL1(ctx)
			return err
		}
	}
	m, err := newMetrics(n)
	if err != nil {
		n.stopL1(ctx)
		return err
	}
	n.metrics.Store(m)
	cfg := replica.Config{
		Setup: n.setup, Key: n.keys.Staking, Store: n.s.store, Sender: sender{n},
		Consensus: n.s.consensus, Mempool: n.s.mempool, Logger: n.log,
		OnDecided: n.decided, OnFault: n.reportFault, BuilderKey: n.s.builderKey, Catchup: n.s.catchup,
		FetchObservers: n.s.fetchObservers,
	}
	if n.l1Tracker != nil {
		cfg.L1 = l1Ledger{n.l1Tracker}
	}
	r, err := replica.Open(ctx, cfg, n.s.clock.Now())
	if err != nil {
		m.unregister()
		n.metrics.Store(nil)
		n.stopL1(ctx)
		return fmt.Errorf("node: %w", err)
	}
	n.replica = r
	n.fetcher = newFetcher(r.FetchServer(), n.s.transport, FetchQueueLen, func(to network.PeerID, err error) {
		n.metrics.Load().failedMessages.Inc()
		n.log.Debug("send failed", "peer", string(to), "err", err)
	})
	n.ledger.Store(r.Ledger())
	n.mu.Lock()
	n.height = r.Height() + 1
	n.mu.Unlock()
	n.publish()
	loopCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	n.cancel = cancel
	n.done = make(chan struct{})
	n.started = true
	go n.fetcher.run(loopCtx)
	go n.run(loopCtx)
	if url := n.s.stateRelay; url != "" {
		n.relayDone = make(chan struct{})
		go func() { defer close(n.relayDone); n.postStates(loopCtx, url) }()
	}
	if err := n.startAPI(); err != nil {
		return err
	}
	return nil
}

// Stop stops the node, then closes its network and store. ctx bounds the
// wait for the run loop and the fetch server; the network and the store
// are closed even when that wait times out (the loop then halts on its
// next use of them), and the timeout is reported. Stop is idempotent:
// later calls return the first call's result. It is safe to call after a
// failed or no Start.
func (n *Node) Stop(ctx context.Context) error {
	n.lifecycle.Lock()
	defer n.lifecycle.Unlock()
	if n.stopped {
		return n.stopErr
	}
	n.stopped = true
	apiErr := n.stopAPI(ctx)
	var waitErr error
	if n.started {
		n.cancel()
		select {
		case <-n.done:
		case <-ctx.Done():
			waitErr = fmt.Errorf("node: stop: the run loop did not finish: %w", ctx.Err())
		}
		select {
		case <-n.fetcher.done:
		case <-ctx.Done():
			waitErr = errors.Join(waitErr, fmt.Errorf("node: stop: the fetch server did not finish: %w", ctx.Err()))
		}
		if n.relayDone != nil {
			select {
			case <-n.relayDone:
			case <-ctx.Done():
			}
		}
	}
	n.stopL1(ctx)
	n.end(ErrStopped)
	if m := n.metrics.Load(); m != nil {
		m.unregister()
	}
	n.stopErr = errors.Join(apiErr, waitErr, n.s.transport.Close(), n.s.store.Close())
	return n.stopErr
}

// Err returns why the node stopped participating, or nil while it runs.
func (n *Node) Err() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if errors.Is(n.err, ErrStopped) {
		return nil
	}
	return n.err
}

// Metrics returns the registry the node's metrics are on.
func (n *Node) Metrics() prometheus.Gatherer { return n.s.gatherer }

// Stats returns the consensus counters, as of the run loop's last step.
func (n *Node) Stats() consensus.Stats {
	m := n.metrics.Load()
	if m == nil {
		return consensus.Stats{}
	}
	return m.snapshot().Stats.Stats
}

// BlockHeight returns the number of decided blocks (the genesis block
// counts), so the newest block has height BlockHeight()-1.
func (n *Node) BlockHeight() uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.height
}

// SubmitTransaction queues tx and gossips it to the other nodes, so the
// coming leaders include it. It returns the transaction's commitment (its
// hash, "TX~..."). A full mempool refuses with chain.ErrMempoolFull.
// Submitting bytes that are already pending or recently decided is accepted
// and has no further effect.
func (n *Node) SubmitTransaction(ctx context.Context, tx types.Transaction) (types.Commitment, error) {
	if err := n.running(); err != nil {
		return types.Commitment{}, err
	}
	c, err := n.replica.Submit(ctx, tx, n.s.clock.Now())
	if err != nil {
		return types.Commitment{}, err
	}
	n.poke()
	return c, nil
}

// PendingTransactions returns the number of transactions in the mempool.
func (n *Node) PendingTransactions() int {
	if err := n.running(); err != nil {
		return 0
	}
	c, _ := n.replica.Pending()
	return c
}

func (n *Node) running() error {
	n.lifecycle.Lock()
	started, stopped := n.started, n.stopped
	n.lifecycle.Unlock()
	switch {
	case stopped:
		return ErrStopped
	case !started:
		return ErrNotStarted
	}
	return n.Err()
}

func (n *Node) poke() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// Decided yields the decided blocks from height from on, in order: first the
// stored ones, then each new one as it is decided. It reads from the store,
// so a slow reader never holds up consensus and never misses a block; the
// sequence ends with an error when ctx ends, the node stops, or a block can
// no longer be read (resume from the last height seen).
func (n *Node) Decided(ctx context.Context, from uint64) iter.Seq2[types.Block, error] {
	return func(yield func(types.Block, error) bool) {
		next := from
		for {
			n.mu.Lock()
			h, ch, err := n.height, n.notify, n.err
			n.mu.Unlock()
			if ctx.Err() != nil {
				yield(types.Block{}, ctx.Err())
				return
			}
			if next < h {
				b, err := n.s.store.BlockByHeight(ctx, next)
				if err != nil {
					yield(types.Block{}, fmt.Errorf("node: decided block %d: %w", next, err))
					return
				}
				if !yield(b, nil) {
					return
				}
				next++
				continue
			}
			if err != nil {
				yield(types.Block{}, err)
				return
			}
			select {
			case <-ctx.Done():
				yield(types.Block{}, ctx.Err())
				return
			case <-ch:
			}
		}
	}
}

// run is the node's loop, the only driver of its replica: it hands the
// replica network messages, timer ticks and wake-ups after a submission,
// and publishes the replica's counters after each step.
func (n *Node) run(ctx context.Context) {
	defer close(n.done)
	timer := n.s.clock.NewTimer(time.Hour)
	defer timer.Stop()
	// Messages reach the loop decoded and with their signatures checked by
	// the verification workers, or, without workers, straight from the
	// transport, to be decoded and checked here.
	var checked <-chan *checkJob
	var direct <-chan network.Envelope
	if w := n.s.verifyWorkers(); w > 0 {
		c := n.startChecks(ctx, n.s.transport.Incoming(), w)
		defer c.close()
		checked = c.out
	} else {
		direct = n.s.transport.Incoming()
	}
	for {
		n.publish()
		timer.Reset(max(n.replica.NextDeadline().Sub(n.s.clock.Now()), 0))
		var err error
		select {
		case <-ctx.Done():
			return
		case j, ok := <-checked:
			if !ok {
				if ctx.Err() != nil {
					return
				}
				err = fmt.Errorf("%w: the network closed", ErrHalted)
				break
			}
			if j.ahead() {
				select {
				case <-j.done:
				case <-ctx.Done():
					return
				}
			}
			err = n.deliver(ctx, j)
		case env, ok := <-direct:
			if !ok {
				err = fmt.Errorf("%w: the network closed", ErrHalted)
				break
			}
			err = n.deliver(ctx, n.newCheckJob(env))
		case <-timer.C():
			err = n.replica.Tick(ctx, n.s.clock.Now())
		case <-n.wake:
			err = n.replica.Tick(ctx, n.s.clock.Now())
		}
		if err != nil {
			if ctx.Err() == nil {
				n.halt(err)
			}
			n.publish()
			return
		}
	}
}

// deliver hands one network message to the replica and sends back its
// answer, if any. Requests for missing leaves go to the fetch server
// instead, without touching the replica.
func (n *Node) deliver(ctx context.Context, j *checkJob) error {
	env, from := j.env, j.from
	if req, ok := replica.FetchRequestFrame(env.Data); ok {
		n.routeFetch(from, env, req)
		return nil
	}
	before := n.replica.Stats()
	if !j.ahead() {
		j.checked = n.replica.Check(from, env.Data)
	}
	answer, err := n.replica.DeliverChecked(ctx, j.checked, n.s.clock.Now())
	if rep, ok := n.s.transport.(network.Reporter); ok {
		after := n.replica.Stats()
		switch {
		case after.InvalidFrames > before.InvalidFrames:
			rep.Report(env.From, errUndecodable)
		case after.InvalidMessages-before.InvalidMessages > after.Faults-before.Faults:
			// Faults are reported to the member caught (reportFault), which
			// may not be this message's sender.
			rep.Report(env.From, errInvalidMessage)
		}
	}
	if answer != nil {
		if err := n.s.transport.Send(ctx, env.From, answer); err != nil {
			n.metrics.Load().failedMessages.Inc()
			n.log.Debug("send failed", "peer", string(env.From), "err", err)
		}
	}
	return err
}

// What a node reports to a scoring transport (network.Reporter).
var (
	errUndecodable    = errors.New("node: undecodable message")
	errInvalidMessage = errors.New("node: invalid consensus message")
	errFaultyMember   = errors.New("node: bad signature or certificate")
)

// reportFault is the replica's OnFault: it reports a member caught with a
// bad vote signature or an invalid certificate to a scoring transport.
func (n *Node) reportFault(f consensus.Fault) {
	rep, ok := n.s.transport.(network.Reporter)
	if !ok || f.Member < 0 || f.Member >= len(n.peers) {
		return
	}
	rep.Report(n.peers[f.Member], fmt.Errorf("%w: %w", errFaultyMember, f.Err))
}

// publish makes the replica's counters readable outside the run loop.
func (n *Node) publish() {
	c, b := n.replica.Pending()
	n.metrics.Load().update(snapshot{Stats: n.replica.Stats(), pending: c, pendingBytes: b, fetchDropped: n.fetcher.dropped.Load()})
}

// decided is the replica's OnDecided: it runs on the run loop once blocks
// are stored.
func (n *Node) decided(blocks []types.Block) {
	if !n.keys.State.IsZero() {
		n.signDecided(blocks)
	}
	last := blocks[len(blocks)-1]
	n.metrics.Load().decided(len(blocks), n.s.clock.Now())
	n.mu.Lock()
	n.height = last.Height() + 1
	n.wakeReaders()
	n.mu.Unlock()
}

func (n *Node) halt(err error) {
	n.log.Error("node stopped participating", "err", err)
	n.end(err)
}

// end records why the node stopped (the first reason wins) and wakes the
// readers of Decided.
func (n *Node) end(err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.err == nil {
		n.err = err
	}
	n.wakeReaders()
}

// wakeReaders wakes every Decided reader waiting for a change; n.mu is held.
func (n *Node) wakeReaders() {
	close(n.notify)
	n.notify = make(chan struct{})
}

// sender sends a replica's frames over the node's transport.
type sender struct{ n *Node }

func (s sender) Send(ctx context.Context, to int, data []byte) {
	s.report(s.n.s.transport.Send(ctx, s.n.peers[to], data), to)
}

func (s sender) Broadcast(ctx context.Context, topic string, data []byte) {
	s.report(s.n.s.transport.Broadcast(ctx, topic, data), -1)
}

func (s sender) report(err error, to int) {
	if err != nil {
		s.n.metrics.Load().failedMessages.Inc()
		s.n.log.Debug("send failed", "to", to, "err", err)
	}
}
