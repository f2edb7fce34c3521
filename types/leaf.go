package types

import (
	"crypto/sha256"
	"encoding/binary"
	"math/bits"
)

// Bitmap is a set of stake-table indexes, one bit each, least significant bit
// of byte 0 first. A certificate's signer set is a Bitmap.
type Bitmap []byte

// NewBitmap returns an empty bitmap for n members.
func NewBitmap(n int) Bitmap { return make(Bitmap, (n+7)/8) }

// Set adds index i. It panics if i is out of range, which is a programming
// error: callers size the bitmap from the stake table.
func (b Bitmap) Set(i int) { b[i/8] |= 1 << (i % 8) }

// Has reports whether index i is in the set; out-of-range indexes are not.
func (b Bitmap) Has(i int) bool { return i >= 0 && i/8 < len(b) && b[i/8]&(1<<(i%8)) != 0 }

// Count returns the number of indexes in the set.
func (b Bitmap) Count() int {
	n := 0
	for _, x := range b {
		n += bits.OnesCount8(x)
	}
	return n
}

// Indexes returns the members of the set in increasing order.
func (b Bitmap) Indexes() []int {
	out := make([]int, 0, b.Count())
	for i := range len(b) * 8 {
		if b.Has(i) {
			out = append(out, i)
		}
	}
	return out
}

// FitsSize reports whether b is a well-formed bitmap for n members: the right
// length and no bits set past index n-1.
func (b Bitmap) FitsSize(n int) bool {
	if len(b) != (n+7)/8 {
		return false
	}
	if n%8 != 0 && len(b) > 0 && b[len(b)-1]>>(n%8) != 0 {
		return false
	}
	return true
}

// QuorumCertificate certifies a leaf: stake above the success threshold signed
// a quorum vote for it in View. Signature is the aggregate BLS signature of the
// signers (empty only for the genesis certificate).
type QuorumCertificate struct {
	View      ViewNumber
	Leaf      Commitment
	Signers   Bitmap
	Signature []byte
}

// IsGenesis reports whether q is the unsigned certificate of the genesis leaf.
func (q *QuorumCertificate) IsGenesis() bool { return q.View == 0 && len(q.Signature) == 0 }

// Commit returns a commitment to the whole certificate, signatures included.
func (q *QuorumCertificate) Commit() Commitment {
	h := sha256.New()
	h.Write([]byte("gospresso/qc/v1"))
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(q.View)))
	h.Write(q.Leaf[:])
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(q.Signers))))
	h.Write(q.Signers)
	h.Write(q.Signature)
	return Commitment(h.Sum(nil))
}

// Leaf is one link of the chain consensus agrees on: a block header proposed
// in View, the commitment of its parent leaf, and the certificate that
// justified proposing it (which certifies the parent).
type Leaf struct {
	View      ViewNumber
	Parent    Commitment
	Header    Header
	JustifyQC QuorumCertificate
}

// Height is the block height of the leaf's header.
func (l *Leaf) Height() uint64 { return l.Header.Height }

// Commit returns the leaf commitment: SHA-256 over a domain tag, the view, the
// parent commitment, the header commitment and the justify certificate's
// commitment, then, when the header carries a builder signature, the
// signature's r, s and v. Its value is gospresso's own (docs/data.md,
// "Leaves and certificates"). The builder signature is outside the header
// commitment (the reference's choice), so the leaf commitment, which votes
// and proposals sign, covers it instead: nobody relaying a proposal can
// swap it unnoticed.
func (l *Leaf) Commit() Commitment {
	h := sha256.New()
	h.Write([]byte("gospresso/leaf/v1"))
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(l.View)))
	h.Write(l.Parent[:])
	hc := l.Header.Commit()
	h.Write(hc[:])
	qc := l.JustifyQC.Commit()
	h.Write(qc[:])
	if s := l.Header.BuilderSignature; s != nil {
		r, ss := s.R.Bytes32(), s.S.Bytes32()
		h.Write(r[:])
		h.Write(ss[:])
		h.Write(binary.BigEndian.AppendUint64(nil, s.V))
	}
	return Commitment(h.Sum(nil))
}

// GenesisLeaf returns the leaf of view 0 holding the genesis header. Its
// justify certificate is the zero certificate; GenesisQC certifies it.
func GenesisLeaf(h Header) Leaf { return Leaf{Header: h} }

// GenesisQC returns the unsigned certificate of the genesis leaf, which every
// node accepts without signatures.
func GenesisQC(genesis *Leaf) QuorumCertificate {
	return QuorumCertificate{View: 0, Leaf: genesis.Commit()}
}
