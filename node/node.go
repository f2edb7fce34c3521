package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/clock"
	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/genesis"
	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/network"
	"github.com/gospresso/gospresso/node/persist"
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
	ErrNoStakeTable = errors.New("node: genesis has no stake table ([[public_keys]])")
	// ErrL1Required is returned for a genesis that needs an L1 client.
	ErrL1Required = errors.New("node: genesis needs an L1 client")
	// ErrNotConsensus is returned by DecodeMessage for a frame that is not
	// a consensus message.
	ErrNotConsensus = errors.New("node: not a consensus message frame")
	// ErrHalted is returned after the node stopped participating because a
	// storage write failed or consensus detected a safety violation.
	ErrHalted = errors.New("node: halted")
)

// Topics of the node's broadcasts.
const (
	TopicConsensus    = "gospresso/consensus"
	TopicTransactions = "gospresso/transactions"
)

// frame kinds: the first byte of every network message.
const (
	frameConsensus   byte = 'c'
	frameTransaction byte = 't'
)

// Node is one participant in a gospresso network. Create it with New, run
// it with Start, and always call Stop. Its methods are safe for concurrent
// use.
type Node struct {
	s       settings
	gen     *genesis.Genesis
	keys    keys.Keys
	log     *slog.Logger
	table   *consensus.StakeTable
	peers   []network.PeerID
	index   map[network.PeerID]int
	rules   chain.Rules
	mempool *chain.Mempool
	metrics *metrics

	lifecycle sync.Mutex
	started   bool
	stopped   bool
	cancel    context.CancelFunc
	done      chan struct{}
	wake      chan struct{}

	mu       sync.Mutex
	height   uint64 // number of decided blocks (last height + 1)
	notify   chan struct{}
	err      error // why the node halted
	engine   *consensus.Engine
	engineMu sync.Mutex // serialises engine access: the run loop, and reads for fetch answers
}

// New checks the genesis, keys and options and returns a node that is ready
// to Start. It does no I/O and starts no goroutine.
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
	if err := gen.Validate(); err != nil {
		return nil, err
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
	if gen.NeedsL1() {
		return nil, fmt.Errorf("%w: it sets fee_contract or [l1_finalized], and this build has no L1 client yet; use a genesis without them (SPEC §7.13)", ErrL1Required)
	}
	if len(gen.StakeTable) == 0 {
		return nil, ErrNoStakeTable
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
	cfg := consensus.DefaultConfig()
	if s.consensus != nil {
		cfg = *s.consensus
	}
	s.consensus = &cfg
	var mcfg chain.MempoolConfig
	if s.mempool != nil {
		mcfg = *s.mempool
	}
	members := make([]consensus.Member, len(gen.StakeTable))
	n := &Node{s: s, gen: gen, keys: k, index: make(map[network.PeerID]int)}
	for i, e := range gen.StakeTable {
		members[i] = consensus.Member{Key: e.StakingKey, Stake: e.Stake, DA: e.DA}
		id := network.PeerID(e.StakingKey.String())
		n.peers = append(n.peers, id)
		n.index[id] = i
	}
	table, err := consensus.NewStakeTable(members)
	if err != nil {
		return nil, err
	}
	n.table = table
	n.rules = chain.Rules{Version: gen.BaseVersion, ChainConfig: gen.ChainConfig}
	n.mempool = chain.NewMempool(mcfg)
	n.log = s.logger
	n.wake = make(chan struct{}, 1)
	n.notify = make(chan struct{})
	return n, nil
}

// PeerID returns the network identity gospresso uses for a staking key.
func PeerID(k keys.StakingPubKey) network.PeerID { return network.PeerID(k.String()) }

// genesisLeaf builds the leaf of height 0 from the genesis file.
func (n *Node) genesisLeaf() (types.Leaf, types.Payload) {
	var p types.Payload
	h := types.Header{
		Version:           n.gen.BaseVersion,
		ChainConfig:       n.gen.ChainConfig,
		Timestamp:         n.gen.Timestamp,
		PayloadCommitment: chain.PayloadCommitment(&p),
		BuilderCommitment: chain.PayloadCommitment(&p),
	}
	return types.GenesisLeaf(h), p
}

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
	gleaf, gpayload := n.genesisLeaf()
	restore, last, err := persist.Load(ctx, n.s.store, gleaf, gpayload)
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	if restore != nil {
		n.log.Info("restored from store", "height", last.Height(), "view", uint64(restore.Safety.View), "proposals", len(restore.Proposals))
	}
	builder := chain.NewBuilder(n.rules, n.mempool)
	eng, err := consensus.New(consensus.Params{
		Config: *n.s.consensus, StakeTable: n.table, Key: n.keys.Staking,
		Genesis: n.gen.Commitment(), GenesisLeaf: gleaf, GenesisPayload: gpayload,
		Validator: chain.NewValidator(n.rules), Builder: builder,
		Restore: restore, Now: n.s.clock.Now(), Logger: n.log,
	})
	if err != nil {
		return err
	}
	n.engine = eng
	n.mu.Lock()
	n.height = last.Height() + 1
	n.mu.Unlock()
	m, err := newMetrics(n)
	if err != nil {
		return err
	}
	n.metrics = m
	loopCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	n.cancel = cancel
	n.done = make(chan struct{})
	n.started = true
	go n.run(loopCtx)
	return nil
}

