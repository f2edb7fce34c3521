package types

// L1BlockInfo identifies an L1 block: number, timestamp and hash (docs/data.md,
// "Headers").
type L1BlockInfo struct {
	Number    uint64
	Timestamp U256
	Hash      Hash
}

// Commit returns the reference L1 block commitment (docs/data.md,
// "Commitments"; tag L1BLOCK).
func (b *L1BlockInfo) Commit() Commitment {
	c := NewCommitmentBuilder("L1BLOCK")
	c.U64Field("number", b.Number)
	c.U256Field("timestamp", b.Timestamp)
	c.FixedSizeField("hash", b.Hash[:])
	return Commitment(c.Finalize())
}

// FeeInfo names the account that pays for a block and the amount (docs/data.md,
// "Headers").
type FeeInfo struct {
	Account Address
	Amount  U256
}

// Commit returns the reference fee-info commitment (docs/data.md,
// "Commitments"; tag FEE_INFO).
func (f *FeeInfo) Commit() Commitment {
	c := NewCommitmentBuilder("FEE_INFO")
	c.FixedSizeField("account", f.Account[:])
	c.U256Field("amount", f.Amount)
	return Commitment(c.Finalize())
}

// BuilderSignature is a builder's secp256k1 ECDSA signature over the block
// it built (docs/data.md, "Headers"): R and S, and the recovery value V
// (27 or 28 in reference headers). It is not part of the header commitment.
type BuilderSignature struct {
	R, S U256
	V    uint64
}

// Header is a block header in the shape of protocol versions 0.1 and 0.2
// (docs/data.md, "Headers"). Fields that later work fills (Merkle roots, fee info, builder
// commitment) are zero until the chain state computes them.
type Header struct {
	// Version is the protocol version the header was built under; 0.1
	// headers are committed flat, later ones wrapped (docs/data.md,
	// "Commitments").
	Version Version
	// ChainConfig is the chain config in force, when the header carries it
	// in full (JSON {"Left": …}). It is unused, and left zero by decoding,
	// when ChainConfigCommitment is set.
	ChainConfig ChainConfig
	// ChainConfigCommitment, when non-nil, is the chain config given by its
	// commitment alone (JSON {"Right": "CHAIN_CONFIG~…"}), as headers may
	// carry it after an upgrade; nil when the header carries ChainConfig in
	// full. ChainConfigCommit gives the commitment either way.
	ChainConfigCommitment *Commitment
	Height                uint64
	// Timestamp is the block time in unix seconds.
	Timestamp uint64
	// L1Head is the latest L1 block number the proposer had seen; 0 on a
	// network without an L1.
	L1Head uint64
	// L1Finalized is the latest finalized L1 block; nil on a network without
	// an L1.
	L1Finalized *L1BlockInfo
	// PayloadCommitment commits to the block payload. Only its 32 bytes
	// enter the header commitment.
	PayloadCommitment Commitment
	// PayloadCommitmentTag is the TaggedBase64 tag the payload commitment is
	// written with: "" for TagPayload ("HASH", the tag of versions 0.1 and
	// 0.2), or another tag such as TagAvidM kept as the header came. See
	// PayloadTag.
	PayloadCommitmentTag string
	// BuilderCommitment commits to the payload as the builder built it.
	BuilderCommitment   Commitment
	NsTable             NsTable
	BlockMerkleTreeRoot []byte
	FeeMerkleTreeRoot   []byte
	FeeInfo             FeeInfo
	// BuilderSignature is the builder's signature, nil when the header has
	// none (gospresso's own builder does not sign). It is not committed.
	BuilderSignature *BuilderSignature
}

// ChainConfigCommit returns the commitment of the header's chain config:
// ChainConfigCommitment when set, else ChainConfig.Commit().
func (h *Header) ChainConfigCommit() Commitment {
	if h.ChainConfigCommitment != nil {
		return *h.ChainConfigCommitment
	}
	return h.ChainConfig.Commit()
}

// PayloadTag returns the TaggedBase64 tag of the payload commitment:
// PayloadCommitmentTag, or TagPayload when that is empty.
func (h *Header) PayloadTag() string {
	if h.PayloadCommitmentTag == "" {
		return TagPayload
	}
	return h.PayloadCommitmentTag
}

// Commit returns the reference header commitment (docs/data.md,
// "Commitments"): the block hash
// (tag BLOCK) that query objects report.
func (h *Header) Commit() Commitment {
	fields := h.commitFields()
	if h.Version.Major == 0 && h.Version.Minor <= 1 {
		return fields
	}
	c := NewCommitmentBuilder("BLOCK")
	c.U64Field("version_major", uint64(h.Version.Major))
	c.U64Field("version_minor", uint64(h.Version.Minor))
	c.Field("fields", fields)
	return Commitment(c.Finalize())
}

func (h *Header) commitFields() Commitment {
	c := NewCommitmentBuilder("BLOCK")
	c.Field("chain_config", h.ChainConfigCommit())
	c.U64Field("height", h.Height)
	c.U64Field("timestamp", h.Timestamp)
	c.U64Field("l1_head", h.L1Head)
	if h.L1Finalized != nil {
		c.OptionalField("l1_finalized", (*[32]byte)(ptr(h.L1Finalized.Commit())))
	} else {
		c.OptionalField("l1_finalized", nil)
	}
	c.ConstantString("payload_commitment")
	c.Raw(h.PayloadCommitment[:])
	c.ConstantString("builder_commitment")
	c.Raw(h.BuilderCommitment[:])
	c.Field("ns_table", h.NsTable.Commit())
	c.VarSizeField("block_merkle_tree_root", h.BlockMerkleTreeRoot)
	c.VarSizeField("fee_merkle_tree_root", h.FeeMerkleTreeRoot)
	c.Field("fee_info", h.FeeInfo.Commit())
	return Commitment(c.Finalize())
}

func ptr[T any](v T) *T { return &v }
