package replica

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"

	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/types"
)

// ErrNoL1 is returned by Open for a genesis that needs an L1 client
// (a fee contract or an [l1_finalized] block) when Config.L1 is nil.
var ErrNoL1 = errors.New("replica: the genesis needs an L1 client (it sets fee_contract or [l1_finalized]) and none was given")

// replayBatch is how many stored blocks a restart replays at a time.
const replayBatch = 256

// errNotStored marks a replay that needs a block the store no longer has.
var errNotStored = errors.New("block not in the store")

// replay decides the stored blocks (from, to] into led.
func replay(ctx context.Context, cfg Config, led *chain.Ledger, from, to uint64) error {
	for start := from + 1; start <= to; start += replayBatch {
		until := min(start+replayBatch, to+1)
		blocks := make([]types.Block, 0, until-start)
		for h := start; h < until; h++ {
			b, err := cfg.Store.BlockByHeight(ctx, h)
			if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrPruned) {
				return fmt.Errorf("replica: rebuild the chain state from its snapshot at height %d: block %d: %w "+
					"(pruned, or a consensus-only store that stopped between storing a decided block and its state): %w", from, h, errNotStored, err)
			}
			if err != nil {
				return fmt.Errorf("replica: rebuild the chain state: block %d: %w", h, err)
			}
			blocks = append(blocks, b)
		}
		if err := led.Decide(blocks); err != nil {
			return fmt.Errorf("replica: rebuild the chain state: %w", err)
		}
	}
	return nil
}

// DefaultBuilderKey is the builder key of a replica given none: derived
// from its staking key (chain.BuilderKeyDomain), so a dev network's genesis
// can prefund its builders' fee accounts.
func DefaultBuilderKey(k keys.StakingKey) (*ecdsa.PrivateKey, error) {
	seed, err := k.DeriveSeed(chain.BuilderKeyDomain)
	if err != nil {
		return nil, fmt.Errorf("replica: builder key: %w", err)
	}
	key, err := chain.DeriveBuilderKey(seed)
	if err != nil {
		return nil, fmt.Errorf("replica: builder key: %w", err)
	}
	return key, nil
}

// openLedger builds the replica's chain state: the genesis state for a new
// store; for a restarted one, the state after the last decided block,
// replayed from the stored blocks (docs/state.md, "Persisted snapshots and restarts").
func openLedger(ctx context.Context, cfg Config, mp *chain.Mempool, restore *consensus.State, last types.Block, log *slog.Logger) (led *chain.Ledger, caughtUp *types.Block, err error) {
	if cfg.L1 == nil && cfg.Setup.Genesis.NeedsL1() {
		return nil, nil, ErrNoL1
	}
	key := cfg.BuilderKey
	if key == nil && !cfg.Key.IsZero() {
		if key, err = DefaultBuilderKey(cfg.Key); err != nil {
			return nil, nil, err
		}
	}
	anchor, st := &cfg.Setup.GenesisBlock, cfg.Setup.GenesisState
	if restore != nil {
		sb, sst, err := loadSnapshot(ctx, cfg.Store)
		if err != nil {
			return nil, nil, err
		}
		if sb != nil {
			anchor, st = sb, sst
		}
	}
	led, err = chain.NewLedger(chain.LedgerConfig{
		Rules: cfg.Setup.Rules, Anchor: anchor.Leaf, State: st,
		Mempool: mp, L1: cfg.L1, BuilderKey: key, Logger: log,
	})
	if err != nil {
		return nil, nil, err
	}
	if restore == nil {
		return led, nil, nil
	}
	if anchor.Height() < last.Height() {
		log.Info("rebuilding the chain state", "from_height", anchor.Height(), "to_height", last.Height())
	}
	if rerr := replay(ctx, cfg, led, anchor.Height(), last.Height()); rerr != nil {
		if cfg.Catchup == nil || !errors.Is(rerr, errNotStored) {
			return nil, nil, rerr
		}
		log.Warn("the store cannot rebuild the chain state; fetching it from a peer", "err", rerr)
		b, st, cerr := catchupState(ctx, cfg.Setup, cfg.Catchup, last)
		if cerr != nil {
			return nil, nil, fmt.Errorf("%w; and then: %w", rerr, cerr)
		}
		if led, err = chain.NewLedger(chain.LedgerConfig{
			Rules: cfg.Setup.Rules, Anchor: b.Leaf, State: st,
			Mempool: mp, L1: cfg.L1, BuilderKey: key, Logger: log,
		}); err != nil {
			return nil, nil, err
		}
		log.Info("chain state fetched from a peer and checked", "height", b.Height(), "last_decided_height", last.Height())
		caughtUp = b
	}
	for _, p := range restore.Proposals {
		led.Observe(&p.Leaf)
	}
	if ds := led.DecidedState(); ds.Header.Height < last.Height() {
		log.Info("chain state waits for the L1", "state_height", ds.Header.Height, "decided_height", last.Height())
	}
	return led, caughtUp, nil
}
