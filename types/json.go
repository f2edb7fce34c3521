package types

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// JSON shapes of the query objects clients see (docs/data.md, "JSON"):
// byte blobs are standard base64 with padding, commitments and keys
// TaggedBase64, U256 amounts decimal strings and L1 timestamps 0x hex,
// absent options null. Objects are written with their keys in alphabetical
// order, as the reference serves them.

// ErrInvalidJSON marks JSON that does not have the shape of the object it
// is decoded into.
var ErrInvalidJSON = errors.New("types: invalid JSON")

// TaggedBase64 tags of the commitments in query objects.
const (
	// TagBlock tags a header commitment: the block hash.
	TagBlock = "BLOCK"
	// TagLeaf tags a leaf commitment, and a certificate's vote commitment.
	TagLeaf = "COMMIT"
	// TagPayload tags a payload commitment (protocol versions 0.1 and 0.2).
	TagPayload = "HASH"
	// TagAvidM tags a payload commitment in later reference headers.
	TagAvidM = "AvidMCommit"
	// TagBuilder tags a builder commitment.
	TagBuilder = "BUILDER_COMMITMENT"
	// TagMerkle tags a Merkle tree root.
	TagMerkle = "MERKLE_COMM"
	// TagTransaction tags a transaction commitment.
	TagTransaction = "TX"
	// TagChainConfig tags a chain config commitment.
	TagChainConfig = "CHAIN_CONFIG"
	// TagSignature tags an aggregate BLS signature in a certificate.
	TagSignature = "BLS_SIG"
)

// Tagged returns c in TaggedBase64 form with tag.
func (c Commitment) Tagged(tag string) TaggedBase64 {
	return TaggedBase64{Tag: tag, Value: c[:]}
}

// ParseCommitment parses "TAG~..." holding a 32-byte value with the given
// tag.
func ParseCommitment(s, tag string) (Commitment, error) {
	t, err := ParseTaggedBase64(s)
	if err != nil {
		return Commitment{}, err
	}
	return commitmentOf(t, tag)
}

func commitmentOf(t TaggedBase64, tag string) (Commitment, error) {
	if t.Tag != tag {
		return Commitment{}, fmt.Errorf("%w: tag %q, want %q", ErrInvalidJSON, t.Tag, tag)
	}
	if len(t.Value) != 32 {
		return Commitment{}, fmt.Errorf("%w: %s value of %d bytes, want 32", ErrInvalidJSON, tag, len(t.Value))
	}
	return Commitment(t.Value), nil
}

// b64 is a byte blob in standard base64 with padding.
type b64 []byte

func (b b64) MarshalText() ([]byte, error) {
	return []byte(base64.StdEncoding.EncodeToString(b)), nil
}

func (b *b64) UnmarshalText(text []byte) error {
	v, err := base64.StdEncoding.DecodeString(string(text))
	if err != nil {
		return fmt.Errorf("%w: %v (want standard base64 with padding)", ErrInvalidJSON, err)
	}
	*b = v
	return nil
}

// decodeStrict decodes b into v, refusing unknown fields and trailing data.
func decodeStrict(b []byte, v any, what string) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrInvalidJSON, what, err)
	}
	if d.More() {
		return fmt.Errorf("%w: %s: trailing data", ErrInvalidJSON, what)
	}
	return nil
}

func required(what string, fields map[string]bool) error {
	for name, ok := range fields {
		if !ok {
			return fmt.Errorf("%w: %s: missing field %q", ErrInvalidJSON, what, name)
		}
	}
	return nil
}

// NsTable JSON: {"bytes": "<base64>"}.

type nsTableJSON struct {
	Bytes *b64 `json:"bytes"`
}

// MarshalJSON encodes t as {"bytes": "<standard base64>"}.
func (t NsTable) MarshalJSON() ([]byte, error) {
	b := b64(t.Bytes)
	if b == nil {
		b = b64{}
	}
	return json.Marshal(nsTableJSON{Bytes: &b})
}

