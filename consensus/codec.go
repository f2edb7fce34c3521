package consensus

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/types"
)

// The wire format is gospresso's own (docs/protocol.md, "Wire format"): a version byte, a
// message-type byte, then the fields in a fixed order. Integers are
// big-endian u64 unless noted; byte strings carry a u32 length; optional
// values a presence byte. Decoding checks every length against what is left,
// so no input can make it allocate more than the input's size or panic.
// Votes' signatures are kept as bytes, not parsed (see rawSig).

// Wire versions: a message whose headers carry none of the fields added
// in version 2 (builder signature, payload commitment tag, chain config
// commitment) is written in version 1, byte for byte as before they
// existed; one with a header carrying any of them is written in version 2,
// where every header is followed by those fields. Decode accepts both, and
// refuses a version-2 message none of whose headers needs it, so the
// encoding stays canonical.
const (
	wireVersion          = 1
	wireVersionHeaderExt = 2
)

// MaxMessageSize bounds an encoded consensus message.
const MaxMessageSize = 64 << 20

var errShort = errors.New("truncated")

type writer struct {
	b   []byte
	ext bool // write the version-2 header fields
	err error
}

func (w *writer) u8(x byte)               { w.b = append(w.b, x) }
func (w *writer) u32(x uint32)            { w.b = binary.BigEndian.AppendUint32(w.b, x) }
func (w *writer) u64(x uint64)            { w.b = binary.BigEndian.AppendUint64(w.b, x) }
func (w *writer) view(v types.ViewNumber) { w.u64(uint64(v)) }
func (w *writer) fixed(p []byte)          { w.b = append(w.b, p...) }
func (w *writer) bytes(p []byte)          { w.u32(uint32(len(p))); w.b = append(w.b, p...) }
func (w *writer) flag(ok bool) {
	if ok {
		w.u8(1)
	} else {
		w.u8(0)
	}
}

type reader struct {
	b      []byte
	err    error
	ext    bool // read the version-2 header fields
	extSet bool // a header had one of them set
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.fail("%w: want %d bytes, %d left", errShort, n, len(r.b))
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) u8() byte {
	p := r.take(1)
	if p == nil {
		return 0
	}
	return p[0]
}

func (r *reader) u32() uint32 {
	p := r.take(4)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint32(p)
}

func (r *reader) u64() uint64 {
	p := r.take(8)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint64(p)
}

func (r *reader) view() types.ViewNumber { return types.ViewNumber(r.u64()) }

func (r *reader) bytes() []byte {
	n := r.u32()
	p := r.take(int(n))
	if p == nil || n == 0 {
		return nil
	}
	return append([]byte(nil), p...)
}

func (r *reader) commit() (c types.Commitment) {
	copy(c[:], r.take(32))
	return c
}

func (r *reader) flag() bool {
	switch r.u8() {
	case 0:
		return false
	case 1:
		return true
	default:
		r.fail("presence byte not 0 or 1")
		return false
	}
}

// count reads a u32 element count, bounding it by the bytes left (each
// element needs at least min bytes).
func (r *reader) count(min int) int {
	n := int(r.u32())
	if r.err == nil && n*min > len(r.b) {
		r.fail("%w: %d elements cannot fit in %d bytes", errShort, n, len(r.b))
		return 0
	}
	return n
}

