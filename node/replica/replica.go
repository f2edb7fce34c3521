package replica

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/network"
	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/types"
)

// Sentinel errors.
var (
	// ErrHalted wraps the reason a replica stopped participating: a failed
	// storage write, or a safety violation consensus detected. A halted
	// replica does nothing more.
	ErrHalted = errors.New("replica: halted")
	// ErrForeignStore is returned when a store holds another network's
	// chain: its block 0 differs from the genesis block, or it is bound to
	// another genesis commitment (storage.GenesisBinder), which catches a
	// store whose block 0 is pruned or, consensus-only, never kept.
	ErrForeignStore = errors.New("replica: the store belongs to another network")
)

// Store is what a replica needs of its store: consensus persistence and the
// decided chain. Every write is durable when it returns.
type Store interface {
	storage.ConsensusStore
	storage.BlockStore
}

// Sender puts a replica's messages on the wire. Messages are frames
// (EncodeMessage, EncodeTransaction) addressed by stake-table index. A
// Sender does not report failures: a lost message is for consensus to
// recover from, and the driver counts failures itself. Submit may call the
// Sender from another goroutine than the driver's, so a Sender used with
// concurrent Submit calls must be safe for concurrent use.
type Sender interface {
	// Send sends data to member to.
	Send(ctx context.Context, to int, data []byte)
	// Broadcast sends data on topic to every other member.
	Broadcast(ctx context.Context, topic string, data []byte)
}

// Config configures Open.
type Config struct {
	// Setup is the network's shared setup (NewSetup). Required.
	Setup *Setup
	// Key is this node's staking key. A key outside the stake table makes
	// an observer, which follows the chain but never signs.
	Key keys.StakingKey
	// Store is the node's store. Required.
	Store Store
	// Sender carries messages out. Required.
	Sender Sender
	// Consensus holds the consensus parameters; zero fields take the
	// defaults of consensus.DefaultConfig.
	Consensus consensus.Config
	// Mempool bounds the mempool; zero fields take chain's defaults, except
	// MaxBytes, which defaults to MempoolBlocks × the chain's max_block_size
	// (see MempoolBlocks).
	Mempool chain.MempoolConfig
	// L1 is the node's view of the L1 (see chain.L1). Required when the
	// genesis names a fee contract or an [l1_finalized] block; nil
	// otherwise.
	L1 chain.L1
	// BuilderKey is the secp256k1 key of the node's block builder, whose
	// fee account pays for the blocks the node proposes. Default: derived
	// from Key (chain.DeriveBuilderKey), which suits dev and test networks,
	// whose genesis [accounts] can prefund it.
	BuilderKey *ecdsa.PrivateKey
	// Catchup fetches a peer's chain state when the store cannot rebuild
	// this node's (docs/state.md, "State catchup"). Optional: without it
	// such a restart fails with an error that says why.
	Catchup StateSource
	// FetchObservers are the network identities outside the stake table
	// whose requests for missing leaves are answered (FetchServer); other
	// non-members are refused. Default: none.
	FetchObservers []network.PeerID
	// Logger receives the replica's and the engine's logs. Default: none.
	Logger *slog.Logger
	// OnDecided, if set, is called with each batch of decided blocks once
	// they are stored, in height order, on the goroutine that drives the
	// replica.
	OnDecided func([]types.Block)
	// OnFault, if set, is called with each member the engine caught with a
	// bad vote signature or an invalid certificate (consensus.Fault), on
	// the goroutine that drives the replica, for the driver to report the
	// member (Node reports it to a transport that scores peers). The member
	// may be another than the one whose message was being delivered.
	OnFault func(consensus.Fault)
}

// MempoolBlocks is how many full blocks of transactions a mempool holds by
// default. Beyond that a submission is refused ("mempool full") rather
// than queued: a longer queue would only make every transaction wait
// longer, while refusing tells the client to back off (docs/protocol.md,
// "Transactions"). Four, because the transactions of the two undecided
// blocks a leader extends stay in its mempool until they are decided, and
// are excluded from its block: with two blocks' worth, a saturated network
// built half-full blocks (BenchmarkThroughput: 0.48 MB blocks of 1 MB).
const MempoolBlocks = 4