// UnmarshalJSON decodes the shape of MarshalJSON.
func (t *NsTable) UnmarshalJSON(b []byte) error {
	var j nsTableJSON
	if err := decodeStrict(b, &j, "ns_table"); err != nil {
		return err
	}
	if err := required("ns_table", map[string]bool{"bytes": j.Bytes != nil}); err != nil {
		return err
	}
	t.Bytes = []byte(*j.Bytes)
	return nil
}

// Payload JSON: {"ns_table": NsTable, "raw_payload": "<base64>"}.

type payloadJSON struct {
	NsTable    *NsTable `json:"ns_table"`
	RawPayload *b64     `json:"raw_payload"`
}

// MarshalJSON encodes p as {"ns_table": {...}, "raw_payload": "<base64>"}.
func (p Payload) MarshalJSON() ([]byte, error) {
	raw := b64(p.Raw)
	if raw == nil {
		raw = b64{}
	}
	return json.Marshal(payloadJSON{NsTable: &p.NsTable, RawPayload: &raw})
}

// UnmarshalJSON decodes the shape of MarshalJSON.
func (p *Payload) UnmarshalJSON(b []byte) error {
	var j payloadJSON
	if err := decodeStrict(b, &j, "payload"); err != nil {
		return err
	}
	if err := required("payload", map[string]bool{"ns_table": j.NsTable != nil, "raw_payload": j.RawPayload != nil}); err != nil {
		return err
	}
	p.NsTable, p.Raw = *j.NsTable, []byte(*j.RawPayload)
	return nil
}

// L1BlockInfo JSON: {"hash": "0x…", "number": N, "timestamp": "0x…"}.

type l1BlockJSON struct {
	Hash      *Hash   `json:"hash"`
	Number    *uint64 `json:"number"`
	Timestamp *string `json:"timestamp"`
}

// MarshalJSON encodes b with its timestamp in 0x hex.
func (b L1BlockInfo) MarshalJSON() ([]byte, error) {
	ts := b.Timestamp.Hex()
	return json.Marshal(l1BlockJSON{Hash: &b.Hash, Number: &b.Number, Timestamp: &ts})
}

// UnmarshalJSON decodes the shape of MarshalJSON.
func (b *L1BlockInfo) UnmarshalJSON(data []byte) error {
	var j l1BlockJSON
	if err := decodeStrict(data, &j, "l1 block"); err != nil {
		return err
	}
	if err := required("l1 block", map[string]bool{"hash": j.Hash != nil, "number": j.Number != nil, "timestamp": j.Timestamp != nil}); err != nil {
		return err
	}
	ts, err := ParseU256(*j.Timestamp)
	if err != nil {
		return fmt.Errorf("%w: l1 block timestamp: %v", ErrInvalidJSON, err)
	}
	b.Hash, b.Number, b.Timestamp = *j.Hash, *j.Number, ts
	return nil
}

// FeeInfo JSON: {"account": "0x…", "amount": "<decimal>"}.

type feeInfoJSON struct {
	Account *Address `json:"account"`
	Amount  *U256    `json:"amount"`
}

// MarshalJSON encodes f as {"account": "0x…", "amount": "<decimal>"}.
func (f FeeInfo) MarshalJSON() ([]byte, error) {
	return json.Marshal(feeInfoJSON{Account: &f.Account, Amount: &f.Amount})
}

// UnmarshalJSON decodes the shape of MarshalJSON.
func (f *FeeInfo) UnmarshalJSON(b []byte) error {
	var j feeInfoJSON
	if err := decodeStrict(b, &j, "fee_info"); err != nil {
		return err
	}
	if err := required("fee_info", map[string]bool{"account": j.Account != nil, "amount": j.Amount != nil}); err != nil {
		return err
	}
	f.Account, f.Amount = *j.Account, *j.Amount
	return nil
}

// BuilderSignature JSON: {"r": "0x…", "s": "0x…", "v": 27}, r and s
// written as 64 hex digits.

