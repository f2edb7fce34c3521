package storagecodec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"

	"github.com/gospresso/gospresso/types"
)

// Sentinel errors of the codec.
var (
	// ErrCorrupt is returned for bytes that are not a valid encoding of the
	// requested kind: truncated, with trailing bytes, a bad checksum, an
	// unknown version or kind, or a malformed field.
	ErrCorrupt = errors.New("storagecodec: corrupt encoding")
	// ErrTooLarge is returned when a value cannot be encoded because a byte
	// string exceeds the u32 length prefix.
	ErrTooLarge = errors.New("storagecodec: value too large to encode")
)

// Version is the format version byte every encoding starts with, the
// version encodings are written in. Version 2 added the header fields
// builder signature, payload commitment tag and chain config commitment
// (written after the fee info); decoding also accepts version 1, whose
// headers have none of them (they decode as nil or empty), so stores
// written before version 2 keep opening.
const Version = 2

// oldestVersion is the oldest format version decoding accepts.
const oldestVersion = 1

// Kind identifies what an encoding holds; it is the second byte.
type Kind byte

// The kinds of encoding.
const (
	KindBlock  Kind = 1
	KindHeader Kind = 2
	KindSafety Kind = 3
	KindLeaf   Kind = 4
)

// String names the kind for error messages.
func (k Kind) String() string {
	switch k {
	case KindBlock:
		return "block"
	case KindHeader:
		return "header"
	case KindSafety:
		return "safety state"
	case KindLeaf:
		return "leaf"
	}
	return fmt.Sprintf("kind %d", byte(k))
}

const (
	prefixLen   = 2 // version, kind
	checksumLen = 4
)

// castagnoli is the CRC-32C table; it is read-only after package
// initialisation.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// EncodeBlock encodes a decided block: its leaf (header included), its
// payload and its quorum certificate.
func EncodeBlock(b *types.Block) ([]byte, error) {
	if b == nil {
		return nil, fmt.Errorf("storagecodec: encode block: nil block")
	}
	w := newWriter(KindBlock, 256+len(b.Payload.Raw)+2*len(b.Leaf.Header.NsTable.Bytes))
	w.leaf(&b.Leaf)
	w.qc(&b.QC)
	w.bytes("payload.raw", b.Payload.Raw)
	if bytes.Equal(b.Payload.NsTable.Bytes, b.Leaf.Header.NsTable.Bytes) {
		w.u8(0)
	} else {
		w.u8(1)
		w.bytes("payload.ns_table", b.Payload.NsTable.Bytes)
	}
	return w.finish("block")
}

// DecodeBlock decodes what EncodeBlock produced. Any other input yields an
// error wrapping ErrCorrupt.
func DecodeBlock(p []byte) (types.Block, error) {
	r, err := newReader(p, KindBlock)
	if err != nil {
		return types.Block{}, err
	}
	var b types.Block
	r.leaf(&b.Leaf)
	r.qc(&b.QC)
	b.Payload.Raw = r.bytes("payload.raw")
	switch r.u8("payload.ns_table presence") {
	case 0:
		b.Payload.NsTable.Bytes = cloneBytes(b.Leaf.Header.NsTable.Bytes)
	case 1:
		b.Payload.NsTable.Bytes = r.bytes("payload.ns_table")
		if r.err == nil && bytes.Equal(b.Payload.NsTable.Bytes, b.Leaf.Header.NsTable.Bytes) {
			r.fail("payload.ns_table", "written in full but equal to the header's (want the 0 marker)")
		}
	default:
		r.fail("payload.ns_table presence", "byte not 0 or 1")
	}
	if err := r.finish(); err != nil {
		return types.Block{}, err
	}
	return b, nil
}

// EncodeLeaf encodes a leaf with the certificate that certifies it, for
// backends that keep the payload apart from the leaf.
func EncodeLeaf(l *types.Leaf, qc *types.QuorumCertificate) ([]byte, error) {
	if l == nil || qc == nil {
		return nil, fmt.Errorf("storagecodec: encode leaf: nil leaf or certificate")
	}
	w := newWriter(KindLeaf, 256+len(l.Header.NsTable.Bytes))
	w.leaf(l)
	w.qc(qc)
	return w.finish("leaf")
}

