package keys

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"log/slog"

	blst "github.com/supranational/blst/bindings/go"

	"github.com/gospresso/gospresso/types"
)

// TaggedBase64 tags of the staking (BLS) types.
const (
	TagStakingPubKey     = "BLS_VER_KEY"
	TagStakingKey        = "BLS_SIGNING_KEY"
	TagProofOfPossession = "BLS_POP"
	TagSignature         = "BLS_SIG"
)

// redactedStakingKeyStr is what a StakingKey prints instead of its secret.
const redactedStakingKeyStr = TagStakingKey + "~<redacted>"

// Sizes of the staking (BLS) encodings in bytes.
const (
	StakingPubKeySize = blst.BLST_P1_COMPRESS_BYTES // compressed G1 point
	StakingKeySize    = blst.BLST_SCALAR_BYTES      // big-endian scalar
	SignatureSize     = blst.BLST_P2_COMPRESS_BYTES // compressed G2 point
)

// Domain separation tags (docs/keys.md, "Staking keys").
const (
	// SignatureDST is the hash-to-G2 domain of ordinary staking signatures.
	SignatureDST = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
	// ProofOfPossessionDST is the hash-to-G2 domain of proofs of possession.
	ProofOfPossessionDST = "BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
)

// blstSuccess is BLST_SUCCESS of blst.h, returned by the pairing functions.
const blstSuccess = 0

// compressedFlag is set in the first byte of every compressed point encoding;
// infinityFlag marks the identity point.
const (
	compressedFlag = 0x80
	infinityFlag   = 0x40
)

// StakingPubKey is a BLS12-381 public key: a G1 point in the prime-order
// subgroup, never the identity. Values are comparable with ==. The zero value
// is not a valid key: it verifies nothing and prints as an empty key.
type StakingPubKey struct {
	compressed [StakingPubKeySize]byte
	point      blst.P1Affine
}

// StakingPubKeyFromBytes decodes a 48-byte compressed G1 point. It rejects
// non-canonical encodings, points not on the curve, the identity and points
// outside the prime-order subgroup.
func StakingPubKeyFromBytes(b []byte) (StakingPubKey, error) {
	var k StakingPubKey
	if len(b) != StakingPubKeySize {
		return k, errorf(ErrBadLength, "keys: staking public key: %d bytes, want %d", len(b), StakingPubKeySize)
	}
	if b[0]&compressedFlag == 0 {
		return k, errorf(ErrInvalidPoint, "keys: staking public key: compression flag not set (want a compressed G1 point)")
	}
	if b[0]&infinityFlag != 0 {
		return k, errorf(ErrIdentity, "keys: staking public key: is the identity point")
	}
	if k.point.Uncompress(b) == nil || !bytes.Equal(k.point.Compress(), b) {
		return StakingPubKey{}, errorf(ErrInvalidPoint, "keys: staking public key: not a canonical compressed G1 point")
	}
	if !k.point.InG1() {
		return StakingPubKey{}, errorf(ErrNotInSubgroup, "keys: staking public key: G1 point not in the prime-order subgroup")
	}
	copy(k.compressed[:], b)
	return k, nil
}

// ParseStakingPubKey parses the text form BLS_VER_KEY~... with the checks of
// StakingPubKeyFromBytes.
func ParseStakingPubKey(s string) (StakingPubKey, error) {
	v, err := decodeTagged(s, TagStakingPubKey)
	if err != nil {
		return StakingPubKey{}, fmt.Errorf("keys: staking public key %s: %w", quote(s), err)
	}
	k, err := StakingPubKeyFromBytes(v)
	if err != nil {
		return StakingPubKey{}, fmt.Errorf("%w (in %s)", err, quote(s))
	}
	return k, nil
}

// IsZero reports whether k is the zero value (no key).
func (k StakingPubKey) IsZero() bool { return k.compressed[0] == 0 }