type builderSignatureJSON struct {
	R *string `json:"r"`
	S *string `json:"s"`
	V *uint64 `json:"v"`
}

// MarshalJSON encodes s with r and s as "0x" and 64 lowercase hex digits
// (zero-padded to 32 bytes) and v as a number.
func (s BuilderSignature) MarshalJSON() ([]byte, error) {
	hex32 := func(u U256) *string {
		b := u.Bytes32()
		return ptr(encodeHex(b[:]))
	}
	return json.Marshal(builderSignatureJSON{R: hex32(s.R), S: hex32(s.S), V: &s.V})
}

// UnmarshalJSON decodes the shape of MarshalJSON. r and s may have fewer
// than 64 hex digits (leading zeros left out), never more.
func (s *BuilderSignature) UnmarshalJSON(b []byte) error {
	var j builderSignatureJSON
	if err := decodeStrict(b, &j, "builder_signature"); err != nil {
		return err
	}
	if err := required("builder_signature", map[string]bool{"r": j.R != nil, "s": j.S != nil, "v": j.V != nil}); err != nil {
		return err
	}
	var out BuilderSignature
	for _, f := range []struct {
		name string
		text string
		dst  *U256
	}{{"r", *j.R, &out.R}, {"s", *j.S, &out.S}} {
		digits, ok := cutHexPrefix(f.text)
		if !ok || digits == "" || len(digits) > 64 {
			return fmt.Errorf("%w: builder_signature: %s must be 0x and up to 64 hex digits", ErrInvalidJSON, f.name)
		}
		v, err := ParseU256(f.text)
		if err != nil {
			return fmt.Errorf("%w: builder_signature: %s: %v", ErrInvalidJSON, f.name, err)
		}
		*f.dst = v
	}
	out.V = *j.V
	*s = out
	return nil
}

// Header JSON: version 0.1 headers are flat; later ones are
// {"fields": {...}, "version": {"Version": {"major": M, "minor": N}}}.
// Keys are in alphabetical order, as in reference headers.

type headerFieldsJSON struct {
	BlockMerkleTreeRoot *TaggedBase64     `json:"block_merkle_tree_root"`
	BuilderCommitment   *TaggedBase64     `json:"builder_commitment"`
	BuilderSignature    *BuilderSignature `json:"builder_signature"`
	ChainConfig         *chainConfigWrap  `json:"chain_config"`
	FeeInfo             *FeeInfo          `json:"fee_info"`
	FeeMerkleTreeRoot   *TaggedBase64     `json:"fee_merkle_tree_root"`
	Height              *uint64           `json:"height"`
	L1Finalized         *L1BlockInfo      `json:"l1_finalized"`
	L1Head              *uint64           `json:"l1_head"`
	NsTable             *NsTable          `json:"ns_table"`
	PayloadCommitment   *TaggedBase64     `json:"payload_commitment"`
	Timestamp           *uint64           `json:"timestamp"`
}

// chainConfigWrap is {"chain_config": {"Left": ChainConfig}}, or
// {"chain_config": {"Right": "CHAIN_CONFIG~…"}} for a chain config given by
// its commitment.
type chainConfigWrap struct {
	ChainConfig *chainConfigEither `json:"chain_config"`
}

type chainConfigEither struct {
	Left  *ChainConfig  `json:"Left,omitempty"`
	Right *TaggedBase64 `json:"Right,omitempty"`
}

type versionJSON struct {
	Version struct {
		Major *uint16 `json:"major"`
		Minor *uint16 `json:"minor"`
	} `json:"Version"`
}

type versionedHeaderJSON struct {
	Fields  json.RawMessage `json:"fields"`
	Version *versionJSON    `json:"version"`
}