// DecodeLeaf decodes what EncodeLeaf produced. Any other input yields an
// error wrapping ErrCorrupt.
func DecodeLeaf(p []byte) (types.Leaf, types.QuorumCertificate, error) {
	r, err := newReader(p, KindLeaf)
	if err != nil {
		return types.Leaf{}, types.QuorumCertificate{}, err
	}
	var (
		l  types.Leaf
		qc types.QuorumCertificate
	)
	r.leaf(&l)
	r.qc(&qc)
	if err := r.finish(); err != nil {
		return types.Leaf{}, types.QuorumCertificate{}, err
	}
	return l, qc, nil
}

// EncodeHeader encodes a block header on its own (SQL backends keep headers
// in their own table for header queries).
func EncodeHeader(h *types.Header) ([]byte, error) {
	if h == nil {
		return nil, fmt.Errorf("storagecodec: encode header: nil header")
	}
	w := newWriter(KindHeader, 256+len(h.NsTable.Bytes))
	w.header("header", h)
	return w.finish("header")
}

// DecodeHeader decodes what EncodeHeader produced. Any other input yields
// an error wrapping ErrCorrupt.
func DecodeHeader(p []byte) (types.Header, error) {
	r, err := newReader(p, KindHeader)
	if err != nil {
		return types.Header{}, err
	}
	var h types.Header
	r.header("header", &h)
	if err := r.finish(); err != nil {
		return types.Header{}, err
	}
	return h, nil
}

// EncodeSafety encodes the consensus safety state.
func EncodeSafety(s *types.SafetyState) ([]byte, error) {
	if s == nil {
		return nil, fmt.Errorf("storagecodec: encode safety state: nil state")
	}
	w := newWriter(KindSafety, 128+len(s.HighQC.Signers)+len(s.HighQC.Signature))
	w.u64(uint64(s.View))
	w.u64(uint64(s.LastVotedView))
	w.qcField("high_qc", &s.HighQC)
	return w.finish("safety state")
}

// DecodeSafety decodes what EncodeSafety produced. Any other input yields
// an error wrapping ErrCorrupt.
func DecodeSafety(p []byte) (types.SafetyState, error) {
	r, err := newReader(p, KindSafety)
	if err != nil {
		return types.SafetyState{}, err
	}
	var s types.SafetyState
	s.View = types.ViewNumber(r.u64("view"))
	s.LastVotedView = types.ViewNumber(r.u64("last_voted_view"))
	r.qcField("high_qc", &s.HighQC)
	if err := r.finish(); err != nil {
		return types.SafetyState{}, err
	}
	return s, nil
}

// writer appends fields; the first byte string too long for its length
// prefix is remembered and reported by finish.
type writer struct {
	b   []byte
	err error
}

func newWriter(k Kind, sizeHint int) *writer {
	w := &writer{b: make([]byte, 0, sizeHint+prefixLen+checksumLen)}
	w.b = append(w.b, Version, byte(k))
	return w
}

func (w *writer) u8(x byte)      { w.b = append(w.b, x) }
func (w *writer) u16(x uint16)   { w.b = binary.BigEndian.AppendUint16(w.b, x) }
func (w *writer) u64(x uint64)   { w.b = binary.BigEndian.AppendUint64(w.b, x) }
func (w *writer) fixed(p []byte) { w.b = append(w.b, p...) }
func (w *writer) u256(u types.U256) {
	b := u.Bytes32()
	w.fixed(b[:])
}

func (w *writer) bytes(field string, p []byte) {
	if uint64(len(p)) > math.MaxUint32 {
		if w.err == nil {
			w.err = fmt.Errorf("%w: %s: %d bytes exceed the u32 length prefix", ErrTooLarge, field, len(p))
		}
		return
	}
	w.b = binary.BigEndian.AppendUint32(w.b, uint32(len(p)))
	w.b = append(w.b, p...)
}

func (w *writer) optAddr(a *types.Address) {
	if a == nil {
		w.u8(0)
		return
	}
	w.u8(1)
	w.fixed(a[:])
}

func (w *writer) qc(q *types.QuorumCertificate) { w.qcField("qc", q) }

func (w *writer) qcField(field string, q *types.QuorumCertificate) {
	w.u64(uint64(q.View))
	w.fixed(q.Leaf[:])
	w.bytes(field+".signers", q.Signers)
	w.bytes(field+".signature", q.Signature)
}

func (w *writer) leaf(l *types.Leaf) {
	w.u64(uint64(l.View))
	w.fixed(l.Parent[:])
	w.qcField("leaf.justify_qc", &l.JustifyQC)
	w.header("leaf.header", &l.Header)
}

