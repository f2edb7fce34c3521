package types

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrInvalidChainConfig marks JSON that is not a valid chain configuration.
var ErrInvalidChainConfig = errors.New("types: invalid chain config")

// ChainConfig holds the global parameters of an Espresso chain that every
// header commits to (docs/genesis.md, "Layout"; docs/data.md, "Chain config").
type ChainConfig struct {
	// ChainID identifies this Espresso chain.
	ChainID U256
	// MaxBlockSize is the largest payload, in bytes, a block may carry.
	MaxBlockSize uint64
	// BaseFee is the fee in wei per payload byte.
	BaseFee U256
	// FeeContract is the L1 fee (deposit) contract; nil disables deposits.
	// The zero address is a present value, distinct from nil.
	FeeContract *Address
	// FeeRecipient receives (burns) sequencing fees.
	FeeRecipient Address
	// BidRecipient receives builder bids; marketplace versions (0.99) only.
	BidRecipient *Address
	// StakeTableContract is the L1 stake table contract; epoch versions only.
	StakeTableContract *Address
}

// chainConfigJSON is the wire shape of docs/data.md, "Chain config", with
// the keys in alphabetical order as reference headers have them. Pointers
// tell absent fields from zero ones when decoding.
type chainConfigJSON struct {
	BaseFee            *U256    `json:"base_fee"`
	BidRecipient       *Address `json:"bid_recipient,omitempty"`
	ChainID            *U256    `json:"chain_id"`
	FeeContract        *Address `json:"fee_contract"`
	FeeRecipient       *Address `json:"fee_recipient"`
	MaxBlockSize       *U256    `json:"max_block_size"`
	StakeTableContract *Address `json:"stake_table_contract,omitempty"`
}

// MarshalJSON encodes c as in headers (docs/data.md, "Chain config"), keys
// in alphabetical order: base_fee, chain_id and max_block_size as decimal
// strings, addresses as lowercase "0x…", fee_contract null when absent, and
// bid_recipient and stake_table_contract only when set.
func (c ChainConfig) MarshalJSON() ([]byte, error) {
	maxBlockSize := NewU256(c.MaxBlockSize)
	return json.Marshal(chainConfigJSON{
		BaseFee:            &c.BaseFee,
		BidRecipient:       c.BidRecipient,
		ChainID:            &c.ChainID,
		FeeContract:        c.FeeContract,
		FeeRecipient:       &c.FeeRecipient,
		MaxBlockSize:       &maxBlockSize,
		StakeTableContract: c.StakeTableContract,
	})
}

// UnmarshalJSON decodes the shape MarshalJSON writes. chain_id, max_block_size,
// base_fee and fee_recipient are required; fee_contract, bid_recipient and
// stake_table_contract may be absent or null. Numbers may also be given as
// 0x hex strings or JSON integers. Unknown fields are rejected.
func (c *ChainConfig) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var raw chainConfigJSON
	if err := dec.Decode(&raw); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidChainConfig, err)
	}
	switch {
	case raw.ChainID == nil:
		return fmt.Errorf("%w: missing field \"chain_id\"", ErrInvalidChainConfig)
	case raw.MaxBlockSize == nil:
		return fmt.Errorf("%w: missing field \"max_block_size\"", ErrInvalidChainConfig)
	case raw.BaseFee == nil:
		return fmt.Errorf("%w: missing field \"base_fee\"", ErrInvalidChainConfig)
	case raw.FeeRecipient == nil:
		return fmt.Errorf("%w: missing field \"fee_recipient\"", ErrInvalidChainConfig)
	}
	size, ok := raw.MaxBlockSize.Uint64()
	if !ok {
		return fmt.Errorf("%w: max_block_size %s exceeds 2^64-1", ErrInvalidChainConfig, raw.MaxBlockSize)
	}
	*c = ChainConfig{
		ChainID:            *raw.ChainID,
		MaxBlockSize:       size,
		BaseFee:            *raw.BaseFee,
		FeeContract:        raw.FeeContract,
		FeeRecipient:       *raw.FeeRecipient,
		BidRecipient:       raw.BidRecipient,
		StakeTableContract: raw.StakeTableContract,
	}
	return nil
}

// Equal reports whether c and d hold the same values (optional addresses
// compared by value, not by pointer).
func (c ChainConfig) Equal(d ChainConfig) bool {
	return c.ChainID == d.ChainID && c.MaxBlockSize == d.MaxBlockSize && c.BaseFee == d.BaseFee &&
		c.FeeRecipient == d.FeeRecipient && equalAddr(c.FeeContract, d.FeeContract) &&
		equalAddr(c.BidRecipient, d.BidRecipient) && equalAddr(c.StakeTableContract, d.StakeTableContract)
}

func equalAddr(a, b *Address) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// Commit returns the reference chain-config commitment (docs/data.md,
// "Commitments"; tag CHAIN_CONFIG): new("CHAIN_CONFIG"), u256 chain_id, u64 max_block_size, u256
// base_fee, fee_recipient's 20 bytes; then, only when set, u64_field
// "fee_contract" = 1 and its 20 bytes (nothing when absent, the v0.1/v0.2
// rule); then, only when set, u64_field "stake_table_contract" = 1 and its 20
// bytes. BidRecipient is not committed.
func (c ChainConfig) Commit() [32]byte {
	b := NewCommitmentBuilder("CHAIN_CONFIG").
		U256Field("chain_id", c.ChainID).
		U64Field("max_block_size", c.MaxBlockSize).
		U256Field("base_fee", c.BaseFee).
		FixedSizeField("fee_recipient", c.FeeRecipient[:])
	if c.FeeContract != nil {
		b.U64Field("fee_contract", 1).Raw(c.FeeContract[:])
	}
	if c.StakeTableContract != nil {
		b.U64Field("stake_table_contract", 1).Raw(c.StakeTableContract[:])
	}
	return b.Finalize()
}
