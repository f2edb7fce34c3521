package replica

import (
	"errors"
	"fmt"

	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/chain/state"
	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/genesis"
	"github.com/gospresso/gospresso/types"
)

// Sentinel errors of NewSetup.
var (
	// ErrNoStakeTable is returned for a genesis that lists no stake table.
	ErrNoStakeTable = errors.New("replica: genesis has no stake table ([[public_keys]])")
	// ErrL1GenesisUnresolved is returned for a genesis whose [l1_finalized]
	// names its block by number or timestamp, when no resolved block was
	// given (WithL1Genesis).
	ErrL1GenesisUnresolved = errors.New("replica: the genesis [l1_finalized] block must be resolved from the L1 first")
)

// SetupOption configures NewSetup.
type SetupOption func(*setupConfig)

type setupConfig struct {
	l1Genesis *types.L1BlockInfo
}

// WithL1Genesis gives the L1 block the genesis [l1_finalized] table names,
// as the L1 client resolved it (l1.Resolve). It is required when the table
// is in the number or timestamp form; in the full form the table is the
// block, and a block given here must equal it.
func WithL1Genesis(b types.L1BlockInfo) SetupOption {
	return func(c *setupConfig) { c.l1Genesis = &b }
}

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
	// GenesisState is the chain state after the genesis header: the
	// genesis [accounts] prefunded, an empty block tree.
	GenesisState *state.State
}

// NewSetup validates gen and derives the network's shared setup from it.
// The genesis header carries the roots of the genesis state and, when the
// genesis names one, the L1 block of [l1_finalized] (see WithL1Genesis).
func NewSetup(gen *genesis.Genesis, opts ...SetupOption) (*Setup, error) {
	if gen == nil {
		return nil, errors.New("replica: nil genesis")
	}
	var cfg setupConfig
	for _, o := range opts {
		o(&cfg)
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
	l1Fin, err := genesisL1(gen.L1Finalized, cfg.l1Genesis)
	if err != nil {
		return nil, err
	}
	stakes := make([]uint64, len(gen.StakeTable))
	for i, e := range gen.StakeTable {
		stakes[i] = e.Stake
	}
	vidParams, err := chain.VIDParams(stakes)
	if err != nil {
		return nil, fmt.Errorf("replica: %w", err)
	}
	rules := chain.Rules{Version: gen.BaseVersion, ChainConfig: gen.ChainConfig, VID: vidParams}
	st := state.Genesis(gen.Accounts)
	var empty types.Payload
	emptyCommit, err := rules.PayloadCommitment(&empty)
	if err != nil {
		return nil, fmt.Errorf("replica: genesis payload: %w", err)
	}
	h := types.Header{
		Version:              gen.BaseVersion,
		ChainConfig:          gen.ChainConfig,
		Timestamp:            gen.Timestamp,
		L1Finalized:          l1Fin,
		PayloadCommitment:    emptyCommit,
		PayloadCommitmentTag: types.TagAvidM,
		BuilderCommitment:    chain.BuilderCommitment(&empty),
	}
	if l1Fin != nil {
		h.L1Head = l1Fin.Number
	}
	h.BlockMerkleTreeRoot, h.FeeMerkleTreeRoot = st.Roots()
	leaf := types.GenesisLeaf(h)
	commitment := gen.Commitment()
	return &Setup{
		Genesis:      gen,
		Commitment:   commitment,
		Table:        table,
		Rules:        rules,
		GenesisBlock: types.Block{Leaf: leaf, Payload: empty, QC: types.GenesisQC(&leaf)},
		Verifier:     consensus.NewVerifier(table, commitment, &leaf),
		GenesisState: st,
	}, nil
}

// genesisL1 returns the genesis header's l1_finalized: nil without an
// [l1_finalized] table, the table itself in the full form, else the block
// resolved from the L1.
func genesisL1(want *genesis.L1Finalized, resolved *types.L1BlockInfo) (*types.L1BlockInfo, error) {
	if want == nil {
		if resolved != nil {
			return nil, errors.New("replica: an L1 genesis block was given, and the genesis has no [l1_finalized]")
		}
		return nil, nil
	}
	if want.Form() == genesis.FormFull {
		b := types.L1BlockInfo{Number: *want.Number, Timestamp: *want.Timestamp, Hash: *want.Hash}
		if resolved != nil && *resolved != b {
			return nil, fmt.Errorf("replica: the L1 genesis block given (number %d, hash %s) is not the [l1_finalized] block (number %d, hash %s)",
				resolved.Number, resolved.Hash, b.Number, b.Hash)
		}
		return &b, nil
	}
	if resolved == nil {
		return nil, fmt.Errorf("%w: [l1_finalized] is in the %s form", ErrL1GenesisUnresolved, want.Form())
	}
	if want.Form() == genesis.FormNumber && resolved.Number != *want.Number {
		return nil, fmt.Errorf("replica: [l1_finalized] names block %d, the block given is %d", *want.Number, resolved.Number)
	}
	b := *resolved
	return &b, nil
}
