package nodetest_test

import (
	"fmt"
	"testing"
	"testing/synctest"

	"github.com/gospresso/gospresso/nodetest"
	"github.com/gospresso/gospresso/types"
)

func TestProgress(t *testing.T) {
	for _, n := range []int{1, 4, 10} {
		t.Run(fmt.Sprintf("%d nodes", n), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				net := nodetest.New(t, nodetest.Nodes(n))
				net.WaitForHeight(10)
				net.CheckSameChain()
			})
		})
	}
}

func TestTransactionsDecidedOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := nodetest.New(t)
		var hashes []types.Commitment
		for i := range 20 {
			tx := types.Transaction{Namespace: uint64(i % 3), Payload: []byte(fmt.Sprintf("tx %d", i))}
			hashes = append(hashes, net.Submit(i%net.Len(), tx))
			// Submitting the same bytes again, anywhere, changes nothing.
			net.Submit((i+1)%net.Len(), tx)
		}
		for _, h := range hashes {
			net.WaitForTransaction(h)
		}
		net.WaitForHeight(net.Node(0).BlockHeight() + 3)
		net.CheckSameChain()
		seen := make(map[types.Commitment]int)
		for _, b := range net.Chains(0)[0] {
			txs, err := b.Payload.Transactions()
			if err != nil {
				t.Fatal(err)
			}
			for _, tx := range txs {
				seen[tx.Commit()]++
			}
		}
		for i, h := range hashes {
			if seen[h] != 1 {
				t.Errorf("transaction %d decided %d times, want once", i, seen[h])
			}
		}
	})
}