func (w *writer) header(field string, h *types.Header) {
	w.u16(h.Version.Major)
	w.u16(h.Version.Minor)
	c := &h.ChainConfig
	w.u256(c.ChainID)
	w.u64(c.MaxBlockSize)
	w.u256(c.BaseFee)
	w.optAddr(c.FeeContract)
	w.fixed(c.FeeRecipient[:])
	w.optAddr(c.BidRecipient)
	w.optAddr(c.StakeTableContract)
	w.u64(h.Height)
	w.u64(h.Timestamp)
	w.u64(h.L1Head)
	if f := h.L1Finalized; f != nil {
		w.u8(1)
		w.u64(f.Number)
		w.u256(f.Timestamp)
		w.fixed(f.Hash[:])
	} else {
		w.u8(0)
	}
	w.fixed(h.PayloadCommitment[:])
	w.fixed(h.BuilderCommitment[:])
	w.bytes(field+".ns_table", h.NsTable.Bytes)
	w.bytes(field+".block_merkle_tree_root", h.BlockMerkleTreeRoot)
	w.bytes(field+".fee_merkle_tree_root", h.FeeMerkleTreeRoot)
	w.fixed(h.FeeInfo.Account[:])
	w.u256(h.FeeInfo.Amount)
	// Version 2.
	if s := h.BuilderSignature; s != nil {
		w.u8(1)
		w.u256(s.R)
		w.u256(s.S)
		w.u64(s.V)
	} else {
		w.u8(0)
	}
	if tag := h.PayloadCommitmentTag; tag != "" && !types.ValidTag(tag) && w.err == nil {
		w.err = fmt.Errorf("%s.payload_commitment_tag %q is not a TaggedBase64 tag", field, tag)
	}
	w.bytes(field+".payload_commitment_tag", []byte(h.PayloadCommitmentTag))
	if c := h.ChainConfigCommitment; c != nil {
		w.u8(1)
		w.fixed(c[:])
	} else {
		w.u8(0)
	}
}

func (w *writer) finish(what string) ([]byte, error) {
	if w.err != nil {
		return nil, fmt.Errorf("storagecodec: encode %s: %w", what, w.err)
	}
	return binary.BigEndian.AppendUint32(w.b, crc32.Checksum(w.b, castagnoli)), nil
}

// reader consumes fields; after the first error every read returns zero
// values and the error is reported by finish.
type reader struct {
	kind    Kind
	version byte // format version of the encoding
	b       []byte
	err     error
}

// newReader checks the envelope (length, checksum, version, kind) and
// returns a reader over the fields.
func newReader(p []byte, want Kind) (*reader, error) {
	if len(p) < prefixLen+checksumLen {
		return nil, fmt.Errorf("%w: %s: %d bytes, want at least %d (version, kind, checksum)", ErrCorrupt, want, len(p), prefixLen+checksumLen)
	}
	body, sum := p[:len(p)-checksumLen], binary.BigEndian.Uint32(p[len(p)-checksumLen:])
	if got := crc32.Checksum(body, castagnoli); got != sum {
		return nil, fmt.Errorf("%w: %s: checksum %08x, stored %08x", ErrCorrupt, want, got, sum)
	}
	if body[0] < oldestVersion || body[0] > Version {
		return nil, fmt.Errorf("%w: %s: format version %d, want %d to %d", ErrCorrupt, want, body[0], oldestVersion, Version)
	}
	if k := Kind(body[1]); k != want {
		return nil, fmt.Errorf("%w: %s: holds a %s", ErrCorrupt, want, k)
	}
	return &reader{kind: want, version: body[0], b: body[prefixLen:]}, nil
}

func (r *reader) fail(field, format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s: %s: %s", ErrCorrupt, r.kind, field, fmt.Sprintf(format, args...))
	}
}

func (r *reader) take(field string, n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.fail(field, "want %d bytes, %d left", n, len(r.b))
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) u8(field string) byte {
	p := r.take(field, 1)
	if p == nil {
		return 0
	}
	return p[0]
}

func (r *reader) u16(field string) uint16 {
	p := r.take(field, 2)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint16(p)
}

func (r *reader) u64(field string) uint64 {
	p := r.take(field, 8)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint64(p)
}

func (r *reader) fixed(field string, dst []byte) { copy(dst, r.take(field, len(dst))) }

func (r *reader) u256(field string) types.U256 {
	var b [32]byte
	r.fixed(field, b[:])
	return types.U256FromBytes32(b)
}

