package nodetest

import (
	"fmt"

	"github.com/gospresso/gospresso/genesis"
	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/types"
)

// DevChainID is the chain ID of in-process networks.
const DevChainID = 999999999

// Keys derives n key sets from seed (keys.DeriveKeys, indexes 0..n-1).
func Keys(seed [32]byte, n int) ([]keys.Keys, error) {
	out := make([]keys.Keys, n)
	for i := range out {
		k, err := keys.DeriveKeys(seed, uint64(i))
		if err != nil {
			return nil, fmt.Errorf("nodetest: derive key %d: %w", i, err)
		}
		out[i] = k
	}
	return out, nil
}

// Genesis returns a genesis for a network of the given members, shaped like
// the demo genesis but with no L1 (no fee contract, no [l1_finalized]), so
// it runs without an L1 client (docs/protocol.md, "Networks without an L1"). Every member has stake 1 and is
// in the DA committee.
func Genesis(members []keys.Keys, timestamp uint64) (*genesis.Genesis, error) {
	g := &genesis.Genesis{
		BaseVersion:        types.Version{Major: 0, Minor: 2},
		UpgradeVersion:     types.Version{Major: 0, Minor: 2},
		StakeTableCapacity: uint64(max(len(members), 10)),
		ChainConfig: types.ChainConfig{
			ChainID:      types.NewU256(DevChainID),
			MaxBlockSize: 1_000_000,
			BaseFee:      types.NewU256(0),
		},
		Timestamp: timestamp,
	}
	for _, k := range members {
		g.StakeTable = append(g.StakeTable, genesis.StakeTableEntry{
			StakingKey: k.Staking.PubKey(), StateKey: k.State.PubKey(),
			DA: true, Stake: 1, ProofOfPossession: k.Staking.ProvePossession(),
		})
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("nodetest: genesis: %w", err)
	}
	return g, nil
}