// Encode serializes a consensus message.
func Encode(m Message) ([]byte, error) {
	w := &writer{b: make([]byte, 0, 256)}
	switch m := m.(type) {
	case *Proposal:
		w.ext = headerExt(&m.Leaf.Header)
	case *FetchResponse:
		for i := range m.Leaves {
			w.ext = w.ext || headerExt(&m.Leaves[i].Leaf.Header)
		}
	case *HeaderResponse:
		for i := range m.Leaves {
			w.ext = w.ext || headerExt(&m.Leaves[i].Header)
		}
	}
	if w.ext {
		w.u8(wireVersionHeaderExt)
	} else {
		w.u8(wireVersion)
	}
	w.u8(byte(m.msgType()))
	switch m := m.(type) {
	case *Proposal:
		encodeLeaf(w, &m.Leaf)
		encodePayload(w, &m.Payload)
		w.flag(m.TC != nil)
		if m.TC != nil {
			encodeTC(w, m.TC)
		}
		w.flag(m.Finalize != nil)
		if m.Finalize != nil {
			encodeVSC(w, m.Finalize)
		}
		w.fixed(m.Signature.Bytes())
		w.flag(m.DA != nil)
		if m.DA != nil {
			encodeDAC(w, m.DA)
		}
	case *Vote:
		w.view(m.View)
		w.fixed(m.Leaf[:])
		w.u32(m.Signer)
		w.fixed(sigBytes(m.Signature, &m.raw))
	case *TimeoutVote:
		w.view(m.View)
		encodeQC(w, &m.HighQC)
		w.u32(m.Signer)
		w.fixed(sigBytes(m.Signature, &m.raw))
	case *ViewSyncVote:
		w.u8(byte(m.Phase))
		w.view(m.Round)
		w.u64(m.Relay)
		encodeQC(w, &m.HighQC)
		w.u32(m.Signer)
		w.fixed(sigBytes(m.Signature, &m.raw))
	case *Certificates:
		w.flag(m.QC != nil)
		if m.QC != nil {
			encodeQC(w, m.QC)
		}
		w.flag(m.TC != nil)
		if m.TC != nil {
			encodeTC(w, m.TC)
		}
		w.flag(m.ViewSync != nil)
		if m.ViewSync != nil {
			encodeVSC(w, m.ViewSync)
		}
		w.flag(m.DA != nil)
		if m.DA != nil {
			encodeDAC(w, m.DA)
		}
	case *DAProposal:
		w.view(m.View)
		w.fixed(m.Commitment[:])
		encodePayload(w, &m.Payload)
	case *DAVote:
		w.view(m.View)
		w.fixed(m.Payload[:])
		w.u32(m.Signer)
		w.fixed(sigBytes(m.Signature, &m.raw))
	case *VIDShare:
		w.view(m.View)
		w.fixed(m.Commitment[:])
		w.bytes(m.Share)
	case *FetchRequest:
		w.u64(m.ID)
		w.fixed(m.Leaf[:])
		w.u64(m.StopHeight)
	case *FetchResponse:
		w.u64(m.ID)
		w.u32(uint32(len(m.Leaves)))
		for i := range m.Leaves {
			encodeLeaf(w, &m.Leaves[i].Leaf)
			encodePayload(w, &m.Leaves[i].Payload)
		}
	case *HeaderRequest:
		w.u64(m.ID)
		w.fixed(m.Leaf[:])
		w.u64(m.StopHeight)
	case *HeaderResponse:
		w.u64(m.ID)
		w.u32(uint32(len(m.Leaves)))
		for i := range m.Leaves {
			encodeLeaf(w, &m.Leaves[i])
		}
	case *FetchUnavailable:
		w.u64(m.ID)
		w.u64(m.FirstHeight)
	default:
		return nil, fmt.Errorf("%w: cannot encode %T", ErrInvalidMessage, m)
	}
	if w.err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidMessage, w.err)
	}
	if len(w.b) > MaxMessageSize {
		return nil, fmt.Errorf("%w: encoded message of %d bytes exceeds %d", ErrInvalidMessage, len(w.b), MaxMessageSize)
	}
	return w.b, nil
}

// Checkable reports, from its type byte alone, whether the encoded
// message b is one Verifier.Precheck checks something of (a proposal or a
// certificates message), so a caller can spare the others a trip to a
// verification worker. It decodes nothing.
func Checkable(b []byte) bool {
	if len(b) < 2 || (b[0] != wireVersion && b[0] != wireVersionHeaderExt) {
		return false
	}
	t := msgType(b[1])
	return t == msgProposal || t == msgCertificates
}

