package node

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gospresso/gospresso/chain/state"
	"github.com/gospresso/gospresso/genesis"
	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/l1"
	"github.com/gospresso/gospresso/node/replica"
	"github.com/gospresso/gospresso/types"
)

// WithL1 connects the node to the L1 (Ethereum) chain through c: l1/eth for
// a real provider, l1/l1test for the embedded simulated L1. The node runs an
// l1.Tracker over it (opts tune it: polling interval, retry delay, block
// cache, eth_getLogs range; the fee contract and the logger are set by the
// node) from Start to Stop, and its headers then carry real l1_head and
// l1_finalized blocks and credit the fee contract's deposits (docs/l1.md).
//
// It is required for a genesis that sets fee_contract or [l1_finalized];
// without it such a genesis is refused with ErrL1Required. A network
// without an L1 runs without it, its headers keeping l1_head 0 and
// l1_finalized null. The node does not close c.
func WithL1(c l1.Client, opts ...l1.TrackerOption) Option {
	return func(st *settings) error {
		if c == nil {
			return fmt.Errorf("%w: WithL1(nil)", ErrInvalidOption)
		}
		st.l1, st.l1Opts = c, opts
		return once("WithL1", st)
	}
}

// WithBuilderKey sets the secp256k1 key of the node's block builder: its
// Ethereum address is the fee account that pays base_fee × payload bytes
// for every block this node proposes, and the key signs the header's fee
// info (docs/state.md, "Builder fees"). Default: a key derived from the
// staking key (chain.DeriveBuilderKey), which suits dev and test networks
// only: anyone who knows the staking key knows it.
func WithBuilderKey(k *ecdsa.PrivateKey) Option {
	return func(st *settings) error {
		if k == nil {
			return fmt.Errorf("%w: WithBuilderKey(nil)", ErrInvalidOption)
		}
		st.builderKey = k
		return once("WithBuilderKey", st)
	}
}

// feeContract is the fee contract whose deposits the node credits: the
// genesis chain config's, else the first upgrade's that sets one.
func feeContract(gen *genesis.Genesis) *types.Address {
	if gen.ChainConfig.FeeContract != nil {
		return gen.ChainConfig.FeeContract
	}
	for _, u := range gen.Upgrades {
		if u.ChainConfig.FeeContract != nil {
			return u.ChainConfig.FeeContract
		}
	}
	return nil
}

// needsResolve reports whether the genesis [l1_finalized] block must be
// read from the L1 before the genesis header exists (number and timestamp
// forms; the full form is the block itself).
func needsResolve(gen *genesis.Genesis) bool {
	return gen.L1Finalized != nil && gen.L1Finalized.Form() != genesis.FormFull
}

// l1Ledger adapts an l1.Tracker to chain.L1.
type l1Ledger struct{ t *l1.Tracker }

func (a l1Ledger) Snapshot() (uint64, *types.L1BlockInfo) { return a.t.Snapshot() }

func (a l1Ledger) BlockInfo(n uint64) (types.L1BlockInfo, bool) { return a.t.BlockInfo(n) }

func (a l1Ledger) Credits(from, to uint64) ([]state.Credit, bool) {
	deps, ok := a.t.Deposits(from, to)
	if !ok {
		return nil, false
	}
	credits := make([]state.Credit, len(deps))
	for i, d := range deps {
		credits[i] = state.Credit{Account: d.Account, Amount: d.Amount}
	}
	return credits, true
}

// startL1 starts the L1 tracker for the node's lifetime and, for a genesis
// whose [l1_finalized] block is named by number or timestamp, waits until
// the L1 has finalized it (logging that it waits) and derives the setup
// from it. ctx bounds the wait.
func (n *Node) startL1(ctx context.Context) error {
	opts := append([]l1.TrackerOption{l1.WithLogger(n.log), l1.WithFeeContract(feeContract(n.gen))}, n.s.l1Opts...)
	t := l1.NewTracker(n.s.l1, opts...)
	for _, c := range t.Collectors() {
		if err := n.s.registry.Register(c); err != nil {
			n.unregisterL1()
			return fmt.Errorf("node: L1 metrics: %w", err)
		}
		n.l1Collectors = append(n.l1Collectors, c)
	}
	if cc, ok := n.s.l1.(interface{ Collectors() []prometheus.Collector }); ok {
		for _, c := range cc.Collectors() {
			if err := n.s.registry.Register(c); err != nil {
				var already prometheus.AlreadyRegisteredError
				if errors.As(err, &already) {
					continue // a client shared by several nodes on one registry
				}
				n.unregisterL1()
				return fmt.Errorf("node: L1 client metrics: %w", err)
			}
			n.l1Collectors = append(n.l1Collectors, c)
		}
	}
	trackCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { defer close(done); _ = t.Run(trackCtx) }()
	n.l1Tracker, n.l1Cancel, n.l1Done = t, cancel, done
	if n.setup != nil {
		return nil
	}
	b, err := n.resolveGenesis(ctx)
	if err != nil {
		return err
	}
	setup, err := replica.NewSetup(n.gen, replica.WithL1Genesis(b))
	if err != nil {
		return err
	}
	n.setup = setup
	return nil
}

