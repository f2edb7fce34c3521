package keys

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/twistededwards"

	"github.com/gospresso/gospresso/types"
)

// edwardsY encodes a point of BN254's twisted Edwards curve by its y
// coordinate (32 bytes little-endian, top bit = sign of x), as gnark-crypto
// compresses points.
func edwardsY(y *big.Int, negativeX bool) []byte {
	b := y.FillBytes(make([]byte, 32))
	if negativeX {
		b[0] |= 0x80
	}
	slices.Reverse(b)
	return b
}

// offCurveY returns a y for which no x puts (x, y) on the curve.
func offCurveY(t *testing.T) *big.Int {
	t.Helper()
	c := twistededwards.GetEdwardsCurve()
	for i := uint64(2); i < 100; i++ {
		var y, y2, num, den, x2, one fr.Element
		y.SetUint64(i)
		y2.Square(&y)
		one.SetOne()
		num.Sub(&one, &y2)
		den.Mul(&c.D, &y2)
		den.Sub(&c.A, &den)
		x2.Div(&num, &den)
		if x2.Legendre() == -1 {
			return new(big.Int).SetUint64(i)
		}
	}
	t.Fatal("no y found")
	return nil
}

func TestStateSignVerify(t *testing.T) {
	k0, k1 := derived(t, 0).State, derived(t, 1).State
	msg := []byte("light client state 17")
	sig, err := k0.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	other, err := k1.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	empty, err := k0.Sign(nil)
	if err != nil {
		t.Fatal(err)
	}
	flipped := sig.Bytes()
	flipped[40] ^= 1
	tamperedS, err := StateSignatureFromBytes(flipped)
	if err != nil {
		t.Fatalf("tampered S still decodes: %v", err)
	}
	tests := []struct {
		name string
		pub  StatePubKey
		msg  []byte
		sig  StateSignature
		want bool
	}{
		{"valid", k0.PubKey(), msg, sig, true},
		{"empty message", k0.PubKey(), nil, empty, true},
		{"wrong message", k0.PubKey(), []byte("light client state 18"), sig, false},
		{"wrong key", k1.PubKey(), msg, sig, false},
		{"other key's signature", k0.PubKey(), msg, other, false},
		{"tampered S", k0.PubKey(), msg, tamperedS, false},
		{"zero signature", k0.PubKey(), msg, StateSignature{}, false},
		{"zero key", StatePubKey{}, msg, sig, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.pub.Verify(tt.msg, tt.sig); got != tt.want {
				t.Fatalf("Verify = %v, want %v", got, tt.want)
			}
		})
	}
	again, err := k0.Sign(msg)
	if err != nil || again != sig {
		t.Fatal("state signing is not deterministic")
	}
	var zero StateKey
	if _, err := zero.Sign(msg); !errors.Is(err, ErrZeroKey) {
		t.Fatalf("zero key Sign: err = %v", err)
	}
	if !zero.PubKey().IsZero() || zero.Secret() != "" || !zero.IsZero() {
		t.Fatal("zero StateKey should produce zero values")
	}
}

func TestMessageElement(t *testing.T) {
	// The documented mapping: SHA-256(msg) as a big-endian integer mod r.
	for _, msg := range []string{"", "gospresso", strings.Repeat("x", 1000)} {
		e := messageElement([]byte(msg))
		want := new(big.Int).SetBytes(sha256Sum([]byte(msg)))
		want.Mod(want, fr.Modulus())
		if got := new(big.Int).SetBytes(e[:]); got.Cmp(want) != 0 {
			t.Fatalf("messageElement(%q) = %x, want %x", msg, got, want)
		}
	}
}

func TestStatePubKeyRoundTrip(t *testing.T) {
	pub := derived(t, 0).State.PubKey()
	fromBytes, err := StatePubKeyFromBytes(pub.Bytes())
	if err != nil || fromBytes != pub {
		t.Fatalf("StatePubKeyFromBytes(Bytes()) = %v, %v", fromBytes, err)
	}
	parsed, err := ParseStatePubKey(pub.String())
	if err != nil || parsed != pub {
		t.Fatalf("ParseStatePubKey(String()) = %v, %v", parsed, err)
	}
	js, err := json.Marshal(pub)
	if err != nil || string(js) != `"`+pub.String()+`"` {
		t.Fatalf("json = %s, %v", js, err)
	}
	var back StatePubKey
	if err := json.Unmarshal(js, &back); err != nil || back != pub {
		t.Fatalf("json round trip = %v, %v", back, err)
	}
	if _, err := (StatePubKey{}).MarshalText(); !errors.Is(err, ErrZeroKey) {
		t.Fatalf("zero MarshalText: err = %v", err)
	}
	if (StatePubKey{}).String() != "" {
		t.Fatal("zero state public key should print empty")
	}
}

