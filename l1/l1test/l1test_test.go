package l1test_test

import (
	"context"
	"testing"
	"time"

	"github.com/gospresso/gospresso/l1"
	"github.com/gospresso/gospresso/l1/eth"
	"github.com/gospresso/gospresso/l1/l1test"
	"github.com/gospresso/gospresso/types"
)

// TestEmbeddedL1 starts the embedded L1, deposits through its fee
// contract, and reads the deposit back in process and over its JSON-RPC
// endpoint with l1/eth, as a node and an outside tool would.
func TestEmbeddedL1(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	chain, err := l1test.New()
	if err != nil {
		t.Fatal(err)
	}
	defer chain.Close()

	if id, err := chain.ChainID(ctx); err != nil || id != types.NewU256(l1test.ChainID) {
		t.Fatalf("chain id %s, %v; want %d", id, err, l1test.ChainID)
	}
	if code, err := chain.Code(ctx, chain.FeeContract()); err != nil || len(code) == 0 {
		t.Fatalf("no fee contract code at %s: %v", chain.FeeContract(), err)
	}
	user := types.Address{19: 7}
	dep, err := chain.Deposit(ctx, 2, user, types.NewU256(1_000))
	if err != nil {
		t.Fatal(err)
	}
	fin, err := chain.Finalize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fin.Number < dep.Block {
		t.Fatalf("finalized %d, below the deposit's block %d", fin.Number, dep.Block)
	}

	remote, err := eth.Dial(ctx, []string{chain.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer remote.Close()
	for name, c := range map[string]l1.Client{"in process": chain, "JSON-RPC": remote} {
		got, err := c.Deposits(ctx, chain.FeeContract(), 0, fin.Number)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got) != 1 || got[0] != dep {
			t.Fatalf("%s: deposits %+v, want [%+v]", name, got, dep)
		}
		b, err := c.Block(ctx, fin.Number)
		if err != nil || b != fin {
			t.Fatalf("%s: block %d = %+v, %v; want %+v", name, fin.Number, b, err, fin)
		}
	}
	if err := chain.Close(); err != nil {
		t.Fatal(err)
	}
}

// The log search answers while blocks come fast: go-ethereum's log index
// cannot keep up with a block every millisecond, and a search waiting for
// it stalled (go-ethereum issue 32552), so the embedded L1 searches without
// the index.
func TestDepositsWhileBlocksComeFast(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	chain, err := l1test.New(l1test.WithListenAddr(""), l1test.WithBlockInterval(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer chain.Close()
	user := types.Address{19: 8}
	dep, err := chain.Deposit(ctx, 1, user, types.NewU256(5))
	if err != nil {
		t.Fatal(err)
	}
	for ctx.Err() == nil {
		head, err := chain.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if head >= 12000 {
			break
		}
		// Ask for the logs of the whole chain so far, as a node catching
		// up does, while blocks keep coming.
		qctx, qcancel := context.WithTimeout(ctx, 10*time.Second)
		got, err := chain.Deposits(qctx, chain.FeeContract(), 0, head)
		qcancel()
		if err != nil {
			t.Fatalf("deposits of blocks 0 to %d: %v", head, err)
		}
		if len(got) != 1 || got[0] != dep {
			t.Fatalf("deposits of blocks 0 to %d: %+v, want [%+v]", head, got, dep)
		}
	}
}