// Decode parses a message produced by Encode. Any malformed input yields an
// error wrapping ErrInvalidMessage.
func Decode(b []byte) (Message, error) {
	if len(b) > MaxMessageSize {
		return nil, fmt.Errorf("%w: %d bytes exceed the %d-byte limit", ErrInvalidMessage, len(b), MaxMessageSize)
	}
	r := &reader{b: b}
	v := r.u8()
	if r.err == nil && v != wireVersion && v != wireVersionHeaderExt {
		return nil, fmt.Errorf("%w: wire version %d, want %d or %d", ErrInvalidMessage, v, wireVersion, wireVersionHeaderExt)
	}
	r.ext = v == wireVersionHeaderExt
	t := msgType(r.u8())
	var m Message
	switch t {
	case msgProposal:
		p := &Proposal{}
		decodeLeaf(r, &p.Leaf)
		decodePayload(r, &p.Payload)
		if r.flag() {
			p.TC = &TimeoutCert{}
			decodeTC(r, p.TC)
		}
		if r.flag() {
			p.Finalize = &ViewSyncCert{}
			decodeVSC(r, p.Finalize)
		}
		p.Signature = decodeSig(r)
		if r.flag() {
			p.DA = &DACert{}
			decodeDAC(r, p.DA)
		}
		m = p
	case msgVote:
		v := &Vote{View: r.view(), Leaf: r.commit(), Signer: r.u32()}
		v.raw = decodeRawSig(r)
		m = v
	case msgTimeoutVote:
		v := &TimeoutVote{View: r.view()}
		decodeQC(r, &v.HighQC)
		v.Signer = r.u32()
		v.raw = decodeRawSig(r)
		m = v
	case msgViewSyncVote:
		v := &ViewSyncVote{Phase: Phase(r.u8()), Round: r.view(), Relay: r.u64()}
		decodeQC(r, &v.HighQC)
		v.Signer = r.u32()
		v.raw = decodeRawSig(r)
		m = v
	case msgCertificates:
		c := &Certificates{}
		if r.flag() {
			c.QC = &types.QuorumCertificate{}
			decodeQC(r, c.QC)
		}
		if r.flag() {
			c.TC = &TimeoutCert{}
			decodeTC(r, c.TC)
		}
		if r.flag() {
			c.ViewSync = &ViewSyncCert{}
			decodeVSC(r, c.ViewSync)
		}
		if r.flag() {
			c.DA = &DACert{}
			decodeDAC(r, c.DA)
		}
		m = c
	case msgDAProposal:
		p := &DAProposal{View: r.view(), Commitment: r.commit()}
		decodePayload(r, &p.Payload)
		m = p
	case msgDAVote:
		v := &DAVote{View: r.view(), Payload: r.commit(), Signer: r.u32()}
		v.raw = decodeRawSig(r)
		m = v
	case msgVIDShare:
		m = &VIDShare{View: r.view(), Commitment: r.commit(), Share: r.bytes()}
	case msgFetchRequest:
		m = &FetchRequest{ID: r.u64(), Leaf: r.commit(), StopHeight: r.u64()}
	case msgFetchResponse:
		resp := &FetchResponse{ID: r.u64()}
		n := r.count(8)
		if n > MaxFetchLeaves {
			r.fail("fetch response of %d leaves, at most %d", n, MaxFetchLeaves)
		}
		for i := 0; i < n && r.err == nil; i++ {
			var l FetchedLeaf
			decodeLeaf(r, &l.Leaf)
			decodePayload(r, &l.Payload)
			resp.Leaves = append(resp.Leaves, l)
		}
		m = resp
	case msgHeaderRequest:
		m = &HeaderRequest{ID: r.u64(), Leaf: r.commit(), StopHeight: r.u64()}
	case msgHeaderResponse:
		resp := &HeaderResponse{ID: r.u64()}
		n := r.count(8)
		if n > MaxHeaderLeaves {
			r.fail("header response of %d leaves, at most %d", n, MaxHeaderLeaves)
		}
		for i := 0; i < n && r.err == nil; i++ {
			var l types.Leaf
			decodeLeaf(r, &l)
			resp.Leaves = append(resp.Leaves, l)
		}
		m = resp
	case msgFetchUnavailable:
		m = &FetchUnavailable{ID: r.u64(), FirstHeight: r.u64()}
	default:
		if r.err == nil {
			return nil, fmt.Errorf("%w: unknown message type %d", ErrInvalidMessage, t)
		}
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail("%d trailing bytes", len(r.b))
	}
	if r.err == nil && r.ext && !r.extSet {
		r.fail("wire version %d but no header needs it (want version %d)", wireVersionHeaderExt, wireVersion)
	}
	if r.err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidMessage, r.err)
	}
	return m, nil
}