func TestStatePubKeyDecodeErrors(t *testing.T) {
	q := fr.Modulus()
	valid := derived(t, 0).State.PubKey().Bytes()
	tests := []struct {
		name  string
		bytes []byte
		want  error
	}{
		{"empty", nil, ErrBadLength},
		{"short", valid[:31], ErrBadLength},
		{"long", append(bytes.Clone(valid), 0), ErrBadLength},
		{"identity", edwardsY(big.NewInt(1), false), ErrIdentity},
		{"identity with sign bit", edwardsY(big.NewInt(1), true), ErrInvalidPoint},
		{"y not below q", edwardsY(new(big.Int).Add(q, big.NewInt(1)), false), ErrInvalidPoint},
		{"not on curve", edwardsY(offCurveY(t), false), ErrInvalidPoint},
		{"order-2 point (0, -1)", edwardsY(new(big.Int).Sub(q, big.NewInt(1)), false), ErrNotInSubgroup},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := StatePubKeyFromBytes(tt.bytes); !errors.Is(err, tt.want) {
				t.Fatalf("StatePubKeyFromBytes: err = %v, want %v", err, tt.want)
			}
			s := tagged(TagStatePubKey, tt.bytes)
			if _, err := ParseStatePubKey(s); !errors.Is(err, tt.want) {
				t.Fatalf("ParseStatePubKey: err = %v, want %v", err, tt.want)
			}
			var u StatePubKey
			if err := u.UnmarshalText([]byte(s)); !errors.Is(err, tt.want) {
				t.Fatalf("UnmarshalText: err = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := ParseStatePubKey(tagged(TagStakingPubKey, valid)); !errors.Is(err, ErrWrongTag) {
		t.Fatalf("wrong tag: err = %v", err)
	}
	if _, err := ParseStatePubKey(tamper(tagged(TagStatePubKey, valid))); !errors.Is(err, types.ErrIncorrectChecksum) {
		t.Fatalf("bad checksum: err = %v", err)
	}
}

func TestStateSignatureRoundTripAndErrors(t *testing.T) {
	sig, err := derived(t, 0).State.Sign([]byte("m"))
	if err != nil {
		t.Fatal(err)
	}
	fromBytes, err := StateSignatureFromBytes(sig.Bytes())
	if err != nil || fromBytes != sig {
		t.Fatalf("StateSignatureFromBytes(Bytes()) = %v, %v", fromBytes, err)
	}
	parsed, err := ParseStateSignature(sig.String())
	if err != nil || parsed != sig {
		t.Fatalf("ParseStateSignature(String()) = %v, %v", parsed, err)
	}
	text, err := sig.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	var u StateSignature
	if err := u.UnmarshalText(text); err != nil || u != sig {
		t.Fatalf("UnmarshalText = %v, %v", u, err)
	}
	if _, err := (StateSignature{}).MarshalText(); !errors.Is(err, ErrZeroKey) {
		t.Fatalf("zero MarshalText: err = %v", err)
	}

	valid := sig.Bytes()
	order := twistededwards.GetEdwardsCurve().Order
	bigS := append(bytes.Clone(valid[:32]), order.FillBytes(make([]byte, 32))...)
	zeroS := append(bytes.Clone(valid[:32]), make([]byte, 32)...)
	zeroR := append(make([]byte, 32), valid[32:]...)
	offR := append(edwardsY(offCurveY(t), false), valid[32:]...)
	signBitR := append(edwardsY(big.NewInt(1), true), valid[32:]...)
	tests := []struct {
		name  string
		bytes []byte
		want  error
	}{
		{"empty", nil, ErrBadLength},
		{"short", valid[:63], ErrBadLength},
		{"S equal to order", bigS, ErrInvalidPoint},
		{"S zero", zeroS, ErrInvalidPoint},
		{"R zero", zeroR, ErrInvalidPoint},
		{"R not on curve", offR, ErrInvalidPoint},
		{"R non-canonical", signBitR, ErrInvalidPoint},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := StateSignatureFromBytes(tt.bytes); !errors.Is(err, tt.want) {
				t.Fatalf("StateSignatureFromBytes: err = %v, want %v", err, tt.want)
			}
			if _, err := ParseStateSignature(tagged(TagStateSignature, tt.bytes)); !errors.Is(err, tt.want) {
				t.Fatalf("ParseStateSignature: err = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := ParseStateSignature(tagged(TagSignature, valid)); !errors.Is(err, ErrWrongTag) {
		t.Fatalf("wrong tag: err = %v", err)
	}
}

func TestParseStateKey(t *testing.T) {
	k := derived(t, 0).State
	parsed, err := ParseStateKey(k.Secret())
	if err != nil {
		t.Fatal(err)
	}
	if parsed.PubKey() != k.PubKey() || parsed.Secret() != k.Secret() {
		t.Fatal("ParseStateKey(Secret()) is a different key")
	}
	// Any 32-byte seed is a key, the all-zero one included.
	if z, err := ParseStateKey(tagged(TagStateKey, make([]byte, 32))); err != nil || z.PubKey().IsZero() {
		t.Fatalf("zero seed: %v", err)
	}
	secretData := strings.SplitN(k.Secret(), "~", 2)[1]
	tests := []struct {
		name  string
		input string
		want  error
	}{
		{"short", tagged(TagStateKey, make([]byte, 31)), ErrBadLength},
		{"long", tagged(TagStateKey, make([]byte, 96)), ErrBadLength},
		{"wrong tag", tagged(TagStakingKey, make([]byte, 32)), ErrWrongTag},
		{"bad checksum", tamper(k.Secret()), types.ErrIncorrectChecksum},
		{"empty", "", types.ErrMissingDelimiter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseStateKey(tt.input)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), secretData[:12]) {
				t.Fatalf("error %q repeats the secret", err)
			}
		})
	}
}

func TestExpandReader(t *testing.T) {
	seed := [StateKeySize]byte{1, 2, 3}
	r := &expandReader{seed: seed}
	got := make([]byte, 100)
	if n, err := r.Read(got[:7]); n != 7 || err != nil {
		t.Fatalf("Read = %d, %v", n, err)
	}
	if n, err := r.Read(got[7:]); n != 93 || err != nil {
		t.Fatalf("Read = %d, %v", n, err)
	}
	var want []byte
	for i := byte(0); i < 4; i++ {
		in := append(seed[:], i, 0, 0, 0, 0, 0, 0, 0) // u64le(i)
		want = append(want, sha256Sum(in)...)
	}
	if !bytes.Equal(got, want[:100]) {
		t.Fatalf("expandReader stream = %x, want %x", got, want[:100])
	}
}