// Stop stops the node, then closes its network and store. It is idempotent
// and safe to call after a failed Start; ctx bounds the wait.
func (n *Node) Stop(ctx context.Context) error {
	n.lifecycle.Lock()
	defer n.lifecycle.Unlock()
	if n.stopped {
		return nil
	}
	n.stopped = true
	if n.started {
		n.cancel()
		select {
		case <-n.done:
		case <-ctx.Done():
			return fmt.Errorf("node: stop: %w", ctx.Err())
		}
	}
	n.mu.Lock()
	if n.err == nil {
		n.err = ErrStopped
	}
	close(n.notify)
	n.notify = make(chan struct{})
	n.mu.Unlock()
	if n.metrics != nil {
		n.metrics.unregister()
	}
	return errors.Join(n.s.transport.Close(), n.s.store.Close())
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

// Stats returns the consensus counters.
func (n *Node) Stats() consensus.Stats {
	n.engineMu.Lock()
	defer n.engineMu.Unlock()
	if n.engine == nil {
		return consensus.Stats{}
	}
	return n.engine.Stats()
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
	if err := tx.Validate(); err != nil {
		return types.Commitment{}, err
	}
	if uint64(len(tx.Payload))+8 > n.rules.ChainConfig.MaxBlockSize {
		return types.Commitment{}, fmt.Errorf("%w: %d bytes cannot fit a block of max_block_size %d", chain.ErrTransactionTooLarge, len(tx.Payload), n.rules.ChainConfig.MaxBlockSize)
	}
	if err := n.running(); err != nil {
		return types.Commitment{}, err
	}
	added, err := n.mempool.Add(tx, n.s.clock.Now())
	if err != nil {
		return types.Commitment{}, err
	}
	if added {
		if err := n.s.transport.Broadcast(ctx, TopicTransactions, encodeTx(tx)); err != nil {
			n.log.Warn("gossip transaction", "err", err)
		}
		n.poke()
	}
	return tx.Commit(), nil
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

func encodeTx(tx types.Transaction) []byte {
	b := make([]byte, 0, 9+len(tx.Payload))
	b = append(b, frameTransaction)
	b = append(b, byte(tx.Namespace>>56), byte(tx.Namespace>>48), byte(tx.Namespace>>40), byte(tx.Namespace>>32),
		byte(tx.Namespace>>24), byte(tx.Namespace>>16), byte(tx.Namespace>>8), byte(tx.Namespace))
	return append(b, tx.Payload...)
}

func decodeTx(b []byte) (types.Transaction, error) {
	if len(b) < 8 {
		return types.Transaction{}, fmt.Errorf("transaction frame of %d bytes, want at least 8", len(b))
	}
	var ns uint64
	for _, x := range b[:8] {
		ns = ns<<8 | uint64(x)
	}
	return types.Transaction{Namespace: ns, Payload: append([]byte(nil), b[8:]...)}, nil
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

// run is the node's loop: it feeds the engine and carries out what it asks,
// persist first, then send, then deliver decides.
func (n *Node) run(ctx context.Context) {
	defer close(n.done)
	timer := n.s.clock.NewTimer(time.Hour)
	defer timer.Stop()
	incoming := n.s.transport.Incoming()
	for {
		n.engineMu.Lock()
		r := n.engine.Ready()
		deadline := n.engine.NextDeadline()
		stats := n.engine.Stats()
		n.engineMu.Unlock()
		if !r.Empty() {
			if err := n.apply(ctx, &r); err != nil {
				if ctx.Err() == nil {
					n.halt(err)
				}
				return
			}
		}
		n.metrics.update(stats)
		timer.Reset(max(deadline.Sub(n.s.clock.Now()), 0))
		select {
		case <-ctx.Done():
			return
		case env, ok := <-incoming:
			if !ok {
				n.halt(fmt.Errorf("node: network closed"))
				return
			}
			n.handle(ctx, env)
		case <-timer.C():
			n.tick()
		case <-n.wake:
			n.tick()
		}
	}
}

func (n *Node) tick() {
	n.engineMu.Lock()
	n.engine.Tick(n.s.clock.Now())
	n.engineMu.Unlock()
}

func (n *Node) halt(err error) {
	n.log.Error("node stopped participating", "err", err)
	n.mu.Lock()
	if n.err == nil {
		n.err = fmt.Errorf("%w: %w", ErrHalted, err)
	}
	close(n.notify)
	n.notify = make(chan struct{})
	n.mu.Unlock()
}

// handle processes one network message.
func (n *Node) handle(ctx context.Context, env network.Envelope) {
	if len(env.Data) == 0 {
		n.metrics.invalidFrames.Inc()
		return
	}
	from, member := n.index[env.From]
	if !member {
		from = -1
	}
	switch env.Data[0] {
	case frameTransaction:
		tx, err := decodeTx(env.Data[1:])
		if err == nil {
			err = tx.Validate()
		}
		if err != nil {
			n.metrics.invalidFrames.Inc()
			return
		}
		if _, err := n.mempool.Add(tx, n.s.clock.Now()); err == nil {
			n.tick()
		}
	case frameConsensus:
		m, err := consensus.Decode(env.Data[1:])
		if err != nil {
			n.metrics.invalidFrames.Inc()
			n.log.Debug("undecodable consensus message", "peer", string(env.From), "err", err)
			return
		}
		if req, ok := m.(*consensus.FetchRequest); ok {
			n.serveFetch(ctx, env.From, req)
			return
		}
		n.engineMu.Lock()
		n.engine.Tick(n.s.clock.Now())
		n.engine.Step(from, m)
		n.engineMu.Unlock()
	default:
		n.metrics.invalidFrames.Inc()
	}
}

func (n *Node) serveFetch(ctx context.Context, to network.PeerID, req *consensus.FetchRequest) {
	lookup := func(c types.Commitment) (consensus.FetchedLeaf, bool) {
		n.engineMu.Lock()
		l, ok := n.engine.Leaf(c)
		n.engineMu.Unlock()
		if ok {
			return l, true
		}
		b, err := n.s.store.BlockByLeaf(ctx, c)
		if err != nil {
			return consensus.FetchedLeaf{}, false
		}
		return consensus.FetchedLeaf{Leaf: b.Leaf, Payload: b.Payload}, true
	}
	resp := consensus.ServeFetch(req, lookup)
	if resp == nil {
		return
	}
	n.sendTo(ctx, to, resp)
}

func (n *Node) sendTo(ctx context.Context, to network.PeerID, m consensus.Message) {
	data, err := frame(m)
	if err != nil {
		n.log.Error("encode message", "err", err)
		return
	}
	if err := n.s.transport.Send(ctx, to, data); err != nil {
		n.metrics.failedMessages.Inc()
		n.log.Debug("send failed", "peer", string(to), "err", err)
	}
}

func frame(m consensus.Message) ([]byte, error) { return EncodeMessage(m) }

// EncodeMessage frames a consensus message as the node sends it.
func EncodeMessage(m consensus.Message) ([]byte, error) {
	b, err := consensus.Encode(m)
	if err != nil {
		return nil, err
	}
	return append([]byte{frameConsensus}, b...), nil
}

// DecodeMessage parses a frame made by EncodeMessage. Frames of other kinds
// (transaction gossip) return ErrNotConsensus.
func DecodeMessage(b []byte) (consensus.Message, error) {
	if len(b) == 0 || b[0] != frameConsensus {
		return nil, ErrNotConsensus
	}
	return consensus.Decode(b[1:])
}

// apply carries out a Ready: persist, then send, then deliver decides. A
// failed write returns an error before anything is sent.
func (n *Node) apply(ctx context.Context, r *consensus.Ready) error {
	if err := persist.Save(ctx, n.s.store, r); err != nil {
		return err
	}
	for _, o := range r.Messages {
		data, err := frame(o.Msg)
		if err != nil {
			n.log.Error("encode message", "err", err)
			continue
		}
		if o.To == consensus.Broadcast {
			err = n.s.transport.Broadcast(ctx, TopicConsensus, data)
		} else {
			err = n.s.transport.Send(ctx, n.peers[o.To], data)
		}
		if err != nil {
			n.metrics.failedMessages.Inc()
			n.log.Debug("send failed", "to", o.To, "err", err)
		}
	}
	if len(r.Decided) > 0 {
		blocks := r.Decided
		for _, d := range r.Decided {
			if txs, err := d.Payload.Transactions(); err == nil {
				n.mempool.Decided(txs)
			}
		}
		if err := n.s.store.SaveDecided(ctx, blocks); err != nil {
			return fmt.Errorf("save decided blocks: %w", err)
		}
		last := blocks[len(blocks)-1]
		n.metrics.decided(len(blocks), n.s.clock.Now())
		n.mu.Lock()
		n.height = last.Height() + 1
		close(n.notify)
		n.notify = make(chan struct{})
		n.mu.Unlock()
		n.log.Debug("decided", "height", last.Height(), "view", uint64(last.Leaf.View), "blocks", len(blocks))
	}
	if r.Halt != nil {
		return r.Halt
	}
	return nil
}

// PendingTransactions returns the number of transactions in the mempool.
func (n *Node) PendingTransactions() int { return n.mempool.Len() }