// decodeRawSig takes a vote's signature bytes without parsing them: the
// engine parses them only if it counts the vote (see rawSig), so a flood of
// votes it refuses costs no point decompression.
func decodeRawSig(r *reader) rawSig {
	var s rawSig
	if p := r.take(keys.SignatureSize); p != nil {
		copy(s.b[:], p)
		s.set = true
	}
	return s
}

func decodeSig(r *reader) keys.Signature {
	p := r.take(96)
	if p == nil {
		return keys.Signature{}
	}
	s, err := keys.SignatureFromBytes(p)
	if err != nil {
		r.fail("signature: %v", err)
	}
	return s
}

func encodeQC(w *writer, q *types.QuorumCertificate) {
	w.view(q.View)
	w.fixed(q.Leaf[:])
	w.bytes(q.Signers)
	w.bytes(q.Signature)
}

func decodeQC(r *reader, q *types.QuorumCertificate) {
	q.View = r.view()
	q.Leaf = r.commit()
	q.Signers = r.bytes()
	q.Signature = r.bytes()
}

func encodeViews(w *writer, vs []types.ViewNumber) {
	w.u32(uint32(len(vs)))
	for _, v := range vs {
		w.view(v)
	}
}

func decodeViews(r *reader) []types.ViewNumber {
	n := r.count(8)
	vs := make([]types.ViewNumber, 0, n)
	for i := 0; i < n && r.err == nil; i++ {
		vs = append(vs, r.view())
	}
	return vs
}

func encodeTC(w *writer, c *TimeoutCert) {
	w.view(c.View)
	encodeQC(w, &c.HighQC)
	w.bytes(c.Signers)
	encodeViews(w, c.HighViews)
	w.bytes(c.Signature)
}

func decodeTC(r *reader, c *TimeoutCert) {
	c.View = r.view()
	decodeQC(r, &c.HighQC)
	c.Signers = r.bytes()
	c.HighViews = decodeViews(r)
	c.Signature = r.bytes()
}

// A DA certificate is laid out as a QC is, its payload commitment in the
// leaf's place.
func encodeDAC(w *writer, c *DACert) {
	encodeQC(w, &types.QuorumCertificate{View: c.View, Leaf: c.Payload, Signers: c.Signers, Signature: c.Signature})
}

func decodeDAC(r *reader, c *DACert) {
	var q types.QuorumCertificate
	decodeQC(r, &q)
	*c = DACert{View: q.View, Payload: q.Leaf, Signers: q.Signers, Signature: q.Signature}
}

func encodeVSC(w *writer, c *ViewSyncCert) {
	w.u8(byte(c.Phase))
	w.view(c.Round)
	w.u64(c.Relay)
	encodeQC(w, &c.HighQC)
	w.bytes(c.Signers)
	encodeViews(w, c.HighViews)
	w.bytes(c.Signature)
}

func decodeVSC(r *reader, c *ViewSyncCert) {
	c.Phase = Phase(r.u8())
	c.Round = r.view()
	c.Relay = r.u64()
	decodeQC(r, &c.HighQC)
	c.Signers = r.bytes()
	c.HighViews = decodeViews(r)
	c.Signature = r.bytes()
}

func encodePayload(w *writer, p *types.Payload) {
	w.bytes(p.Raw)
	w.bytes(p.NsTable.Bytes)
}

func decodePayload(r *reader, p *types.Payload) {
	p.Raw = r.bytes()
	p.NsTable.Bytes = r.bytes()
}

func encodeOptAddr(w *writer, a *types.Address) {
	w.flag(a != nil)
	if a != nil {
		w.fixed(a[:])
	}
}

func decodeOptAddr(r *reader) *types.Address {
	if !r.flag() {
		return nil
	}
	var a types.Address
	copy(a[:], r.take(20))
	return &a
}

func encodeU256(w *writer, u types.U256) {
	b := u.Bytes32()
	w.fixed(b[:])
}

func decodeU256(r *reader) types.U256 {
	var b [32]byte
	copy(b[:], r.take(32))
	return types.U256FromBytes32(b)
}

