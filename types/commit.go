package types

import (
	"encoding/binary"
	"hash"

	"golang.org/x/crypto/sha3"
)

// CommitmentBuilder computes the reference node's commitments (docs/data.md,
// "Commitments"): a
// running Keccak-256 hash fed field by field. Each method appends to the hash
// and returns the builder, so calls can be chained or written as statements:
//
//	b := NewCommitmentBuilder("Transaction")
//	b.U64Field("namespace", 42).VarSizeBytes(payload)
//	digest := b.Finalize()
//
// The byte layout must not change: the Espresso Go client recomputes these
// commitments and must get the same values.
type CommitmentBuilder struct {
	h       hash.Hash
	scratch [32]byte // encodes numbers without allocating
}

// NewCommitmentBuilder starts a commitment with the type tag, hashed as a
// constant string (the reference's new(tag)).
func NewCommitmentBuilder(tag string) *CommitmentBuilder {
	b := &CommitmentBuilder{h: sha3.NewLegacyKeccak256()}
	return b.ConstantString(tag)
}

// ConstantString hashes the bytes of s followed by the two bytes C0 7F, a
// terminator that is invalid UTF-8 so no string can run into the next field.
func (b *CommitmentBuilder) ConstantString(s string) *CommitmentBuilder {
	b.h.Write([]byte(s))
	b.scratch[0], b.scratch[1] = 0xC0, 0x7F
	b.h.Write(b.scratch[:2])
	return b
}

// Raw hashes bytes exactly as given, with no name or length. It is what the
// reference does after a bare constant string (the header's payload and
// builder commitments) and after the presence flag of an optional address.
func (b *CommitmentBuilder) Raw(p []byte) *CommitmentBuilder {
	b.h.Write(p)
	return b
}

// U64 hashes n as 8 little-endian bytes, with no name.
func (b *CommitmentBuilder) U64(n uint64) *CommitmentBuilder {
	binary.LittleEndian.PutUint64(b.scratch[:8], n)
	b.h.Write(b.scratch[:8])
	return b
}

// U64Field hashes the constant string name, then n as 8 little-endian bytes.
func (b *CommitmentBuilder) U64Field(name string, n uint64) *CommitmentBuilder {
	return b.ConstantString(name).U64(n)
}

// U256Field hashes the constant string name, then n as 32 little-endian bytes.
func (b *CommitmentBuilder) U256Field(name string, n U256) *CommitmentBuilder {
	b.ConstantString(name)
	b.scratch = n.littleEndian32()
	b.h.Write(b.scratch[:])
	return b
}

// FixedSizeField hashes the constant string name, then p as is (no length).
// Use it only for values whose size is fixed by their type.
func (b *CommitmentBuilder) FixedSizeField(name string, p []byte) *CommitmentBuilder {
	return b.ConstantString(name).Raw(p)
}

// Field hashes the constant string name, then a 32-byte commitment.
func (b *CommitmentBuilder) Field(name string, c [32]byte) *CommitmentBuilder {
	return b.FixedSizeField(name, c[:])
}

// VarSizeBytes hashes len(p) as 8 little-endian bytes, then p.
func (b *CommitmentBuilder) VarSizeBytes(p []byte) *CommitmentBuilder {
	return b.U64(uint64(len(p))).Raw(p)
}

// VarSizeField hashes the constant string name, then VarSizeBytes(p).
func (b *CommitmentBuilder) VarSizeField(name string, p []byte) *CommitmentBuilder {
	return b.ConstantString(name).VarSizeBytes(p)
}

// OptionalField hashes an optional commitment: U64Field(name, 0) when c is
// nil, else Field(name, *c).
func (b *CommitmentBuilder) OptionalField(name string, c *[32]byte) *CommitmentBuilder {
	if c == nil {
		return b.U64Field(name, 0)
	}
	return b.Field(name, *c)
}

// Finalize returns the 32-byte Keccak-256 digest of everything hashed so far.
// It does not change the builder's state.
func (b *CommitmentBuilder) Finalize() [32]byte {
	var out [32]byte
	b.h.Sum(out[:0])
	return out
}
