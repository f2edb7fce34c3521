package replica

import (
	"errors"
	"fmt"

	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/genesis"
	"github.com/gospresso/gospresso/types"
)

// ErrNoStakeTable is returned for a genesis that lists no stake table.
var ErrNoStakeTable = errors.New("replica: genesis has no stake table ([[public_keys]])")

// Setup is what every replica of one network shares, derived from its
// genesis by NewSetup. It is immutable and safe to share between replicas.
type Setup struct {
	// Genesis is the parsed genesis file.
	Genesis *genesis.Genesis
	// Commitment is the genesis commitment every signature binds.
	Commitment [32]byte
	// Table is the stake table, in leader-rotation order.
	Table *consensus.StakeTable
	// Rules are the chain rules headers are built and checked against.
	Rules chain.Rules
	// GenesisBlock is the block of height 0: the genesis leaf, its empty
	// payload and the genesis certificate.
	GenesisBlock types.Block
	// Verifier checks the network's quorum certificates.
	Verifier *consensus.Verifier
}

// NewSetup validates gen and derives the network's shared setup from it.
func NewSetup(gen *genesis.Genesis) (*Setup, error) {
	if gen == nil {
		return nil, errors.New("replica: nil genesis")
	}
	if err := gen.Validate(); err != nil {
		return nil, err
	}
	if len(gen.StakeTable) == 0 {
		return nil, ErrNoStakeTable
	}
	members := make([]consensus.Member, len(gen.StakeTable))
	for i, e := range gen.StakeTable {
		members[i] = consensus.Member{Key: e.StakingKey, Stake: e.Stake, DA: e.DA}
	}
	table, err := consensus.NewStakeTable(members)
	if err != nil {
		return nil, fmt.Errorf("replica: stake table: %w", err)
	}
	var empty types.Payload
	leaf := types.GenesisLeaf(types.Header{
		Version:           gen.BaseVersion,
		ChainConfig:       gen.ChainConfig,
		Timestamp:         gen.Timestamp,
		PayloadCommitment: chain.PayloadCommitment(&empty),
		BuilderCommitment: chain.PayloadCommitment(&empty),
	})
	commitment := gen.Commitment()
	return &Setup{
		Genesis:      gen,
		Commitment:   commitment,
		Table:        table,
		Rules:        chain.Rules{Version: gen.BaseVersion, ChainConfig: gen.ChainConfig},
		GenesisBlock: types.Block{Leaf: leaf, Payload: empty, QC: types.GenesisQC(&leaf)},
		Verifier:     consensus.NewVerifier(table, commitment, &leaf),
	}, nil
}