func encodeLeaf(w *writer, l *types.Leaf) {
	w.view(l.View)
	w.fixed(l.Parent[:])
	encodeQC(w, &l.JustifyQC)
	h := &l.Header
	w.u32(uint32(h.Version.Major)<<16 | uint32(h.Version.Minor))
	c := &h.ChainConfig
	encodeU256(w, c.ChainID)
	w.u64(c.MaxBlockSize)
	encodeU256(w, c.BaseFee)
	encodeOptAddr(w, c.FeeContract)
	w.fixed(c.FeeRecipient[:])
	encodeOptAddr(w, c.BidRecipient)
	encodeOptAddr(w, c.StakeTableContract)
	w.u64(h.Height)
	w.u64(h.Timestamp)
	w.u64(h.L1Head)
	w.flag(h.L1Finalized != nil)
	if f := h.L1Finalized; f != nil {
		w.u64(f.Number)
		encodeU256(w, f.Timestamp)
		w.fixed(f.Hash[:])
	}
	w.fixed(h.PayloadCommitment[:])
	w.fixed(h.BuilderCommitment[:])
	w.bytes(h.NsTable.Bytes)
	w.bytes(h.BlockMerkleTreeRoot)
	w.bytes(h.FeeMerkleTreeRoot)
	w.fixed(h.FeeInfo.Account[:])
	encodeU256(w, h.FeeInfo.Amount)
	if !w.ext {
		return
	}
	w.flag(h.BuilderSignature != nil)
	if s := h.BuilderSignature; s != nil {
		encodeU256(w, s.R)
		encodeU256(w, s.S)
		w.u64(s.V)
	}
	if tag := h.PayloadCommitmentTag; tag != "" && !types.ValidTag(tag) && w.err == nil {
		w.err = fmt.Errorf("payload commitment tag %q is not a TaggedBase64 tag", tag)
	}
	w.bytes([]byte(h.PayloadCommitmentTag))
	w.flag(h.ChainConfigCommitment != nil)
	if c := h.ChainConfigCommitment; c != nil {
		w.fixed(c[:])
	}
}

// headerExt reports whether h has a field only wire version 2 carries.
func headerExt(h *types.Header) bool {
	return h.BuilderSignature != nil || h.PayloadCommitmentTag != "" || h.ChainConfigCommitment != nil
}

func decodeLeaf(r *reader, l *types.Leaf) {
	l.View = r.view()
	l.Parent = r.commit()
	decodeQC(r, &l.JustifyQC)
	h := &l.Header
	v := r.u32()
	h.Version = types.Version{Major: uint16(v >> 16), Minor: uint16(v)}
	c := &h.ChainConfig
	c.ChainID = decodeU256(r)
	c.MaxBlockSize = r.u64()
	c.BaseFee = decodeU256(r)
	c.FeeContract = decodeOptAddr(r)
	copy(c.FeeRecipient[:], r.take(20))
	c.BidRecipient = decodeOptAddr(r)
	c.StakeTableContract = decodeOptAddr(r)
	h.Height = r.u64()
	h.Timestamp = r.u64()
	h.L1Head = r.u64()
	if r.flag() {
		f := &types.L1BlockInfo{Number: r.u64()}
		f.Timestamp = decodeU256(r)
		copy(f.Hash[:], r.take(32))
		h.L1Finalized = f
	}
	h.PayloadCommitment = r.commit()
	h.BuilderCommitment = r.commit()
	h.NsTable.Bytes = r.bytes()
	h.BlockMerkleTreeRoot = r.bytes()
	h.FeeMerkleTreeRoot = r.bytes()
	copy(h.FeeInfo.Account[:], r.take(20))
	h.FeeInfo.Amount = decodeU256(r)
	if !r.ext {
		return
	}
	if r.flag() {
		s := &types.BuilderSignature{R: decodeU256(r)}
		s.S = decodeU256(r)
		s.V = r.u64()
		h.BuilderSignature = s
	}
	if tag := r.bytes(); len(tag) > 0 {
		if !types.ValidTag(string(tag)) {
			r.fail("payload commitment tag is not a TaggedBase64 tag")
		}
		h.PayloadCommitmentTag = string(tag)
	}
	if r.flag() {
		c := r.commit()
		h.ChainConfigCommitment = &c
	}
	r.extSet = r.extSet || headerExt(h)
}