// resolveGenesis waits until the L1 has finalized the genesis
// [l1_finalized] block and returns it (docs/l1.md, "Finality waits"): at
// once when it already has, else through the tracker's WaitResolved, which
// logs its progress.
func (n *Node) resolveGenesis(ctx context.Context) (types.L1BlockInfo, error) {
	want := n.gen.L1Finalized
	b, err := l1.Resolve(ctx, n.s.l1, want)
	if err == nil {
		return b, nil
	}
	if errors.Is(err, l1.ErrMismatch) || errors.Is(err, l1.ErrMalformed) {
		return types.L1BlockInfo{}, fmt.Errorf("node: genesis [l1_finalized]: %w", err)
	}
	n.log.Info("waiting for the genesis [l1_finalized] block to be finalized on the L1 before starting consensus", "form", want.Form(), "reason", err)
	if b, err = n.l1Tracker.WaitResolved(ctx, want); err != nil {
		return types.L1BlockInfo{}, fmt.Errorf("node: genesis [l1_finalized]: %w", err)
	}
	n.log.Info("the genesis L1 block is finalized", "number", b.Number, "hash", b.Hash)
	return b, nil
}

// stopL1 stops the tracker and unregisters its metrics.
func (n *Node) stopL1(ctx context.Context) {
	if n.l1Cancel == nil {
		return
	}
	n.l1Cancel()
	select {
	case <-n.l1Done:
	case <-ctx.Done():
	}
	n.unregisterL1()
}

func (n *Node) unregisterL1() {
	for _, c := range n.l1Collectors {
		n.s.registry.Unregister(c)
	}
	n.l1Collectors = nil
}

// DefaultBuilderKey returns the builder key a node with staking key k uses
// when not given one with WithBuilderKey. A dev network's genesis prefunds
// its address (chain.BuilderAddress) under [accounts].
func DefaultBuilderKey(k keys.StakingKey) (*ecdsa.PrivateKey, error) {
	return replica.DefaultBuilderKey(k)
}

// DecidedState returns the chain state after the last block whose state
// the node has applied (the fee balances and the block tree), with that
// block's header; ok is false before Start. The state may trail the last
// decided block while the node waits for the L1 deposits that block
// credits. The state is immutable and safe to read from any goroutine.
func (n *Node) DecidedState() (h types.Header, st *state.State, ok bool) {
	l := n.ledger.Load()
	if l == nil {
		return types.Header{}, nil, false
	}
	ds := l.DecidedState()
	return ds.Header, ds.State, true
}

// WithStateCatchup gives the node a way to fetch a peer's chain state when
// its store cannot rebuild its own at start (a consensus-only store that
// stopped between storing a decided block and its state snapshot, or a
// pruned store without a snapshot): src returns a peer's ChainState. The
// answer is checked (its block's quorum certificate against the stake
// table, the state's roots against that block's header) before it is used
// (docs/state.md, "State catchup"). In-process networks (nodetest) wire it
// to the other nodes. Default: none, and such a start fails with an error
// that says why.
func WithStateCatchup(src func(ctx context.Context) (types.Block, []byte, error)) Option {
	return func(st *settings) error {
		if src == nil {
			return fmt.Errorf("%w: WithStateCatchup(nil)", ErrInvalidOption)
		}
		st.catchup = src
		return once("WithStateCatchup", st)
	}
}

// ChainState returns the node's decided chain state for a peer's state
// catchup: the decided block the state follows (with its certificate) and
// the state's encoding. It fails before Start, and when the store no
// longer holds that block.
func (n *Node) ChainState(ctx context.Context) (types.Block, []byte, error) {
	l := n.ledger.Load()
	if l == nil {
		return types.Block{}, nil, fmt.Errorf("node: chain state: %w", ErrNotStarted)
	}
	ds := l.DecidedState()
	b, err := n.s.store.BlockByHeight(ctx, ds.Header.Height)
	if err != nil {
		return types.Block{}, nil, fmt.Errorf("node: chain state: block %d: %w", ds.Header.Height, err)
	}
	if b.Leaf.Header.Commit() != ds.Header.Commit() {
		return types.Block{}, nil, fmt.Errorf("node: chain state: the stored block %d is not the state's", ds.Header.Height)
	}
	return b, ds.State.Encode(), nil
}
