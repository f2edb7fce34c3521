package chain

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/types"
)

// MaxClockSkew is how far a fresh proposal's timestamp may be from the
// validator's clock (docs/data.md, "Header and leaf validation").
const MaxClockSkew = 12 * time.Second

// PayloadCommitment commits to a payload and its namespace table. It is the
// header's payload_commitment until VID dispersal replaces it with the
// Merkle root over erasure-coded shares.
func PayloadCommitment(p *types.Payload) types.Commitment {
	h := sha256.New()
	h.Write([]byte("gospresso/payload/v1"))
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(p.NsTable.Bytes))))
	h.Write(p.NsTable.Bytes)
	h.Write(p.Raw)
	return types.Commitment(h.Sum(nil))
}

// Rules are the chain parameters headers are built and checked against.
type Rules struct {
	Version     types.Version
	ChainConfig types.ChainConfig
}

// Builder is the built-in block builder: it fills blocks from a mempool in
// arrival order up to max_block_size. It implements consensus.BlockBuilder.
type Builder struct {
	rules   Rules
	mempool *Mempool
}

var _ consensus.BlockBuilder = (*Builder)(nil)

// NewBuilder returns a builder over mempool.
func NewBuilder(rules Rules, mempool *Mempool) *Builder {
	return &Builder{rules: rules, mempool: mempool}
}

// Pending implements consensus.BlockBuilder.
func (b *Builder) Pending() bool { return b.mempool.Pending() }

// BuildBlock implements consensus.BlockBuilder.
func (b *Builder) BuildBlock(req consensus.BuildRequest) (types.Header, types.Payload, error) {
	exclude := make(map[TxKey]struct{})
	for _, p := range req.Undecided {
		txs, err := p.Transactions()
		if err != nil {
			return types.Header{}, types.Payload{}, fmt.Errorf("chain: undecided ancestor payload: %w", err)
		}
		for i := range txs {
			exclude[KeyOf(&txs[i])] = struct{}{}
		}
	}
	limit := b.rules.ChainConfig.MaxBlockSize
	var size uint64
	namespaces := make(map[uint64]struct{})
	txs := b.mempool.Select(req.Now, exclude, func(tx types.Transaction) bool {
		add := 4 + uint64(len(tx.Payload))
		if _, ok := namespaces[tx.Namespace]; !ok {
			add += 4
		}
		if size+add > limit {
			return false
		}
		size += add
		namespaces[tx.Namespace] = struct{}{}
		return true
	})
	payload, err := types.EncodePayload(txs)
	if err != nil {
		return types.Header{}, types.Payload{}, fmt.Errorf("chain: build payload: %w", err)
	}
	ts := uint64(max(req.Now.Unix(), 0))
	parent := &req.Parent.Header
	if ts < parent.Timestamp {
		ts = parent.Timestamp
	}
	h := types.Header{
		Version:           b.rules.Version,
		ChainConfig:       b.rules.ChainConfig,
		Height:            parent.Height + 1,
		Timestamp:         ts,
		PayloadCommitment: PayloadCommitment(&payload),
		BuilderCommitment: PayloadCommitment(&payload),
		NsTable:           payload.NsTable,
	}
	return h, payload, nil
}

// Validator checks proposals against the rules of docs/data.md, "Header and
// leaf validation", that hold before
// chain state exists: height, timestamps, chain config, payload size,
// namespace table and payload commitment. It implements consensus.Validator.
type Validator struct {
	rules Rules
}

var _ consensus.Validator = (*Validator)(nil)

// NewValidator returns a validator for rules.
func NewValidator(rules Rules) *Validator { return &Validator{rules: rules} }

// ValidatePayload implements consensus.Validator.
func (v *Validator) ValidatePayload(h *types.Header, p *types.Payload) error {
	if string(h.NsTable.Bytes) != string(p.NsTable.Bytes) {
		return fmt.Errorf("%w: header namespace table differs from the payload's", ErrInvalidBlock)
	}
	if c := PayloadCommitment(p); c != h.PayloadCommitment {
		return fmt.Errorf("%w: payload commitment %s, header says %s", ErrInvalidBlock, c.Short(), h.PayloadCommitment.Short())
	}
	return nil
}

// ValidateProposal implements consensus.Validator.
func (v *Validator) ValidateProposal(parent, leaf *types.Leaf, p *types.Payload, now time.Time) error {
	h, ph := &leaf.Header, &parent.Header
	if h.Height != ph.Height+1 {
		return fmt.Errorf("%w: height %d, want parent height %d + 1", ErrInvalidBlock, h.Height, ph.Height)
	}
	if h.Timestamp < ph.Timestamp {
		return fmt.Errorf("%w: timestamp %d before parent's %d", ErrInvalidBlock, h.Timestamp, ph.Timestamp)
	}
	local := now.Unix()
	if d := int64(h.Timestamp) - local; d > int64(MaxClockSkew/time.Second) || d < -int64(MaxClockSkew/time.Second) {
		return fmt.Errorf("%w: timestamp %d is %ds from local clock %d (at most %v)", ErrInvalidBlock, h.Timestamp, d, local, MaxClockSkew)
	}
	if h.Version != v.rules.Version {
		return fmt.Errorf("%w: version %s, want %s", ErrInvalidBlock, h.Version, v.rules.Version)
	}
	if !h.ChainConfig.Equal(v.rules.ChainConfig) {
		return fmt.Errorf("%w: chain config differs from the expected one", ErrInvalidBlock)
	}
	if h.L1Head < ph.L1Head {
		return fmt.Errorf("%w: l1_head %d below parent's %d", ErrInvalidBlock, h.L1Head, ph.L1Head)
	}
	if p.Size() > v.rules.ChainConfig.MaxBlockSize {
		return fmt.Errorf("%w: payload of %d bytes exceeds max_block_size %d", ErrInvalidBlock, p.Size(), v.rules.ChainConfig.MaxBlockSize)
	}
	if _, err := p.Transactions(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidBlock, err)
	}
	return v.ValidatePayload(h, p)
}
