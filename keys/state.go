package keys

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"log/slog"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr/mimc"
	"github.com/consensys/gnark-crypto/ecc/bn254/twistededwards"
	"github.com/consensys/gnark-crypto/ecc/bn254/twistededwards/eddsa"

	"github.com/gospresso/gospresso/types"
)

// TaggedBase64 tags of the state (Schnorr) types.
const (
	TagStatePubKey    = "SCHNORR_VER_KEY"
	TagStateKey       = "SCHNORR_SIGNING_KEY"
	TagStateSignature = "SCHNORR_SIG"
)

// redactedStateKeyStr is what a StateKey prints instead of its secret.
const redactedStateKeyStr = TagStateKey + "~<redacted>"

// Sizes of the state (Schnorr) encodings in bytes.
const (
	StatePubKeySize    = fr.Bytes     // compressed twisted Edwards point
	StateKeySize       = 32           // seed
	StateSignatureSize = 2 * fr.Bytes // compressed R ‖ big-endian S
)

// StatePubKey is a Schnorr (EdDSA) public key on BN254's twisted Edwards
// curve: a point in the prime-order subgroup, never the identity. Values are
// comparable with ==. The zero value verifies nothing.
type StatePubKey struct {
	compressed [StatePubKeySize]byte
	point      twistededwards.PointAffine
}

// StatePubKeyFromBytes decodes a 32-byte compressed point, rejecting
// non-canonical encodings, points off the curve or outside the prime-order
// subgroup, and the identity.
func StatePubKeyFromBytes(b []byte) (StatePubKey, error) {
	var k StatePubKey
	if len(b) != StatePubKeySize {
		return k, errorf(ErrBadLength, "keys: state public key: %d bytes, want %d", len(b), StatePubKeySize)
	}
	if _, err := k.point.SetBytes(b); err != nil {
		return StatePubKey{}, errorf(ErrInvalidPoint, "keys: state public key: %v", err)
	}
	if !k.point.IsOnCurve() {
		return StatePubKey{}, errorf(ErrInvalidPoint, "keys: state public key: not a point on the curve")
	}
	if enc := k.point.Bytes(); !bytes.Equal(enc[:], b) {
		return StatePubKey{}, errorf(ErrInvalidPoint, "keys: state public key: not a canonical point encoding")
	}
	if k.point.IsZero() {
		return StatePubKey{}, errorf(ErrIdentity, "keys: state public key: is the identity point")
	}
	if !k.point.IsInSubGroup() {
		return StatePubKey{}, errorf(ErrNotInSubgroup, "keys: state public key: point not in the prime-order subgroup")
	}
	copy(k.compressed[:], b)
	return k, nil
}

// ParseStatePubKey parses the text form SCHNORR_VER_KEY~... with the checks of
// StatePubKeyFromBytes.
func ParseStatePubKey(s string) (StatePubKey, error) {
	v, err := decodeTagged(s, TagStatePubKey)
	if err != nil {
		return StatePubKey{}, fmt.Errorf("keys: state public key %s: %w", quote(s), err)
	}
	k, err := StatePubKeyFromBytes(v)
	if err != nil {
		return StatePubKey{}, fmt.Errorf("%w (in %s)", err, quote(s))
	}
	return k, nil
}

// IsZero reports whether k is the zero value (no key).
func (k StatePubKey) IsZero() bool { return k.compressed == [StatePubKeySize]byte{} }

// Bytes returns the 32-byte compressed encoding.
func (k StatePubKey) Bytes() []byte {
	b := k.compressed
	return b[:]
}

// String returns the text form SCHNORR_VER_KEY~..., or "" for the zero value.
func (k StatePubKey) String() string {
	if k.IsZero() {
		return ""
	}
	return types.TaggedBase64{Tag: TagStatePubKey, Value: k.compressed[:]}.String()
}