// Stats are the replica's counters: the engine's, and what the replica
// itself dropped.
type Stats struct {
	consensus.Stats
	// InvalidFrames counts messages that could not be decoded.
	InvalidFrames uint64
	// FetchRequestsRefused counts requests for leaves not answered because
	// of their sender: over its rate (FetchRate, FetchBurst), or neither a
	// member nor an observer; FetchRequestsNotAllowed counts the latter
	// alone. FetchRequestsAnswered and FetchBytesAnswered count the answers
	// and their bytes. They include the requests a driver served through
	// FetchServer itself.
	FetchRequestsRefused, FetchRequestsNotAllowed uint64
	FetchRequestsAnswered, FetchBytesAnswered     uint64
	// ChecksAhead counts the messages Check checked ahead of the engine;
	// ChecksAheadRefused those it left to the engine because their sender
	// failed such a check before.
	ChecksAhead, ChecksAheadRefused uint64
}

// Replica is the single-threaded core of a node (see the package
// documentation). Only Submit, Pending and Check may be called
// concurrently with the goroutine driving it; every other method must be
// called from that one goroutine.
type Replica struct {
	setup     *Setup
	store     Store
	sender    Sender
	mempool   *chain.Mempool
	engine    *consensus.Engine
	log       *slog.Logger
	onDecided func([]types.Block)
	onFault   func(consensus.Fault)
	halted    error
	stats     Stats
	height    uint64 // height of the last decided block
	ledger    *chain.Ledger
	// fetch answers requests for missing leaves (FetchServer).
	fetch *FetchServer
	// states keeps the chain-state snapshot (nil when the store cannot);
	// savedHeight is the height of the last one saved.
	states      storage.StateStore
	savedHeight uint64
	keepsBlocks *bool // whether the store keeps blocks below the last; nil until known
	// check checks messages ahead of the engine, with the verifier the
	// engine shares (Check).
	check *checker
}