// MarshalJSON encodes h in the shape of its version: the chain config as
// {"Left": …}, or {"Right": "CHAIN_CONFIG~…"} when ChainConfigCommitment is
// set; the payload commitment with PayloadTag; builder_signature and
// l1_finalized null when absent.
func (h Header) MarshalJSON() ([]byte, error) {
	cc := &chainConfigEither{Left: &h.ChainConfig}
	if h.ChainConfigCommitment != nil {
		cc = &chainConfigEither{Right: ptr(h.ChainConfigCommitment.Tagged(TagChainConfig))}
	}
	merkle := func(v []byte) *TaggedBase64 { return &TaggedBase64{Tag: TagMerkle, Value: v} }
	f := headerFieldsJSON{
		BlockMerkleTreeRoot: merkle(h.BlockMerkleTreeRoot),
		BuilderCommitment:   ptr(h.BuilderCommitment.Tagged(TagBuilder)),
		BuilderSignature:    h.BuilderSignature,
		ChainConfig:         &chainConfigWrap{ChainConfig: cc},
		FeeInfo:             &h.FeeInfo,
		FeeMerkleTreeRoot:   merkle(h.FeeMerkleTreeRoot),
		Height:              &h.Height,
		L1Finalized:         h.L1Finalized,
		L1Head:              &h.L1Head,
		NsTable:             &h.NsTable,
		PayloadCommitment:   ptr(h.PayloadCommitment.Tagged(h.PayloadTag())),
		Timestamp:           &h.Timestamp,
	}
	fields, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	if h.Version.Major == 0 && h.Version.Minor <= 1 {
		return fields, nil
	}
	v := &versionJSON{}
	v.Version.Major, v.Version.Minor = &h.Version.Major, &h.Version.Minor
	return json.Marshal(versionedHeaderJSON{Fields: fields, Version: v})
}

// UnmarshalJSON decodes either shape of MarshalJSON. A header without a
// version is a 0.1 header. The payload commitment keeps its tag
// (PayloadCommitmentTag, "" for TagPayload); the other commitments must
// have their own tags.
func (h *Header) UnmarshalJSON(b []byte) error {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return fmt.Errorf("%w: header: %v", ErrInvalidJSON, err)
	}
	version := Version{Major: 0, Minor: 1}
	fields := b
	if _, ok := probe["version"]; ok {
		var w versionedHeaderJSON
		if err := decodeStrict(b, &w, "header"); err != nil {
			return err
		}
		if w.Version == nil || w.Version.Version.Major == nil || w.Version.Version.Minor == nil || w.Fields == nil {
			return fmt.Errorf("%w: header: want {\"fields\": {...}, \"version\": {\"Version\": {\"major\": M, \"minor\": N}}}", ErrInvalidJSON)
		}
		version = Version{Major: *w.Version.Version.Major, Minor: *w.Version.Version.Minor}
		if version.Major == 0 && version.Minor <= 1 {
			return fmt.Errorf("%w: header: version %s is never wrapped", ErrInvalidJSON, version)
		}
		fields = w.Fields
	}
	var f headerFieldsJSON
	if err := decodeStrict(fields, &f, "header"); err != nil {
		return err
	}
	if err := required("header", map[string]bool{
		"block_merkle_tree_root": f.BlockMerkleTreeRoot != nil, "builder_commitment": f.BuilderCommitment != nil,
		"chain_config": f.ChainConfig != nil, "fee_info": f.FeeInfo != nil, "fee_merkle_tree_root": f.FeeMerkleTreeRoot != nil,
		"height": f.Height != nil, "l1_head": f.L1Head != nil, "ns_table": f.NsTable != nil,
		"payload_commitment": f.PayloadCommitment != nil, "timestamp": f.Timestamp != nil,
	}); err != nil {
		return err
	}
	out := Header{
		Version: version, Height: *f.Height, Timestamp: *f.Timestamp, L1Head: *f.L1Head,
		L1Finalized: f.L1Finalized, NsTable: *f.NsTable, FeeInfo: *f.FeeInfo, BuilderSignature: f.BuilderSignature,
	}
	switch cc := f.ChainConfig.ChainConfig; {
	case cc != nil && cc.Left != nil && cc.Right == nil:
		out.ChainConfig = *cc.Left
	case cc != nil && cc.Right != nil && cc.Left == nil:
		c, err := commitmentOf(*cc.Right, TagChainConfig)
		if err != nil {
			return err
		}
		out.ChainConfigCommitment = &c
	default:
		return fmt.Errorf("%w: header: chain_config must hold {\"Left\": <chain config>} or {\"Right\": \"%s~…\"}", ErrInvalidJSON, TagChainConfig)
	}
	var err error
	if out.PayloadCommitment, err = value32(f.PayloadCommitment, "payload_commitment"); err != nil {
		return err
	}
	if f.PayloadCommitment.Tag != TagPayload {
		out.PayloadCommitmentTag = f.PayloadCommitment.Tag
	}
	if out.BuilderCommitment, err = commitmentOf(*f.BuilderCommitment, TagBuilder); err != nil {
		return err
	}
	if f.BlockMerkleTreeRoot.Tag != TagMerkle || f.FeeMerkleTreeRoot.Tag != TagMerkle {
		return fmt.Errorf("%w: header: Merkle roots must be tagged %s", ErrInvalidJSON, TagMerkle)
	}
	out.BlockMerkleTreeRoot, out.FeeMerkleTreeRoot = f.BlockMerkleTreeRoot.Value, f.FeeMerkleTreeRoot.Value
	*h = out
	return nil
}

