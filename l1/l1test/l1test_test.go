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

// The log search answers while blocks come fast. go-ethereum's log index
// falls behind a block every millisecond, and a search waits for it
// (go-ethereum issue 32552 reports searches that never return): with the
// index, these searches took 1 to 5 s each past block 6,000, and in one
// run of three one took over 10 s at block 7,606; without it, the embedded
// L1's way, none took a second. A liveness check with a generous deadline,
// not a timing: the figures are in the commit that made this test.
func TestDepositsWhileBlocksComeFast(t *testing.T) {
	if raceBuild {
		t.Skip("the race detector slows go-ethereum's log search by an order of magnitude; this test runs without it")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
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
			return
		}
		// Ask for the logs of the whole chain so far, as a node catching
		// up does, while blocks keep coming.
		qctx, qcancel := context.WithTimeout(ctx, 20*time.Second)
		got, err := chain.Deposits(qctx, chain.FeeContract(), 0, head)
		qcancel()
		if err != nil {
			t.Fatalf("deposits of blocks 0 to %d: %v", head, err)
		}
		if len(got) != 1 || got[0] != dep {
			t.Fatalf("deposits of blocks 0 to %d: %+v, want [%+v]", head, got, dep)
		}
	}
	t.Fatalf("the chain did not reach block 12000: %v", ctx.Err())
}