// Bytes returns the 48-byte compressed encoding.
func (k StakingPubKey) Bytes() []byte {
	b := k.compressed
	return b[:]
}

// String returns the text form BLS_VER_KEY~..., or "" for the zero value.
func (k StakingPubKey) String() string {
	if k.IsZero() {
		return ""
	}
	return types.TaggedBase64{Tag: TagStakingPubKey, Value: k.compressed[:]}.String()
}

// MarshalText implements encoding.TextMarshaler. The zero value fails.
func (k StakingPubKey) MarshalText() ([]byte, error) {
	if k.IsZero() {
		return nil, errorf(ErrZeroKey, "keys: marshal staking public key: zero value")
	}
	return []byte(k.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseStakingPubKey.
func (k *StakingPubKey) UnmarshalText(text []byte) error {
	v, err := ParseStakingPubKey(string(text))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// Verify reports whether sig is a valid signature of msg (signature DST) by k.
// It does one pairing check and never decompresses or re-validates points.
func (k StakingPubKey) Verify(msg []byte, sig Signature) bool {
	if k.IsZero() || sig.IsZero() {
		return false
	}
	return verifyOne(&k.point, &sig.point, msg, SignatureDST)
}

// VerifyPossession checks that pop is k's proof of possession. It returns an
// error wrapping ErrBadProofOfPossession when it is not.
func (k StakingPubKey) VerifyPossession(pop ProofOfPossession) error {
	if k.IsZero() {
		return errorf(ErrZeroKey, "keys: verify proof of possession: zero staking public key")
	}
	if pop.sig.IsZero() || !verifyOne(&k.point, &pop.sig.point, k.compressed[:], ProofOfPossessionDST) {
		return errorf(ErrBadProofOfPossession, "keys: proof of possession %s does not verify for %s", pop, k)
	}
	return nil
}

// verifyOne checks e(pk, H(msg)) == e(g1, sig) in one pairing context on the
// calling goroutine.
func verifyOne(pk *blst.P1Affine, sig *blst.P2Affine, msg []byte, dst string) bool {
	ctx := blst.PairingCtx(true, []byte(dst))
	if blst.PairingAggregatePkInG1(ctx, pk, false, sig, false, msg) != blstSuccess {
		return false
	}
	blst.PairingCommit(ctx)
	return blst.PairingFinalVerify(ctx, nil)
}

// Signature is a BLS12-381 signature: a G2 point in the prime-order subgroup.
// Values are comparable with ==. The zero value verifies nothing.
type Signature struct {
	compressed [SignatureSize]byte
	point      blst.P2Affine
}

// SignatureFromBytes decodes a 96-byte compressed G2 point. It rejects
// non-canonical encodings, points not on the curve, the identity and points
// outside the prime-order subgroup.
func SignatureFromBytes(b []byte) (Signature, error) {
	var s Signature
	if err := decodeG2(&s, b, "signature"); err != nil {
		return Signature{}, err
	}
	return s, nil
}

// decodeG2 fills s from b with the checks of SignatureFromBytes; what names
// the value in errors.
func decodeG2(s *Signature, b []byte, what string) error {
	if len(b) != SignatureSize {
		return errorf(ErrBadLength, "keys: %s: %d bytes, want %d", what, len(b), SignatureSize)
	}
	if b[0]&compressedFlag == 0 {
		return errorf(ErrInvalidPoint, "keys: %s: compression flag not set (want a compressed G2 point)", what)
	}
	if b[0]&infinityFlag != 0 {
		return errorf(ErrIdentity, "keys: %s: is the identity point", what)
	}
	if s.point.Uncompress(b) == nil || !bytes.Equal(s.point.Compress(), b) {
		return errorf(ErrInvalidPoint, "keys: %s: not a canonical compressed G2 point", what)
	}
	if !s.point.InG2() {
		return errorf(ErrNotInSubgroup, "keys: %s: G2 point not in the prime-order subgroup", what)
	}
	copy(s.compressed[:], b)
	return nil
}

// ParseSignature parses the text form BLS_SIG~... with the checks of
// SignatureFromBytes.
func ParseSignature(s string) (Signature, error) {
	v, err := decodeTagged(s, TagSignature)
	if err != nil {
		return Signature{}, fmt.Errorf("keys: signature %s: %w", quote(s), err)
	}
	return SignatureFromBytes(v)
}

// newSignature wraps a point produced by signing or aggregation.
func newSignature(p *blst.P2Affine) Signature {
	s := Signature{point: *p}
	copy(s.compressed[:], p.Compress())
	return s
}

// IsZero reports whether s is the zero value (no signature).
func (s Signature) IsZero() bool { return s.compressed[0] == 0 }

// Bytes returns the 96-byte compressed encoding.
func (s Signature) Bytes() []byte {
	b := s.compressed
	return b[:]
}

// String returns the text form BLS_SIG~..., or "" for the zero value.
func (s Signature) String() string {
	if s.IsZero() {
		return ""
	}
	return types.TaggedBase64{Tag: TagSignature, Value: s.compressed[:]}.String()
}

// MarshalText implements encoding.TextMarshaler. The zero value fails.
func (s Signature) MarshalText() ([]byte, error) {
	if s.IsZero() {
		return nil, errorf(ErrZeroKey, "keys: marshal signature: zero value")
	}
	return []byte(s.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseSignature.
func (s *Signature) UnmarshalText(text []byte) error {
	v, err := ParseSignature(string(text))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ProofOfPossession proves knowledge of a staking key's secret: a signature
// with ProofOfPossessionDST over the 48-byte compressed public key. Values are
// comparable with ==.
type ProofOfPossession struct {
	sig Signature
}

// ParseProofOfPossession parses the text form BLS_POP~... (a 96-byte
// compressed G2 point, checked like SignatureFromBytes).
func ParseProofOfPossession(s string) (ProofOfPossession, error) {
	v, err := decodeTagged(s, TagProofOfPossession)
	if err != nil {
		return ProofOfPossession{}, fmt.Errorf("keys: proof of possession %s: %w", quote(s), err)
	}
	return ProofOfPossessionFromBytes(v)
}

// ProofOfPossessionFromBytes decodes a 96-byte compressed G2 point with the
// checks of SignatureFromBytes.
func ProofOfPossessionFromBytes(b []byte) (ProofOfPossession, error) {
	var p ProofOfPossession
	if err := decodeG2(&p.sig, b, "proof of possession"); err != nil {
		return ProofOfPossession{}, err
	}
	return p, nil
}

// IsZero reports whether p is the zero value.
func (p ProofOfPossession) IsZero() bool { return p.sig.IsZero() }

// Bytes returns the 96-byte compressed encoding.
func (p ProofOfPossession) Bytes() []byte { return p.sig.Bytes() }

// String returns the text form BLS_POP~..., or "" for the zero value.
func (p ProofOfPossession) String() string {
	if p.IsZero() {
		return ""
	}
	return types.TaggedBase64{Tag: TagProofOfPossession, Value: p.sig.compressed[:]}.String()
}

// MarshalText implements encoding.TextMarshaler. The zero value fails.
func (p ProofOfPossession) MarshalText() ([]byte, error) {
	if p.IsZero() {
		return nil, errorf(ErrZeroKey, "keys: marshal proof of possession: zero value")
	}
	return []byte(p.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseProofOfPossession.
func (p *ProofOfPossession) UnmarshalText(text []byte) error {
	v, err := ParseProofOfPossession(string(text))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// StakingKey is a BLS12-381 private key with its cached public key. The secret
// sits behind a pointer and String, GoString and LogValue redact it; use
// Secret for the text form. The zero value is not a key: PubKey returns the
// zero StakingPubKey and Sign the zero Signature.
type StakingKey struct {
	k *stakingSecret
}

type stakingSecret struct {
	sk  blst.SecretKey
	pub StakingPubKey
}

// newStakingKey wraps a valid secret scalar.
func newStakingKey(sk *blst.SecretKey) (StakingKey, error) {
	if !sk.Valid() {
		return StakingKey{}, errorf(ErrInvalidScalar, "keys: staking key: scalar is zero or not below the group order")
	}
	var p blst.P1Affine
	p.From(sk)
	pub, err := StakingPubKeyFromBytes(p.Compress())
	if err != nil {
		return StakingKey{}, fmt.Errorf("keys: staking key: public key: %w", err)
	}
	return StakingKey{k: &stakingSecret{sk: *sk, pub: pub}}, nil
}

// StakingKeyFromBytes decodes a 32-byte big-endian scalar, which must be
// non-zero and below the BLS12-381 group order. Errors never include the bytes.
func StakingKeyFromBytes(b []byte) (StakingKey, error) {
	if len(b) != StakingKeySize {
		return StakingKey{}, errorf(ErrBadLength, "keys: staking key: %d bytes, want %d", len(b), StakingKeySize)
	}
	var sk blst.SecretKey
	if sk.Deserialize(b) == nil {
		return StakingKey{}, errorf(ErrInvalidScalar, "keys: staking key: scalar is zero or not below the group order")
	}
	return newStakingKey(&sk)
}

// ParseStakingKey parses the text form BLS_SIGNING_KEY~... Errors never
// include the key text.
func ParseStakingKey(s string) (StakingKey, error) {
	v, err := decodeTagged(s, TagStakingKey)
	if err != nil {
		return StakingKey{}, fmt.Errorf("keys: staking key: %w", err)
	}
	return StakingKeyFromBytes(v)
}

// IsZero reports whether k is the zero value (no key).
func (k StakingKey) IsZero() bool { return k.k == nil }

// PubKey returns the public key (cached; no computation).
func (k StakingKey) PubKey() StakingPubKey {
	if k.k == nil {
		return StakingPubKey{}
	}
	return k.k.pub
}

// Sign signs msg with SignatureDST.
func (k StakingKey) Sign(msg []byte) Signature {
	if k.k == nil {
		return Signature{}
	}
	var sig blst.P2Affine
	sig.Sign(&k.k.sk, msg, []byte(SignatureDST))
	return newSignature(&sig)
}

// ProvePossession returns the proof of possession of k: a signature with
// ProofOfPossessionDST over the compressed public key.
func (k StakingKey) ProvePossession() ProofOfPossession {
	if k.k == nil {
		return ProofOfPossession{}
	}
	var sig blst.P2Affine
	sig.Sign(&k.k.sk, k.k.pub.compressed[:], []byte(ProofOfPossessionDST))
	return ProofOfPossession{sig: newSignature(&sig)}
}

// Secret returns the private key's text form BLS_SIGNING_KEY~... (the 32-byte
// big-endian scalar). Handle the result as a secret. The zero value gives "".
func (k StakingKey) Secret() string {
	if k.k == nil {
		return ""
	}
	return types.TaggedBase64{Tag: TagStakingKey, Value: k.k.sk.Serialize()}.String()
}

// String returns "BLS_SIGNING_KEY~<redacted>"; it never reveals the secret.
func (k StakingKey) String() string { return redactedStakingKeyStr }

// GoString implements fmt.GoStringer for %#v, redacted like String.
func (k StakingKey) GoString() string { return "keys.StakingKey(" + redactedStakingKeyStr + ")" }

// LogValue implements slog.LogValuer, redacted like String.
func (k StakingKey) LogValue() slog.Value { return slog.StringValue(redactedStakingKeyStr) }

// AggregateSignatures adds signatures into one. The signatures were checked
// when decoded (or made by Sign), so no subgroup checks are repeated.
func AggregateSignatures(sigs []Signature) (Signature, error) {
	if len(sigs) == 0 {
		return Signature{}, errorf(ErrNoSignatures, "keys: aggregate signatures: empty list")
	}
	var agg blst.P2Aggregate
	for i := range sigs {
		if sigs[i].IsZero() {
			return Signature{}, errorf(ErrZeroKey, "keys: aggregate signatures: signature %d is the zero value", i)
		}
		agg.Add(&sigs[i].point, false)
	}
	p := agg.ToAffine()
	if !p.SigValidate(true) {
		return Signature{}, errorf(ErrIdentity, "keys: aggregate signatures: the %d signatures add up to the identity", len(sigs))
	}
	return newSignature(p), nil
}

// VerifyAggregate reports whether agg is an aggregate of signatures of msg by
// every key in pubs (each counted as often as it appears). It adds the public
// keys and does one pairing check. Only use it for keys whose proof of
// possession was verified (rogue-key attacks); false for an empty list.
func VerifyAggregate(pubs []StakingPubKey, msg []byte, agg Signature) bool {
	if len(pubs) == 0 || agg.IsZero() {
		return false
	}
	var sum blst.P1Aggregate
	for i := range pubs {
		if pubs[i].IsZero() {
			return false
		}
		sum.Add(&pubs[i].point, false)
	}
	return verifyOne(sum.ToAffine(), &agg.point, msg, SignatureDST)
}

// VerifyAggregateDistinct reports whether agg is an aggregate of one signature
// by pubs[i] over msgs[i] for every i. Messages may differ (and may repeat:
// the proof-of-possession scheme makes repeats safe). It computes one Miller
// loop per signer, spread over the available cores, and one final
// exponentiation. False for empty or mismatched lists.
func VerifyAggregateDistinct(pubs []StakingPubKey, msgs [][]byte, agg Signature) bool {
	if len(pubs) == 0 || len(pubs) != len(msgs) || agg.IsZero() {
		return false
	}
	pts := make([]*blst.P1Affine, len(pubs))
	ms := make([]blst.Message, len(msgs))
	for i := range pubs {
		if pubs[i].IsZero() {
			return false
		}
		pts[i] = &pubs[i].point
		ms[i] = msgs[i]
	}
	return agg.point.AggregateVerify(false, pts, false, ms, []byte(SignatureDST))
}

// decodeTagged parses a TaggedBase64 string and checks its tag. Its errors do
// not repeat s.
func decodeTagged(s, tag string) ([]byte, error) {
	tb, err := types.ParseTaggedBase64(s)
	if err != nil {
		return nil, err
	}
	if tb.Tag != tag {
		return nil, errorf(ErrWrongTag, "wrong tag %q (want %s)", tb.Tag, tag)
	}
	return tb.Value, nil
}

// maxQuoted bounds how much of a public value error messages repeat.
const maxQuoted = 200

// quote quotes a public value for an error message, shortening long input.
func quote(s string) string {
	if len(s) > maxQuoted {
		return fmt.Sprintf("%q...", s[:maxQuoted])
	}
	return fmt.Sprintf("%q", s)
}

// Point is a message hashed to G2 with SignatureDST: the start of both
// signing it and checking signatures of it. Hashing costs about a fifth
// of a pairing check, so a caller that signs and later checks the same
// message (a vote, and the certificate its votes form) hashes it once
// (HashMessage) and passes the point to SignPoint and Check.Point.
type Point struct{ p blst.P2Affine }

// HashMessage hashes msg to G2 with SignatureDST.
func HashMessage(msg []byte) *Point {
	return &Point{p: *blst.HashToG2(msg, []byte(SignatureDST)).ToAffine()}
}

// SignPoint signs the message hashed to h: k.SignPoint(HashMessage(m))
// equals k.Sign(m).
func (k StakingKey) SignPoint(h *Point) Signature {
	if k.k == nil || h == nil {
		return Signature{}
	}
	var q blst.P2
	q.FromAffine(&h.p)
	return newSignature(q.MultAssign(&k.k.sk).ToAffine())
}

// Check is one signature check of a batch (VerifyBatch): Sig is the
// aggregate of the signatures of every key in Pubs over Msg (one key for a
// single signature). Point, when set, is Msg already hashed
// (HashMessage), and Msg is then not used.
type Check struct {
	Pubs  []StakingPubKey
	Msg   []byte
	Point *Point
	Sig   Signature
}

// VerifyBatch reports whether every check holds, with one pairing product
// for all of them (one Miller loop per check and a single final
// exponentiation). When there are several, each check's terms are
// weighted by a fresh random 64-bit scalar, so that signatures cannot
// make up for each other's errors: a batch with a failing check passes
// with probability at most 2^-64. Only use it for keys whose proof of
// possession was verified; false for an empty batch.
func VerifyBatch(checks []Check) bool {
	if len(checks) == 0 {
		return false
	}
	ctx := blst.PairingCtx(true, []byte(SignatureDST))
	weighted := len(checks) > 1
	for i := range checks {
		c := &checks[i]
		if len(c.Pubs) == 0 || c.Sig.IsZero() {
			return false
		}
		var sum blst.P1Aggregate
		for j := range c.Pubs {
			if c.Pubs[j].IsZero() {
				return false
			}
			sum.Add(&c.Pubs[j].point, false)
		}
		var w *weight
		if weighted {
			if w = newWeight(); w == nil {
				return false
			}
		}
		if !addCheck(ctx, sum.ToAffine(), &c.Sig.point, w, c.Msg, c.Point) {
			return false
		}
	}
	blst.PairingCommit(ctx)
	return blst.PairingFinalVerify(ctx, nil)
}

// weight is a random non-zero 64-bit batch weight, as a blst scalar and
// as the little-endian bytes blst's point multiplication takes.
type weight struct {
	s  blst.Scalar
	le [weightBits / 8]byte
}

const weightBits = 64

func newWeight() *weight {
	w := new(weight)
	if _, err := rand.Read(w.le[:]); err != nil {
		return nil
	}
	w.le[0] |= 1 // never zero
	var be [scalarBytes]byte
	for i, b := range w.le {
		be[scalarBytes-1-i] = b
	}
	if w.s.Deserialize(be[:]) == nil {
		return nil
	}
	return w
}

// addCheck adds e(w·pk, H(msg)) to ctx's product and w·sig to its
// aggregate signature (w nil for a weight of one). A hashed message h is
// paired directly (a raw Miller loop), else blst hashes msg.
func addCheck(ctx blst.Pairing, pk *blst.P1Affine, sig *blst.P2Affine, w *weight, msg []byte, h *Point) bool {
	if h == nil {
		if w == nil {
			return blst.PairingAggregatePkInG1(ctx, pk, false, sig, false, msg) == blstSuccess
		}
		return blst.PairingMulNAggregatePkInG1(ctx, pk, false, sig, false, &w.s, weightBits, msg) == blstSuccess
	}
	// The signature alone (no key): blst adds it, weighted, to the
	// aggregate that the final check pairs with the generator.
	if w == nil {
		if blst.PairingAggregatePkInG1(ctx, nil, false, sig, false, nil) != blstSuccess {
			return false
		}
		blst.PairingRawAggregate(ctx, &h.p, pk)
		return true
	}
	if blst.PairingMulNAggregatePkInG1(ctx, nil, false, sig, false, &w.s, weightBits, nil) != blstSuccess {
		return false
	}
	var p blst.P1
	p.FromAffine(pk)
	blst.PairingRawAggregate(ctx, &h.p, p.MultAssign(w.le[:]).ToAffine())
	return true
}

// scalarBytes is the size of a BLS12-381 scalar's encoding.
const scalarBytes = 32
