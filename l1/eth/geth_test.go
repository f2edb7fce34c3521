package eth_test

import (
	"context"
	"testing"
	"time"

	"github.com/gospresso/gospresso/l1"
	"github.com/gospresso/gospresso/l1/eth"
	"github.com/gospresso/gospresso/l1/l1test"
	"github.com/gospresso/gospresso/types"
)

// TestGeth runs the client against a real geth --dev (l1test.StartGeth;
// skipped without a geth binary, see GOSPRESSO_TEST_GETH): chain ID, a head
// that advances, a finalized block, and the deposits of a fee contract.
func TestGeth(t *testing.T) {
	g := l1test.StartGeth(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	c, err := eth.Dial(ctx, []string{g.URL()}, eth.WithRetryDelay(50*time.Millisecond), eth.WithRequestTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)

	id, err := c.ChainID(ctx)
	if err != nil || id != types.NewU256(l1test.ChainID) {
		t.Fatalf("ChainID = %v, %v; want %d", id, err, l1test.ChainID)
	}

	// geth --dev.period 1 mines a block a second, transactions or not.
	head, err := c.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the head to advance", func() (bool, error) {
		h, err := c.Head(ctx)
		return h > head, err
	})

	// geth --dev finalizes the genesis from the start, then every 32nd block
	// (l1test.Geth, "Finality"); poll anyway, as a real L1 may answer null.
	var fin *types.L1BlockInfo
	waitFor(t, ctx, "a finalized block", func() (bool, error) {
		var err error
		fin, err = c.Finalized(ctx)
		return fin != nil, err
	})
	head, err = c.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fin.Number > head || fin.Number%l1test.EpochLength != 0 {
		t.Errorf("finalized block %d with head %d; want a multiple of %d at most the head", fin.Number, head, l1test.EpochLength)
	}
	if b, err := c.Block(ctx, fin.Number); err != nil || b != *fin {
		t.Errorf("Block(%d) = %+v, %v; want the finalized block %+v", fin.Number, b, err, *fin)
	}

	from, err := c.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	contract, err := g.DeployFeeContract(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if code, err := c.Code(ctx, contract); err != nil || len(code) == 0 {
		t.Fatalf("Code(%s) = %d bytes, %v; want the fee contract's code", contract, len(code), err)
	}
	users := []types.Address{{0xaa, 1}, {0xbb, 2}}
	amounts := []types.U256{types.NewU256(1_000_000_007), types.NewU256(3e18)}
	var want []l1.Deposit
	for i, u := range users {
		d, err := g.Deposit(ctx, u, amounts[i])
		if err != nil {
			t.Fatal(err)
		}
		if d.Account != u || d.Amount != amounts[i] || d.Block <= from {
			t.Fatalf("Deposit = %+v; want %s for %s after block %d", d, amounts[i], u, from)
		}
		want = append(want, d)
	}
	to, err := c.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Deposits(ctx, contract, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("Deposits(%s, %d, %d) = %+v; want %+v", contract, from, to, got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("deposit %d = %+v; want %+v", i, got[i], want[i])
		}
	}
	// The ranges around each deposit's block hold that deposit alone.
	for _, d := range want {
		if one, err := c.Deposits(ctx, contract, d.Block, d.Block); err != nil || len(one) != 1 || one[0] != d {
			t.Errorf("Deposits(block %d) = %+v, %v; want [%+v]", d.Block, one, err, d)
		}
	}
	if none, err := c.Deposits(ctx, contract, from, want[0].Block-1); err != nil || len(none) != 0 {
		t.Errorf("Deposits before the first deposit = %+v, %v; want none", none, err)
	}
}

// waitFor polls cond every 100ms until it holds, failing the test on an
// error or when ctx ends.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() (bool, error)) {
	t.Helper()
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