// value32 takes the 32-byte value of a commitment, whatever its tag.
func value32(t *TaggedBase64, field string) (Commitment, error) {
	if len(t.Value) != 32 {
		return Commitment{}, fmt.Errorf("%w: header: %s value of %d bytes, want 32", ErrInvalidJSON, field, len(t.Value))
	}
	return Commitment(t.Value), nil
}

// QuorumCertificate JSON: {"data": {"leaf_commit": "COMMIT~…"},
// "signatures": {"signature": "BLS_SIG~…", "signers": "<base64 bitmap>"} | null,
// "view_number": N, "vote_commitment": "COMMIT~…"}. The genesis certificate
// has null signatures. The signature encoding is gospresso's own.

type qcJSON struct {
	Data struct {
		LeafCommit *TaggedBase64 `json:"leaf_commit"`
	} `json:"data"`
	Signatures     *qcSignaturesJSON `json:"signatures"`
	ViewNumber     *uint64           `json:"view_number"`
	VoteCommitment *TaggedBase64     `json:"vote_commitment"`
}

type qcSignaturesJSON struct {
	Signature *TaggedBase64 `json:"signature"`
	Signers   *b64          `json:"signers"`
}

// MarshalJSON encodes q in the certificate shape.
func (q QuorumCertificate) MarshalJSON() ([]byte, error) {
	view := uint64(q.View)
	j := qcJSON{ViewNumber: &view, VoteCommitment: ptr(q.Leaf.Tagged(TagLeaf))}
	j.Data.LeafCommit = ptr(q.Leaf.Tagged(TagLeaf))
	if !q.IsGenesis() {
		signers := b64(q.Signers)
		j.Signatures = &qcSignaturesJSON{Signature: &TaggedBase64{Tag: TagSignature, Value: q.Signature}, Signers: &signers}
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes the shape of MarshalJSON.
func (q *QuorumCertificate) UnmarshalJSON(b []byte) error {
	var j qcJSON
	if err := decodeStrict(b, &j, "certificate"); err != nil {
		return err
	}
	if err := required("certificate", map[string]bool{"data.leaf_commit": j.Data.LeafCommit != nil, "view_number": j.ViewNumber != nil}); err != nil {
		return err
	}
	leaf, err := commitmentOf(*j.Data.LeafCommit, TagLeaf)
	if err != nil {
		return err
	}
	out := QuorumCertificate{View: ViewNumber(*j.ViewNumber), Leaf: leaf}
	if s := j.Signatures; s != nil {
		if s.Signature == nil || s.Signers == nil || s.Signature.Tag != TagSignature {
			return fmt.Errorf("%w: certificate: signatures must hold a %s signature and the signers", ErrInvalidJSON, TagSignature)
		}
		out.Signature, out.Signers = s.Signature.Value, Bitmap(*s.Signers)
	}
	*q = out
	return nil
}

// Leaf JSON, in the shape of the v0 availability routes (Leaf1):
// {"block_header", "block_payload": null, "justify_qc", "parent_commitment",
// "upgrade_certificate": null, "view_number"}. The v1 routes add the fields
// of LeafV2JSON.

type leafJSON struct {
	BlockHeader        *Header            `json:"block_header"`
	BlockPayload       *Payload           `json:"block_payload"`
	JustifyQC          *QuorumCertificate `json:"justify_qc"`
	ParentCommitment   *TaggedBase64      `json:"parent_commitment"`
	UpgradeCertificate json.RawMessage    `json:"upgrade_certificate"`
	ViewNumber         *uint64            `json:"view_number"`
}

// MarshalJSON encodes l in the Leaf1 shape.
func (l Leaf) MarshalJSON() ([]byte, error) {
	view := uint64(l.View)
	return json.Marshal(leafJSON{
		BlockHeader: &l.Header, JustifyQC: &l.JustifyQC, ParentCommitment: ptr(l.Parent.Tagged(TagLeaf)),
		UpgradeCertificate: json.RawMessage("null"), ViewNumber: &view,
	})
}

// UnmarshalJSON decodes the Leaf1 shape (a payload, if present, is not
// part of a Leaf and is dropped).
func (l *Leaf) UnmarshalJSON(b []byte) error {
	var j leafJSON
	if err := decodeStrict(b, &j, "leaf"); err != nil {
		return err
	}
	return j.into(l)
}

func (j *leafJSON) into(l *Leaf) error {
	if err := required("leaf", map[string]bool{"block_header": j.BlockHeader != nil, "justify_qc": j.JustifyQC != nil,
		"parent_commitment": j.ParentCommitment != nil, "view_number": j.ViewNumber != nil}); err != nil {
		return err
	}
	parent, err := commitmentOf(*j.ParentCommitment, TagLeaf)
	if err != nil {
		return err
	}
	*l = Leaf{View: ViewNumber(*j.ViewNumber), Parent: parent, Header: *j.BlockHeader, JustifyQC: *j.JustifyQC}
	return nil
}

// LeafV2 is a Leaf in the shape of the v1 availability routes (Leaf2): the
// Leaf1 fields and next_epoch_justify_qc, view_change_evidence,
// next_drb_result (all null) and with_epoch (false), which gospresso's
// epoch-less networks never set.
type LeafV2 struct{ Leaf }

type leafV2JSON struct {
	leafJSON
	NextDRBResult      json.RawMessage `json:"next_drb_result"`
	NextEpochJustifyQC json.RawMessage `json:"next_epoch_justify_qc"`
	ViewChangeEvidence json.RawMessage `json:"view_change_evidence"`
	WithEpoch          *bool           `json:"with_epoch"`
}

// MarshalJSON encodes l in the Leaf2 shape.
func (l LeafV2) MarshalJSON() ([]byte, error) {
	view := uint64(l.View)
	null := json.RawMessage("null")
	no := false
	return json.Marshal(leafV2JSON{
		leafJSON: leafJSON{BlockHeader: &l.Header, JustifyQC: &l.JustifyQC, ParentCommitment: ptr(l.Parent.Tagged(TagLeaf)),
			UpgradeCertificate: null, ViewNumber: &view},
		NextDRBResult: null, NextEpochJustifyQC: null, ViewChangeEvidence: null, WithEpoch: &no,
	})
}

// UnmarshalJSON decodes the Leaf2 shape.
func (l *LeafV2) UnmarshalJSON(b []byte) error {
	var j leafV2JSON
	if err := decodeStrict(b, &j, "leaf"); err != nil {
		return err
	}
	return j.leafJSON.into(&l.Leaf)
}