// Open loads the node's state from cfg.Store (a new store gets the genesis
// block), builds the engine on it and carries out what the engine asks at
// start (a restarted leader re-sends its stored proposal). now is the
// replica's initial time.
func Open(ctx context.Context, cfg Config, now time.Time) (*Replica, error) {
	switch {
	case cfg.Setup == nil:
		return nil, errors.New("replica: Config.Setup is required")
	case cfg.Store == nil:
		return nil, errors.New("replica: Config.Store is required")
	case cfg.Sender == nil:
		return nil, errors.New("replica: Config.Sender is required")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	restore, last, err := load(ctx, cfg.Store, cfg.Setup.GenesisBlock, cfg.Setup.Commitment)
	if err != nil {
		return nil, err
	}
	mcfg := cfg.Mempool
	mcfg.MaxBlockSize = cfg.Setup.Rules.ChainConfig.MaxBlockSize
	if mcfg.MaxBytes == 0 {
		mcfg.MaxBytes = int(min(MempoolBlocks*cfg.Setup.Rules.ChainConfig.MaxBlockSize, 1<<40))
	}
	r := &Replica{
		setup: cfg.Setup, store: cfg.Store, sender: cfg.Sender,
		mempool: chain.NewMempool(mcfg), log: log, onDecided: cfg.OnDecided, onFault: cfg.OnFault,
		height: last.Height(), fetch: NewFetchServer(cfg.Store, cfg.FetchObservers, log),
	}
	var caughtUp *types.Block
	if r.ledger, caughtUp, err = openLedger(ctx, cfg, r.mempool, restore, last, log); err != nil {
		return nil, err
	}
	if ss, ok := cfg.Store.(storage.StateStore); ok {
		r.states = ss
		r.savedHeight = r.ledger.DecidedState().Header.Height
		// Keep a state a peer served, so the next restart needs no peer;
		// and a new store's genesis state, so the pruner has a floor.
		var b *types.Block
		switch {
		case caughtUp != nil:
			b = caughtUp
		case restore == nil:
			b = &cfg.Setup.GenesisBlock
		}
		if b != nil {
			if err := r.writeSnapshot(ctx, b, r.ledger.DecidedState().State); err != nil {
				return nil, fmt.Errorf("replica: %w", err)
			}
		}
	}
	g := cfg.Setup.GenesisBlock
	verifier := consensus.NewVerifier(cfg.Setup.Table, cfg.Setup.Commitment, &g.Leaf)
	r.engine, err = consensus.New(consensus.Params{
		Config: cfg.Consensus, StakeTable: cfg.Setup.Table, Key: cfg.Key,
		Genesis: cfg.Setup.Commitment, GenesisLeaf: g.Leaf, GenesisPayload: g.Payload,
		Validator: r.ledger, Builder: r.ledger, VID: r.ledger.VIDScheme(), Verifier: verifier,
		Restore: restore, Now: now, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	ahead := cfg.Consensus.MaxViewsAhead
	if ahead == 0 {
		ahead = consensus.DefaultConfig().MaxViewsAhead
	}
	r.check = newChecker(verifier, ahead)
	r.check.view.Store(uint64(r.engine.View()))
	// The restored proposals the engine kept are servable; the last decided
	// block is in the store.
	r.fetch.decided(&last.Leaf)
	if restore != nil {
		for _, p := range restore.Proposals {
			if l, ok := r.engine.Leaf(p.Leaf.Commit()); ok {
				r.fetch.hold(l)
			}
		}
		log.Info("restored from store", "height", last.Height(), "view", uint64(r.engine.View()),
			"last_voted_view", uint64(restore.Safety.LastVotedView), "high_qc_view", uint64(restore.Safety.HighQC.View),
			"stored_view", uint64(restore.Safety.View), "proposals", len(restore.Proposals))
	}
	return r, r.apply(ctx)
}

// Deliver handles one message from member from (its stake-table index, or
// -1 for a sender outside the stake table) at time now. A message that
// cannot be decoded is counted and dropped. The result is the answer to a
// request, to be sent back to where data came from (nil when there is none;
// today only requests for missing leaves are answered this way). The error
// is non-nil only once the replica has halted.
//
// Deliver answers a request for missing leaves itself, within the sender's
// rate; all senders outside the stake table share one rate, as Deliver
// cannot tell them apart. A driver that knows its peers' identities
// answers such requests with FetchServer instead (off its driving
// goroutine, refusing non-members that are not observers), as Node does.
func (r *Replica) Deliver(ctx context.Context, from int, data []byte, now time.Time) ([]byte, error) {
	if r.halted != nil {
		return nil, r.halted
	}
	return r.DeliverChecked(ctx, r.Check(from, data), now)
}

// deliverFrame is Deliver for a decoded message.
func (r *Replica) deliverFrame(ctx context.Context, from int, f Frame, now time.Time) ([]byte, error) {
	if tx := f.Transaction; tx != nil {
		if added, err := r.admit(ctx, *tx, tx.Commit(), now); err == nil && added {
			r.engine.Tick(now) // a waiting leader may propose now
		}
		return nil, r.apply(ctx)
	}
	switch f.Consensus.(type) {
	case *consensus.FetchRequest, *consensus.HeaderRequest:
		if r.fetch.allow(fetchKey{member: max(from, -1)}, now) != nil {
			return nil, nil
		}
		return r.fetch.Answer(ctx, f.Consensus), nil
	}
	r.engine.Tick(now)
	r.engine.Step(from, f.Consensus)
	if resp, ok := f.Consensus.(*consensus.FetchResponse); ok {
		r.holdFetched(resp)
	}
	return nil, r.apply(ctx)
}

// Tick advances the replica's clock to now, firing due timers.
func (r *Replica) Tick(ctx context.Context, now time.Time) error {
	if r.halted != nil {
		return r.halted
	}
	r.engine.Tick(now)
	return r.apply(ctx)
}

// NextDeadline returns when the replica next needs a Tick.
func (r *Replica) NextDeadline() time.Time { return r.engine.NextDeadline() }

// Submit admits tx to the mempool and gossips it to the other members, so
// the coming leaders include it; it returns the transaction's commitment.
// Submitting is idempotent (docs/protocol.md, "Transactions"): a
// transaction that is already pending, or already decided (in the blocks
// the store keeps, or among the mempool's recently decided ones), is
// answered with its commitment and not admitted again, so a client that
// retries after a timeout or a node restart never gets it sequenced twice.
// A full mempool refuses with chain.ErrMempoolFull. Submit is safe to call
// concurrently with the driving goroutine (it touches only the mempool,
// which has its own lock, the store, and the Sender); the driver should
// Tick soon after, so a leader waiting for transactions proposes.
func (r *Replica) Submit(ctx context.Context, tx types.Transaction, now time.Time) (types.Commitment, error) {
	if err := tx.Validate(); err != nil {
		return types.Commitment{}, err
	}
	if limit := r.setup.Rules.ChainConfig.MaxBlockSize; uint64(len(tx.Payload))+8 > limit {
		return types.Commitment{}, fmt.Errorf("%w: %d bytes cannot fit a block of max_block_size %d", chain.ErrTransactionTooLarge, len(tx.Payload), limit)
	}
	c := tx.Commit()
	added, err := r.admit(ctx, tx, c, now)
	if err != nil {
		return types.Commitment{}, err
	}
	if added {
		r.sender.Broadcast(ctx, TopicTransactions, EncodeTransaction(tx))
	}
	return c, nil
}

// admit adds tx, whose commitment is c, to the mempool unless it is
// pending, or decided: recently
// (the mempool remembers) or in any block the store keeps (looked up by
// commitment; such a transaction is then remembered as recently decided).
// The store is read before the mempool is written: a decide that lands in
// between has already told the mempool (apply tells it before it stores the
// blocks), so the transaction is refused either way.
func (r *Replica) admit(ctx context.Context, tx types.Transaction, c types.Commitment, now time.Time) (bool, error) {
	if r.mempool.Known(&tx) {
		return false, nil
	}
	_, err := r.store.TransactionByHash(ctx, c)
	switch {
	case err == nil:
		r.mempool.Decided([]types.Transaction{tx})
		return false, nil
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrPruned):
	default:
		return false, fmt.Errorf("replica: look the transaction up in the store: %w", err)
	}
	return r.mempool.Add(tx, now)
}

// Pending returns the number of transactions in the mempool and their
// payload bytes. It is safe for concurrent use.
func (r *Replica) Pending() (count, bytes int) { return r.mempool.Len(), r.mempool.Bytes() }

// Stats returns the replica's counters.
func (r *Replica) Stats() Stats {
	s := r.stats
	s.Stats = r.engine.Stats()
	fs := r.fetch.Stats()
	s.FetchRequestsRefused, s.FetchRequestsNotAllowed = fs.Refused, fs.NotAllowed
	s.FetchRequestsAnswered, s.FetchBytesAnswered = fs.Answered, fs.AnsweredBytes
	s.ChecksAhead, s.ChecksAheadRefused = r.check.checked.Load(), r.check.refused.Load()
	return s
}

// Height returns the height of the last decided block.
func (r *Replica) Height() uint64 { return r.height }

// Halted returns why the replica stopped participating (wrapping
// ErrHalted), or nil.
func (r *Replica) Halted() error { return r.halted }

// Ledger returns the replica's chain state. Its DecidedState and
// Rejections methods are safe for concurrent use; the others belong to the
// driving goroutine.
func (r *Replica) Ledger() *chain.Ledger { return r.ledger }

// Self returns this node's stake-table index, or -1 for an observer.
func (r *Replica) Self() int { return r.engine.Self() }

// FetchServer returns the replica's server of requests for missing leaves.
// It is safe for concurrent use: a driver may answer requests with it off
// the driving goroutine while the replica keeps its leaves up to date.
func (r *Replica) FetchServer() *FetchServer { return r.fetch }

// holdFetched makes the leaves of a fetch response that the engine took
// servable.
func (r *Replica) holdFetched(resp *consensus.FetchResponse) {
	var held []consensus.FetchedLeaf
	for i := range resp.Leaves {
		if l, ok := r.engine.Leaf(resp.Leaves[i].Leaf.Commit()); ok {
			held = append(held, l)
		}
	}
	r.fetch.hold(held...)
}

// apply carries out what the engine asks, in the order that keeps the node
// safe: persist the safety state and proposals, then send, then store the
// decided blocks. A failed write halts the replica before anything that
// depends on it is sent.
func (r *Replica) apply(ctx context.Context) error {
	r.check.view.Store(uint64(r.engine.View()))
	rd := r.engine.Ready()
	for _, f := range rd.Faulty {
		r.log.Debug("faulty member", "member", f.Member, "err", f.Err)
		if r.onFault != nil {
			r.onFault(f)
		}
	}
	rd.Faulty = nil
	if rd.Empty() {
		// A decided block's state may wait for L1 deposits.
		if err := r.ledger.Decide(nil); err != nil {
			return r.halt(err)
		}
		if err := r.saveState(context.WithoutCancel(ctx), nil); err != nil {
			return r.halt(err)
		}
		return nil
	}
	// The writes of one Ready complete even when the driver is being
	// stopped: a Ready cut in half could leave a safety state naming a leaf
	// that was never stored.
	wctx := context.WithoutCancel(ctx)
	if err := save(wctx, r.store, &rd); err != nil {
		return r.halt(err)
	}
	// The leaves whose payloads the engine holds are servable once stored.
	var held []consensus.FetchedLeaf
	for _, p := range rd.Proposals {
		if l, ok := r.engine.Leaf(p.Leaf.Commit()); ok {
			held = append(held, l)
		}
	}
	for _, c := range rd.Payloads {
		if l, ok := r.engine.Leaf(c); ok {
			held = append(held, l)
		}
	}
	r.fetch.hold(held...)
	for _, o := range rd.Messages {
		data, err := EncodeMessage(o.Msg)
		if err != nil {
			r.log.Error("encode message", "err", err) // a bug: the engine built it
			continue
		}
		if o.To == consensus.Broadcast {
			r.sender.Broadcast(ctx, TopicConsensus, data)
		} else {
			r.sender.Send(ctx, o.To, data)
		}
	}
	if len(rd.Decided) > 0 {
		for _, b := range rd.Decided {
			if txs, err := b.Payload.Transactions(); err == nil {
				r.mempool.Decided(txs)
			}
		}
		if err := r.store.SaveDecided(wctx, rd.Decided); err != nil {
			return r.halt(fmt.Errorf("save decided blocks: %w", err))
		}
		if err := r.ledger.Decide(rd.Decided); err != nil {
			return r.halt(err)
		}
		if err := r.saveState(wctx, rd.Decided); err != nil {
			return r.halt(err)
		}
		last := rd.Decided[len(rd.Decided)-1]
		r.fetch.decided(&last.Leaf)
		r.height = last.Height()
		r.log.Debug("decided", "height", last.Height(), "view", uint64(last.Leaf.View), "blocks", len(rd.Decided))
		if r.onDecided != nil {
			r.onDecided(rd.Decided)
		}
	}
	if rd.Halt != nil {
		return r.halt(rd.Halt)
	}
	return nil
}

func (r *Replica) halt(err error) error {
	if r.halted == nil {
		r.halted = fmt.Errorf("%w: %w", ErrHalted, err)
		r.log.Error("replica halted", "err", err)
	}
	return r.halted
}
