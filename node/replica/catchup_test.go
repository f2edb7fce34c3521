package replica_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"

	"github.com/gospresso/gospresso/chain/state"
	"github.com/gospresso/gospresso/node/replica"
	"github.com/gospresso/gospresso/nodetest"
	"github.com/gospresso/gospresso/types"
)

// TestCatchupStateChecks feeds the state-catchup check a real peer's
// answer, then that answer tampered with in each way a hostile peer could:
// only the untouched one is accepted.
func TestCatchupStateChecks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := nodetest.New(t)
		for i := range 3 {
			net.WaitForTransaction(net.Submit(i, types.Transaction{Namespace: 1, Payload: fmt.Appendf(nil, "tx %d", i)}))
		}
		ctx := context.Background()
		b, data, err := net.Node(0).ChainState(ctx)
		if err != nil {
			t.Fatal(err)
		}
		setup, err := replica.NewSetup(net.Genesis)
		if err != nil {
			t.Fatal(err)
		}
		below, err := net.Store(0).BlockByHeight(ctx, b.Height()-1)
		if err != nil {
			t.Fatal(err)
		}
		source := func(b types.Block, data []byte) replica.StateSource {
			return func(context.Context) (types.Block, []byte, error) { return b, data, nil }
		}
		if got, st, err := replica.CatchupState(ctx, setup, source(b, data), below); err != nil || got.Height() != b.Height() || st == nil {
			t.Fatalf("the honest answer: block %v, %v", got, err)
		}

		otherState := state.Genesis(map[types.Address]types.U256{{1: 1}: types.NewU256(1)}).Encode()
		badSig := b
		badSig.QC.Signature = append([]byte(nil), b.QC.Signature...)
		badSig.QC.Signature[len(badSig.QC.Signature)-1] ^= 1
		otherLeaf := b
		otherLeaf.Leaf.Header.Timestamp++
		above, err := net.Store(0).BlockByHeight(ctx, b.Height())
		if err != nil {
			t.Fatal(err)
		}
		lastAhead := above
		lastAhead.Leaf.Header.Height = b.Height() + 1
		conflicting := above
		conflicting.Leaf.View++
		for name, tc := range map[string]struct {
			b    types.Block
			data []byte
			last types.Block
		}{
			"state of other roots":        {b, otherState, below},
			"garbage state":               {b, []byte("not a state"), below},
			"forged certificate":          {badSig, data, below},
			"certificate of another leaf": {otherLeaf, data, below},
			"below the node's chain":      {b, data, lastAhead},
			"conflicting block":           {b, data, conflicting},
		} {
			if _, _, err := replica.CatchupState(ctx, setup, source(tc.b, tc.data), tc.last); !errors.Is(err, replica.ErrCatchup) {
				t.Errorf("%s: %v, want ErrCatchup", name, err)
			}
		}
	})
}
