package node_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/network/memnet"
	"github.com/gospresso/gospresso/node"
	"github.com/gospresso/gospresso/nodetest"
	"github.com/gospresso/gospresso/storage/fs"
	"github.com/gospresso/gospresso/types"
)

// TestConsensusOnlyRestartKeepsChainState restarts a node whose store keeps
// only the last decided block (fs, consensus-only): it resumes from its
// chain-state snapshot, with the balances it had, instead of failing to
// replay blocks it no longer has.
func TestConsensusOnlyRestartKeepsChainState(t *testing.T) {
	g, ks := testGenesis(t, 1)
	key, err := node.DefaultBuilderKey(ks[0].Staking)
	if err != nil {
		t.Fatal(err)
	}
	builder := chain.BuilderAddress(key)
	recipient := types.Address{19: 0xfe}
	g.ChainConfig.BaseFee = types.NewU256(2)
	g.ChainConfig.FeeRecipient = recipient
	g.Accounts = map[types.Address]types.U256{builder: types.NewU256(1_000_000)}
	dir := t.TempDir()

	run := func(round int, txs int) (types.Header, types.U256) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		st, err := fs.Open(ctx, dir, fs.WithConsensusOnly())
		if err != nil {
			t.Fatal(err)
		}
		tr, err := memnet.NewHub().Join(node.PeerID(ks[0].Staking.PubKey()))
		if err != nil {
			t.Fatal(err)
		}
		n, err := node.New(g, ks[0], node.WithStorage(st), node.WithNetwork(tr), node.WithConsensusConfig(nodetest.FastConsensus))
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := n.Stop(ctx); err != nil {
				t.Error(err)
			}
		}()
		if err := n.Start(ctx); err != nil {
			t.Fatalf("round %d: start: %v", round, err)
		}
		for i := range txs {
			if _, err := n.SubmitTransaction(ctx, types.Transaction{Namespace: 1, Payload: fmt.Appendf(nil, "round %d tx %d", round, i)}); err != nil {
				t.Fatal(err)
			}
		}
		target := n.BlockHeight() + 5
		for n.BlockHeight() < target || n.PendingTransactions() > 0 {
			if ctx.Err() != nil {
				t.Fatalf("round %d: at height %d with %d pending, want height %d and none pending", round, n.BlockHeight(), n.PendingTransactions(), target)
			}
			time.Sleep(5 * time.Millisecond)
		}
		// The state trails the decided block by nothing here (no L1).
		for {
			h, s, ok := n.DecidedState()
			if ok && h.Height+1 >= n.BlockHeight() {
				return h, s.Balance(recipient)
			}
			if ctx.Err() != nil {
				t.Fatal("the decided state does not follow the decided blocks")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	h1, paid1 := run(1, 3)
	if paid1.IsZero() {
		t.Fatal("no fees paid in round 1")
	}
	h2, paid2 := run(2, 3)
	if h2.Height <= h1.Height || paid2.Cmp(paid1) <= 0 {
		t.Fatalf("after the restart: height %d (before %d), recipient %s (before %s); want both to grow", h2.Height, h1.Height, paid2, paid1)
	}
}