func (r *reader) bytes(field string) []byte {
	p := r.take(field+" length", 4)
	if p == nil {
		return nil
	}
	n := binary.BigEndian.Uint32(p)
	if uint64(n) > uint64(len(r.b)) {
		r.fail(field, "length %d, only %d bytes left", n, len(r.b))
		return nil
	}
	if n == 0 {
		return nil
	}
	return cloneBytes(r.take(field, int(n)))
}

func (r *reader) flag(field string) bool {
	switch r.u8(field + " presence") {
	case 0:
		return false
	case 1:
		return true
	default:
		r.fail(field+" presence", "byte not 0 or 1")
		return false
	}
}

func (r *reader) optAddr(field string) *types.Address {
	if !r.flag(field) {
		return nil
	}
	var a types.Address
	r.fixed(field, a[:])
	return &a
}

func (r *reader) qc(q *types.QuorumCertificate) { r.qcField("qc", q) }

func (r *reader) qcField(field string, q *types.QuorumCertificate) {
	q.View = types.ViewNumber(r.u64(field + ".view"))
	r.fixed(field+".leaf", q.Leaf[:])
	q.Signers = r.bytes(field + ".signers")
	q.Signature = r.bytes(field + ".signature")
}

func (r *reader) leaf(l *types.Leaf) {
	l.View = types.ViewNumber(r.u64("leaf.view"))
	r.fixed("leaf.parent", l.Parent[:])
	r.qcField("leaf.justify_qc", &l.JustifyQC)
	r.header("leaf.header", &l.Header)
}

func (r *reader) header(field string, h *types.Header) {
	h.Version.Major = r.u16(field + ".version.major")
	h.Version.Minor = r.u16(field + ".version.minor")
	c := &h.ChainConfig
	c.ChainID = r.u256(field + ".chain_config.chain_id")
	c.MaxBlockSize = r.u64(field + ".chain_config.max_block_size")
	c.BaseFee = r.u256(field + ".chain_config.base_fee")
	c.FeeContract = r.optAddr(field + ".chain_config.fee_contract")
	r.fixed(field+".chain_config.fee_recipient", c.FeeRecipient[:])
	c.BidRecipient = r.optAddr(field + ".chain_config.bid_recipient")
	c.StakeTableContract = r.optAddr(field + ".chain_config.stake_table_contract")
	h.Height = r.u64(field + ".height")
	h.Timestamp = r.u64(field + ".timestamp")
	h.L1Head = r.u64(field + ".l1_head")
	if r.flag(field + ".l1_finalized") {
		f := &types.L1BlockInfo{Number: r.u64(field + ".l1_finalized.number")}
		f.Timestamp = r.u256(field + ".l1_finalized.timestamp")
		r.fixed(field+".l1_finalized.hash", f.Hash[:])
		h.L1Finalized = f
	}
	r.fixed(field+".payload_commitment", h.PayloadCommitment[:])
	r.fixed(field+".builder_commitment", h.BuilderCommitment[:])
	h.NsTable.Bytes = r.bytes(field + ".ns_table")
	h.BlockMerkleTreeRoot = r.bytes(field + ".block_merkle_tree_root")
	h.FeeMerkleTreeRoot = r.bytes(field + ".fee_merkle_tree_root")
	r.fixed(field+".fee_info.account", h.FeeInfo.Account[:])
	h.FeeInfo.Amount = r.u256(field + ".fee_info.amount")
	if r.version < 2 {
		return
	}
	if r.flag(field + ".builder_signature") {
		s := &types.BuilderSignature{R: r.u256(field + ".builder_signature.r")}
		s.S = r.u256(field + ".builder_signature.s")
		s.V = r.u64(field + ".builder_signature.v")
		h.BuilderSignature = s
	}
	if tag := r.bytes(field + ".payload_commitment_tag"); len(tag) > 0 {
		if !types.ValidTag(string(tag)) {
			r.fail(field+".payload_commitment_tag", "not a TaggedBase64 tag")
		}
		h.PayloadCommitmentTag = string(tag)
	}
	if r.flag(field + ".chain_config_commitment") {
		var c types.Commitment
		r.fixed(field+".chain_config_commitment", c[:])
		h.ChainConfigCommitment = &c
	}
}

// finish reports the first error, or trailing bytes after the last field.
func (r *reader) finish() error {
	if r.err == nil && len(r.b) != 0 {
		r.fail("end", "%d trailing bytes before the checksum", len(r.b))
	}
	return r.err
}

func cloneBytes(p []byte) []byte {
	if len(p) == 0 {
		return nil
	}
	return append([]byte(nil), p...)
}