// MarshalText implements encoding.TextMarshaler. The zero value fails.
func (k StatePubKey) MarshalText() ([]byte, error) {
	if k.IsZero() {
		return nil, errorf(ErrZeroKey, "keys: marshal state public key: zero value")
	}
	return []byte(k.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseStatePubKey.
func (k *StatePubKey) UnmarshalText(text []byte) error {
	v, err := ParseStatePubKey(string(text))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// Verify reports whether sig is k's signature of msg (see the package
// documentation for how msg becomes a field element).
func (k StatePubKey) Verify(msg []byte, sig StateSignature) bool {
	if k.IsZero() || sig.IsZero() {
		return false
	}
	pub := eddsa.PublicKey{A: k.point}
	m := messageElement(msg)
	ok, err := pub.Verify(sig.b[:], m[:], mimc.NewMiMC())
	return err == nil && ok
}

// messageElement maps a message to the field element gnark-crypto signs:
// SHA-256(msg) as a big-endian integer reduced modulo the BN254 scalar field
// order, written as 32 big-endian bytes.
func messageElement(msg []byte) [fr.Bytes]byte {
	d := sha256.Sum256(msg)
	var e fr.Element
	e.SetBytes(d[:])
	return e.Bytes()
}

// StateSignature is a Schnorr (EdDSA) signature: compressed R ‖ S. Values are
// comparable with ==. The zero value verifies nothing.
type StateSignature struct {
	b [StateSignatureSize]byte
}

// StateSignatureFromBytes decodes a 64-byte signature, rejecting a
// non-canonical R, R outside the subgroup, and S not below the group order.
func StateSignatureFromBytes(b []byte) (StateSignature, error) {
	if len(b) != StateSignatureSize {
		return StateSignature{}, errorf(ErrBadLength, "keys: state signature: %d bytes, want %d", len(b), StateSignatureSize)
	}
	var sig eddsa.Signature
	if _, err := sig.SetBytes(b); err != nil {
		return StateSignature{}, errorf(ErrInvalidPoint, "keys: state signature: %v", err)
	}
	if !bytes.Equal(sig.Bytes(), b) {
		return StateSignature{}, errorf(ErrInvalidPoint, "keys: state signature: not a canonical encoding")
	}
	var s StateSignature
	copy(s.b[:], b)
	return s, nil
}

// ParseStateSignature parses the text form SCHNORR_SIG~... with the checks of
// StateSignatureFromBytes.
func ParseStateSignature(s string) (StateSignature, error) {
	v, err := decodeTagged(s, TagStateSignature)
	if err != nil {
		return StateSignature{}, fmt.Errorf("keys: state signature %s: %w", quote(s), err)
	}
	return StateSignatureFromBytes(v)
}

// IsZero reports whether s is the zero value (no signature).
func (s StateSignature) IsZero() bool { return s.b == [StateSignatureSize]byte{} }

// Bytes returns the 64-byte encoding.
func (s StateSignature) Bytes() []byte {
	b := s.b
	return b[:]
}

// String returns the text form SCHNORR_SIG~..., or "" for the zero value.
func (s StateSignature) String() string {
	if s.IsZero() {
		return ""
	}
	return types.TaggedBase64{Tag: TagStateSignature, Value: s.b[:]}.String()
}

// MarshalText implements encoding.TextMarshaler. The zero value fails.
func (s StateSignature) MarshalText() ([]byte, error) {
	if s.IsZero() {
		return nil, errorf(ErrZeroKey, "keys: marshal state signature: zero value")
	}
	return []byte(s.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseStateSignature.
func (s *StateSignature) UnmarshalText(text []byte) error {
	v, err := ParseStateSignature(string(text))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// StateKey is a Schnorr private key: the 32-byte seed it is derived from plus
// the cached gnark-crypto key pair. The secret sits behind a pointer and
// String, GoString and LogValue redact it; use Secret for the text form.
type StateKey struct {
	k *stateSecret
}

type stateSecret struct {
	seed [StateKeySize]byte
	priv eddsa.PrivateKey
	pub  StatePubKey
}

// StateKeyFromSeed derives the key pair from a 32-byte seed (any value is
// valid); see the package documentation for the exact derivation.
func StateKeyFromSeed(seed [StateKeySize]byte) (StateKey, error) {
	priv, err := eddsa.GenerateKey(&expandReader{seed: seed})
	if err != nil {
		return StateKey{}, fmt.Errorf("keys: state key: generate: %w", err)
	}
	pub, err := StatePubKeyFromBytes(priv.PublicKey.Bytes())
	if err != nil {
		return StateKey{}, fmt.Errorf("keys: state key: public key: %w", err)
	}
	return StateKey{k: &stateSecret{seed: seed, priv: *priv, pub: pub}}, nil
}

// ParseStateKey parses the text form SCHNORR_SIGNING_KEY~... (a 32-byte
// seed). Errors never include the key text.
func ParseStateKey(s string) (StateKey, error) {
	v, err := decodeTagged(s, TagStateKey)
	if err != nil {
		return StateKey{}, fmt.Errorf("keys: state key: %w", err)
	}
	if len(v) != StateKeySize {
		return StateKey{}, errorf(ErrBadLength, "keys: state key: %d bytes, want %d", len(v), StateKeySize)
	}
	return StateKeyFromSeed([StateKeySize]byte(v))
}

// IsZero reports whether k is the zero value (no key).
func (k StateKey) IsZero() bool { return k.k == nil }

// PubKey returns the public key (cached; no computation).
func (k StateKey) PubKey() StatePubKey {
	if k.k == nil {
		return StatePubKey{}
	}
	return k.k.pub
}

// Sign signs msg (reduced to a field element as the package documentation
// describes) with MiMC as the EdDSA hash. Signing is deterministic.
func (k StateKey) Sign(msg []byte) (StateSignature, error) {
	if k.k == nil {
		return StateSignature{}, errorf(ErrZeroKey, "keys: state key: sign with the zero value")
	}
	m := messageElement(msg)
	b, err := k.k.priv.Sign(m[:], mimc.NewMiMC())
	if err != nil {
		return StateSignature{}, fmt.Errorf("keys: state key: sign: %w", err)
	}
	if len(b) != StateSignatureSize {
		return StateSignature{}, errorf(ErrBadLength, "keys: state key: sign: signature of %d bytes, want %d", len(b), StateSignatureSize)
	}
	return StateSignature{b: [StateSignatureSize]byte(b)}, nil
}

// Secret returns the private key's text form SCHNORR_SIGNING_KEY~... (the
// 32-byte seed). Handle the result as a secret. The zero value gives "".
func (k StateKey) Secret() string {
	if k.k == nil {
		return ""
	}
	return types.TaggedBase64{Tag: TagStateKey, Value: k.k.seed[:]}.String()
}

// String returns "SCHNORR_SIGNING_KEY~<redacted>"; it never reveals the secret.
func (k StateKey) String() string { return redactedStateKeyStr }

// GoString implements fmt.GoStringer for %#v, redacted like String.
func (k StateKey) GoString() string { return "keys.StateKey(" + redactedStateKeyStr + ")" }

// LogValue implements slog.LogValuer, redacted like String.
func (k StateKey) LogValue() slog.Value { return slog.StringValue(redactedStateKeyStr) }

// expandReader yields SHA-256(seed ‖ u64le(0)) ‖ SHA-256(seed ‖ u64le(1)) ‖ ...
// Every Read fills its whole buffer.
type expandReader struct {
	seed    [StateKeySize]byte
	counter uint64
	buf     []byte
}

func (r *expandReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(r.buf) == 0 {
			var in [StateKeySize + 8]byte
			copy(in[:], r.seed[:])
			binary.LittleEndian.PutUint64(in[StateKeySize:], r.counter)
			r.counter++
			block := sha256.Sum256(in[:])
			r.buf = block[:]
		}
		c := copy(p[n:], r.buf)
		r.buf = r.buf[c:]
		n += c
	}
	return n, nil
}
