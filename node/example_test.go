package node_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gospresso/gospresso/genesis"
	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/network/memnet"
	"github.com/gospresso/gospresso/node"
	"github.com/gospresso/gospresso/storage/mem"
	"github.com/gospresso/gospresso/types"
)

// Example embeds a one-node network in a program: it submits a transaction
// through the Go API and waits for the block that sequences it.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	k, _ := keys.DeriveKeys([32]byte{31: 7}, 0)
	gen := &genesis.Genesis{
		BaseVersion: types.Version{Major: 0, Minor: 2}, UpgradeVersion: types.Version{Major: 0, Minor: 2},
		StakeTableCapacity: 1,
		ChainConfig:        types.ChainConfig{ChainID: types.NewU256(1234), MaxBlockSize: 1 << 20},
		Timestamp:          uint64(time.Now().Unix()),
		StakeTable: []genesis.StakeTableEntry{{
			StakingKey: k.Staking.PubKey(), StateKey: k.State.PubKey(), DA: true, Stake: 1,
			ProofOfPossession: k.Staking.ProvePossession(),
		}},
	}
	transport, _ := memnet.NewHub().Join(node.PeerID(k.Staking.PubKey()))
	n, err := node.New(gen, k, node.WithStorage(mem.New()), node.WithNetwork(transport))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer n.Stop(context.Background())
	if err := n.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}

	hash, err := n.SubmitTransaction(ctx, types.Transaction{Namespace: 42, Payload: []byte("hello, rollup")})
	if err != nil {
		fmt.Println(err)
		return
	}
	for block, err := range n.Decided(ctx, 1) {
		if err != nil {
			fmt.Println(err)
			return
		}
		txs, _ := block.Payload.Namespace(42)
		for _, tx := range txs {
			if tx.Commit() == hash {
				fmt.Printf("sequenced %q\n", tx.Payload)
				return
			}
		}
	}
	// Output: sequenced "hello, rollup"
}
