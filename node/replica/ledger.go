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
func openLedger(ctx context.Context, cfg Config, mp *chain.Mempool, restore *consensus.State, last types.Block, log *slog.Logger) (*chain.Ledger, error) {
	if cfg.L1 == nil && cfg.Setup.Genesis.NeedsL1() {
		return nil, ErrNoL1
	}
	key := cfg.BuilderKey
	if key == nil && !cfg.Key.IsZero() {
		var err error
		if key, err = DefaultBuilderKey(cfg.Key); err != nil {
			return nil, err
		}
	}
	anchor, st := &cfg.Setup.GenesisBlock, cfg.Setup.GenesisState
	if restore != nil {
		sb, sst, err := loadSnapshot(ctx, cfg.Store, last)
		if err != nil {
			return nil, err
		}
		if sb != nil {
			anchor, st = sb, sst
		}
	}
	led, err := chain.NewLedger(chain.LedgerConfig{
		Rules: cfg.Setup.Rules, Anchor: anchor.Leaf, State: st,
		Mempool: mp, L1: cfg.L1, BuilderKey: key, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	if restore == nil {
		return led, nil
	}
	if anchor.Height() < last.Height() {
		log.Info("rebuilding the chain state", "from_height", anchor.Height(), "to_height", last.Height())
	}
	for from := anchor.Height() + 1; from <= last.Height(); from += replayBatch {
		until := min(from+replayBatch, last.Height()+1)
		blocks := make([]types.Block, 0, until-from)
		for h := from; h < until; h++ {
			b, err := cfg.Store.BlockByHeight(ctx, h)
			if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrPruned) {
				return nil, fmt.Errorf("replica: rebuild the chain state from its snapshot at height %d: block %d is not in the store "+
					"(pruned, or a consensus-only store that stopped between storing a decided block and its state): %w", anchor.Height(), h, err)
			}
			if err != nil {
				return nil, fmt.Errorf("replica: rebuild the chain state: block %d: %w", h, err)
			}
			blocks = append(blocks, b)
		}
		if err := led.Decide(blocks); err != nil {
			return nil, fmt.Errorf("replica: rebuild the chain state: %w", err)
		}
	}
	for _, p := range restore.Proposals {
		led.Observe(&p.Leaf)
	}
	if ds := led.DecidedState(); ds.Header.Height < last.Height() {
		log.Info("chain state waits for the L1", "state_height", ds.Header.Height, "decided_height", last.Height())
	}
	return led, nil
}
