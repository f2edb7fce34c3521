package keys

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/gospresso/gospresso/types"
)

// Compile-time check: the public types are comparable with ==.
var (
	_ = StakingPubKey{} == StakingPubKey{}
	_ = Signature{} == Signature{}
	_ = ProofOfPossession{} == ProofOfPossession{}
	_ = StatePubKey{} == StatePubKey{}
	_ = StateSignature{} == StateSignature{}
)

// blsP is the BLS12-381 base field modulus.
var blsP, _ = new(big.Int).SetString("1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab", 16)

// blsR is the BLS12-381 group order.
var blsR, _ = new(big.Int).SetString("73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001", 16)

// g1Compressed encodes (x, y) on y² = x³ + 4 in the compressed form.
func g1Compressed(x, y *big.Int) []byte {
	b := make([]byte, StakingPubKeySize)
	x.FillBytes(b)
	b[0] |= compressedFlag
	half := new(big.Int).Rsh(blsP, 1)
	if y.Cmp(half) > 0 {
		b[0] |= 0x20 // y is the lexicographically larger root
	}
	return b
}

// offSubgroupG1 returns a compressed point on the curve y² = x³ + 4 that is
// not in the prime-order subgroup: the first x = 1, 2, ... with x³ + 4 a
// square. (The cofactor is large, so such a point is essentially never in G1;
// the test checks blst agrees it is on the curve.)
func offSubgroupG1(t *testing.T) []byte {
	t.Helper()
	b := offSubgroupG1Seed()
	if b == nil {
		t.Fatal("no x found")
	}
	return b
}

// offSubgroupG1Seed is offSubgroupG1 without a testing.T (nil if none found).
func offSubgroupG1Seed() []byte {
	for x := int64(1); x < 100; x++ {
		bx := big.NewInt(x)
		rhs := new(big.Int).Exp(bx, big.NewInt(3), blsP)
		rhs.Add(rhs, big.NewInt(4)).Mod(rhs, blsP)
		if y := new(big.Int).ModSqrt(rhs, blsP); y != nil {
			return g1Compressed(bx, y)
		}
	}
	return nil
}

// notOnCurveG1 returns a compressed encoding whose x has no y on the curve.
func notOnCurveG1(t *testing.T) []byte {
	t.Helper()
	for x := int64(1); x < 100; x++ {
		bx := big.NewInt(x)
		rhs := new(big.Int).Exp(bx, big.NewInt(3), blsP)
		rhs.Add(rhs, big.NewInt(4)).Mod(rhs, blsP)
		if new(big.Int).ModSqrt(rhs, blsP) == nil {
			return g1Compressed(bx, big.NewInt(0))
		}
	}
	t.Fatal("no x found")
	return nil
}

// tamper changes one character in the middle of a TaggedBase64 text, so the
// checksum no longer matches.
func tamper(s string) string {
	i := strings.IndexByte(s, '~') + 5
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

func bigOne() *big.Int { return big.NewInt(1) }

func tagged(tag string, v []byte) string { return types.TaggedBase64{Tag: tag, Value: v}.String() }

func TestStakingPubKeyRoundTrip(t *testing.T) {
	pub := derived(t, 0).Staking.PubKey()
	if pub.IsZero() {
		t.Fatal("derived public key is zero")
	}
	if len(pub.Bytes()) != StakingPubKeySize {
		t.Fatalf("Bytes() has %d bytes", len(pub.Bytes()))
	}
	fromBytes, err := StakingPubKeyFromBytes(pub.Bytes())
	if err != nil || fromBytes != pub {
		t.Fatalf("StakingPubKeyFromBytes(Bytes()) = %v, %v; want %v", fromBytes, err, pub)
	}
	parsed, err := ParseStakingPubKey(pub.String())
	if err != nil || parsed != pub {
		t.Fatalf("ParseStakingPubKey(String()) = %v, %v", parsed, err)
	}
	b := pub.Bytes()
	b[0] ^= 1 // Bytes returns a copy
	if pub.Bytes()[0] == b[0] {
		t.Fatal("Bytes aliases the key")
	}
	js, err := json.Marshal(map[string]StakingPubKey{"k": pub})
	if err != nil || string(js) != `{"k":"`+pub.String()+`"}` {
		t.Fatalf("json = %s, %v", js, err)
	}
	var back map[string]StakingPubKey
	if err := json.Unmarshal(js, &back); err != nil || back["k"] != pub {
		t.Fatalf("json round trip = %v, %v", back, err)
	}
	if _, err := (StakingPubKey{}).MarshalText(); !errors.Is(err, ErrZeroKey) {
		t.Fatalf("zero MarshalText: err = %v", err)
	}
	if (StakingPubKey{}).String() != "" || !(StakingPubKey{}).IsZero() {
		t.Fatal("zero value should print empty and be zero")
	}
}

func TestStakingPubKeyDecodeErrors(t *testing.T) {
	valid := derived(t, 0).Staking.PubKey().Bytes()
	identity := make([]byte, StakingPubKeySize)
	identity[0] = compressedFlag | infinityFlag
	uncompressedFlag := bytes.Clone(valid)
	uncompressedFlag[0] &^= compressedFlag
	xTooBig := g1Compressed(new(big.Int).Add(blsP, big.NewInt(1)), big.NewInt(0))
	infinityGarbage := bytes.Clone(identity)
	infinityGarbage[47] = 1

	tests := []struct {
		name  string
		bytes []byte
		want  error
	}{
		{"empty", nil, ErrBadLength},
		{"short", valid[:47], ErrBadLength},
		{"long", append(bytes.Clone(valid), 0), ErrBadLength},
		{"uncompressed form", uncompressedFlag, ErrInvalidPoint},
		{"identity", identity, ErrIdentity},
		{"identity with garbage", infinityGarbage, ErrIdentity},
		{"x not below p", xTooBig, ErrInvalidPoint},
		{"not on curve", notOnCurveG1(t), ErrInvalidPoint},
		{"not in subgroup", offSubgroupG1(t), ErrNotInSubgroup},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := StakingPubKeyFromBytes(tt.bytes)
			if !errors.Is(err, tt.want) {
				t.Fatalf("StakingPubKeyFromBytes: err = %v, want %v", err, tt.want)
			}
			if !k.IsZero() {
				t.Fatal("failed decode returned a non-zero key")
			}
			s := tagged(TagStakingPubKey, tt.bytes)
			if _, err := ParseStakingPubKey(s); !errors.Is(err, tt.want) {
				t.Fatalf("ParseStakingPubKey: err = %v, want %v", err, tt.want)
			} else if !strings.HasPrefix(err.Error(), "keys: staking public key") {
				t.Fatalf("error %q lacks context", err)
			}
			var u StakingPubKey
			if err := u.UnmarshalText([]byte(s)); !errors.Is(err, tt.want) {
				t.Fatalf("UnmarshalText: err = %v, want %v", err, tt.want)
			}
		})
	}

	// The off-subgroup point really is on the curve: blst decompresses it.
	var p = offSubgroupG1(t)
	if _, err := StakingPubKeyFromBytes(p); !strings.Contains(err.Error(), "subgroup") {
		t.Fatalf("off-subgroup error = %v", err)
	}

	text := derived(t, 0).Staking.PubKey().String()
	textTests := []struct {
		name  string
		input string
		want  error
	}{
		{"wrong tag", tagged(TagStateKey, valid), ErrWrongTag},
		{"private tag", tagged(TagStakingKey, valid), ErrWrongTag},
		{"bad checksum", tamper(text), types.ErrIncorrectChecksum},
		{"no delimiter", "BLS_VER_KEY", types.ErrMissingDelimiter},
		{"padding", text + "=", types.ErrBadBase64},
	}
	for _, tt := range textTests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseStakingPubKey(tt.input); !errors.Is(err, tt.want) {
				t.Fatalf("ParseStakingPubKey(%q): err = %v, want %v", tt.input, err, tt.want)
			}
		})
	}
}

func TestSignVerify(t *testing.T) {
	k0, k1 := derived(t, 0).Staking, derived(t, 1).Staking
	msg := []byte("view 42")
	sig := k0.Sign(msg)
	tests := []struct {
		name string
		pub  StakingPubKey
		msg  []byte
		sig  Signature
		want bool
	}{
		{"valid", k0.PubKey(), msg, sig, true},
		{"empty message", k0.PubKey(), nil, k0.Sign(nil), true},
		{"wrong message", k0.PubKey(), []byte("view 43"), sig, false},
		{"wrong key", k1.PubKey(), msg, sig, false},
		{"other key's signature", k0.PubKey(), msg, k1.Sign(msg), false},
		{"proof of possession is not a signature", k0.PubKey(), k0.PubKey().Bytes(), k0.ProvePossession().sig, false},
		{"zero signature", k0.PubKey(), msg, Signature{}, false},
		{"zero key", StakingPubKey{}, msg, sig, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.pub.Verify(tt.msg, tt.sig); got != tt.want {
				t.Fatalf("Verify = %v, want %v", got, tt.want)
			}
		})
	}
	if sig != k0.Sign(msg) {
		t.Fatal("signing is not deterministic")
	}
	var zero StakingKey
	if !zero.Sign(msg).IsZero() || !zero.PubKey().IsZero() || !zero.ProvePossession().IsZero() || zero.Secret() != "" || !zero.IsZero() {
		t.Fatal("zero StakingKey should produce zero values")
	}
}

func TestSignatureRoundTrip(t *testing.T) {
	sig := derived(t, 0).Staking.Sign([]byte("m"))
	fromBytes, err := SignatureFromBytes(sig.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	// A signature made by Sign and the same one decoded from bytes are ==.
	if fromBytes != sig {
		t.Fatal("SignatureFromBytes(sig.Bytes()) != sig")
	}
	parsed, err := ParseSignature(sig.String())
	if err != nil || parsed != sig {
		t.Fatalf("ParseSignature(String()) = %v, %v", parsed, err)
	}
	text, err := sig.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	var u Signature
	if err := u.UnmarshalText(text); err != nil || u != sig {
		t.Fatalf("UnmarshalText = %v, %v", u, err)
	}
	if _, err := (Signature{}).MarshalText(); !errors.Is(err, ErrZeroKey) {
		t.Fatalf("zero MarshalText: err = %v", err)
	}
	if (Signature{}).String() != "" {
		t.Fatal("zero signature should print empty")
	}
}

func TestSignatureDecodeErrors(t *testing.T) {
	valid := derived(t, 0).Staking.Sign([]byte("m")).Bytes()
	identity := make([]byte, SignatureSize)
	identity[0] = compressedFlag | infinityFlag
	noFlag := bytes.Clone(valid)
	noFlag[0] &^= compressedFlag
	garbage := bytes.Repeat([]byte{0x9f}, SignatureSize) // x ≥ p
	tests := []struct {
		name  string
		bytes []byte
		want  error
	}{
		{"empty", nil, ErrBadLength},
		{"short", valid[:95], ErrBadLength},
		{"public key sized", valid[:48], ErrBadLength},
		{"uncompressed form", noFlag, ErrInvalidPoint},
		{"identity", identity, ErrIdentity},
		{"not a point", garbage, ErrInvalidPoint},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := SignatureFromBytes(tt.bytes); !errors.Is(err, tt.want) {
				t.Fatalf("SignatureFromBytes: err = %v, want %v", err, tt.want)
			}
			if _, err := ParseSignature(tagged(TagSignature, tt.bytes)); !errors.Is(err, tt.want) {
				t.Fatalf("ParseSignature: err = %v, want %v", err, tt.want)
			}
			if _, err := ProofOfPossessionFromBytes(tt.bytes); !errors.Is(err, tt.want) {
				t.Fatalf("ProofOfPossessionFromBytes: err = %v, want %v", err, tt.want)
			}
			if _, err := ParseProofOfPossession(tagged(TagProofOfPossession, tt.bytes)); !errors.Is(err, tt.want) {
				t.Fatalf("ParseProofOfPossession: err = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := ParseSignature(tagged(TagProofOfPossession, valid)); !errors.Is(err, ErrWrongTag) {
		t.Fatalf("ParseSignature of a BLS_POP: err = %v, want ErrWrongTag", err)
	}
	if _, err := ParseProofOfPossession(tagged(TagSignature, valid)); !errors.Is(err, ErrWrongTag) {
		t.Fatalf("ParseProofOfPossession of a BLS_SIG: err = %v, want ErrWrongTag", err)
	}
}

func TestProofOfPossession(t *testing.T) {
	k0, k1 := derived(t, 0).Staking, derived(t, 1).Staking
	pop0 := k0.ProvePossession()
	if err := k0.PubKey().VerifyPossession(pop0); err != nil {
		t.Fatalf("own proof: %v", err)
	}
	if pop0 != k0.ProvePossession() {
		t.Fatal("proof of possession is not deterministic")
	}
	// A proof for another key fails.
	if err := k0.PubKey().VerifyPossession(k1.ProvePossession()); !errors.Is(err, ErrBadProofOfPossession) {
		t.Fatalf("other key's proof: err = %v, want ErrBadProofOfPossession", err)
	} else if !strings.Contains(err.Error(), k0.PubKey().String()) {
		t.Fatalf("error %q does not name the key", err)
	}
	// An ordinary signature over the key bytes (signature DST) is not a proof.
	fake := ProofOfPossession{sig: k0.Sign(k0.PubKey().Bytes())}
	if err := k0.PubKey().VerifyPossession(fake); !errors.Is(err, ErrBadProofOfPossession) {
		t.Fatalf("signature-DST proof: err = %v, want ErrBadProofOfPossession", err)
	}
	if err := k0.PubKey().VerifyPossession(ProofOfPossession{}); !errors.Is(err, ErrBadProofOfPossession) {
		t.Fatalf("zero proof: err = %v", err)
	}
	if err := (StakingPubKey{}).VerifyPossession(pop0); !errors.Is(err, ErrZeroKey) {
		t.Fatalf("zero key: err = %v", err)
	}
	// Text and byte round trips.
	parsed, err := ParseProofOfPossession(pop0.String())
	if err != nil || parsed != pop0 {
		t.Fatalf("ParseProofOfPossession(String()) = %v, %v", parsed, err)
	}
	fromBytes, err := ProofOfPossessionFromBytes(pop0.Bytes())
	if err != nil || fromBytes != pop0 {
		t.Fatalf("ProofOfPossessionFromBytes = %v, %v", fromBytes, err)
	}
	text, err := pop0.MarshalText()
	if err != nil || !strings.HasPrefix(string(text), "BLS_POP~") {
		t.Fatalf("MarshalText = %s, %v", text, err)
	}
	var u ProofOfPossession
	if err := u.UnmarshalText(text); err != nil || u != pop0 {
		t.Fatalf("UnmarshalText = %v, %v", u, err)
	}
	if _, err := (ProofOfPossession{}).MarshalText(); !errors.Is(err, ErrZeroKey) {
		t.Fatalf("zero MarshalText: err = %v", err)
	}
}

func signers(t testing.TB, n int) []StakingKey {
	t.Helper()
	ks := make([]StakingKey, n)
	for i := range ks {
		ks[i] = derived(t, uint64(i)).Staking
	}
	return ks
}

func TestAggregate(t *testing.T) {
	ks := signers(t, 5)
	msg := []byte("quorum vote for view 9")
	pubs := make([]StakingPubKey, len(ks))
	sigs := make([]Signature, len(ks))
	for i, k := range ks {
		pubs[i], sigs[i] = k.PubKey(), k.Sign(msg)
	}
	agg, err := AggregateSignatures(sigs)
	if err != nil {
		t.Fatal(err)
	}
	dup, err := AggregateSignatures([]Signature{sigs[0], sigs[0]})
	if err != nil {
		t.Fatal(err)
	}
	single, err := AggregateSignatures(sigs[:1])
	if err != nil || single != sigs[0] {
		t.Fatalf("aggregate of one = %v, %v; want the signature", single, err)
	}
	aggBytes, err := SignatureFromBytes(agg.Bytes())
	if err != nil || aggBytes != agg {
		t.Fatalf("aggregate does not round-trip: %v", err)
	}
	tests := []struct {
		name string
		pubs []StakingPubKey
		msg  []byte
		agg  Signature
		want bool
	}{
		{"all signers", pubs, msg, agg, true},
		{"signers in another order", []StakingPubKey{pubs[4], pubs[2], pubs[0], pubs[3], pubs[1]}, msg, agg, true},
		{"missing signer", pubs[:4], msg, agg, false},
		{"extra key", append(pubs[:5:5], derived(t, 9).Staking.PubKey()), msg, agg, false},
		{"wrong message", pubs, []byte("quorum vote for view 10"), agg, false},
		{"duplicate signer counted twice", []StakingPubKey{pubs[0], pubs[0]}, msg, dup, true},
		{"duplicate signer counted once", []StakingPubKey{pubs[0]}, msg, dup, false},
		{"one signer", pubs[:1], msg, single, true},
		{"empty list", nil, msg, agg, false},
		{"zero key in list", []StakingPubKey{pubs[0], {}}, msg, agg, false},
		{"zero aggregate", pubs, msg, Signature{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VerifyAggregate(tt.pubs, tt.msg, tt.agg); got != tt.want {
				t.Fatalf("VerifyAggregate = %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := AggregateSignatures(nil); !errors.Is(err, ErrNoSignatures) {
		t.Fatalf("empty aggregate: err = %v", err)
	}
	if _, err := AggregateSignatures([]Signature{sigs[0], {}}); !errors.Is(err, ErrZeroKey) {
		t.Fatalf("aggregate with zero signature: err = %v", err)
	}
}

func TestVerifyAggregateDistinct(t *testing.T) {
	ks := signers(t, 4)
	pubs := make([]StakingPubKey, len(ks))
	msgs := make([][]byte, len(ks))
	sigs := make([]Signature, len(ks))
	for i, k := range ks {
		pubs[i] = k.PubKey()
		msgs[i] = []byte{byte(i), 'x'}
		sigs[i] = k.Sign(msgs[i])
	}
	agg, err := AggregateSignatures(sigs)
	if err != nil {
		t.Fatal(err)
	}
	same := [][]byte{[]byte("s"), []byte("s")}
	aggSame, err := AggregateSignatures([]Signature{ks[0].Sign(same[0]), ks[1].Sign(same[1])})
	if err != nil {
		t.Fatal(err)
	}
	swapped := [][]byte{msgs[1], msgs[0], msgs[2], msgs[3]}
	tests := []struct {
		name string
		pubs []StakingPubKey
		msgs [][]byte
		agg  Signature
		want bool
	}{
		{"distinct messages", pubs, msgs, agg, true},
		{"repeated message", pubs[:2], same, aggSame, true},
		{"swapped messages", pubs, swapped, agg, false},
		{"missing signer", pubs[:3], msgs[:3], agg, false},
		{"length mismatch", pubs, msgs[:3], agg, false},
		{"empty", nil, nil, agg, false},
		{"zero key", []StakingPubKey{{}, pubs[1], pubs[2], pubs[3]}, msgs, agg, false},
		{"zero aggregate", pubs, msgs, Signature{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VerifyAggregateDistinct(tt.pubs, tt.msgs, tt.agg); got != tt.want {
				t.Fatalf("VerifyAggregateDistinct = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseStakingKey(t *testing.T) {
	k := derived(t, 0).Staking
	parsed, err := ParseStakingKey(k.Secret())
	if err != nil {
		t.Fatal(err)
	}
	if parsed.PubKey() != k.PubKey() || parsed.Secret() != k.Secret() {
		t.Fatal("ParseStakingKey(Secret()) is a different key")
	}
	secretData := strings.SplitN(k.Secret(), "~", 2)[1]
	rBytes := blsR.FillBytes(make([]byte, StakingKeySize))
	tests := []struct {
		name  string
		input string
		want  error
	}{
		{"zero scalar", tagged(TagStakingKey, make([]byte, StakingKeySize)), ErrInvalidScalar},
		{"scalar equal to r", tagged(TagStakingKey, rBytes), ErrInvalidScalar},
		{"all ones", tagged(TagStakingKey, bytes.Repeat([]byte{0xff}, StakingKeySize)), ErrInvalidScalar},
		{"short", tagged(TagStakingKey, make([]byte, 31)), ErrBadLength},
		{"public tag", strings.Replace(k.Secret(), TagStakingKey, TagStakingPubKey, 1), types.ErrIncorrectChecksum},
		{"wrong tag", tagged(TagStateKey, make([]byte, 32)), ErrWrongTag},
		{"bad checksum", tamper(k.Secret()), types.ErrIncorrectChecksum},
		{"no delimiter", TagStakingKey + secretData, types.ErrMissingDelimiter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseStakingKey(tt.input)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), secretData[:12]) {
				t.Fatalf("error %q repeats the secret", err)
			}
		})
	}
	if _, err := StakingKeyFromBytes(nil); !errors.Is(err, ErrBadLength) {
		t.Fatalf("StakingKeyFromBytes(nil): err = %v", err)
	}
	one := make([]byte, StakingKeySize)
	one[31] = 1
	if k1, err := StakingKeyFromBytes(one); err != nil || k1.PubKey().IsZero() {
		t.Fatalf("scalar 1: %v", err)
	}
}

func TestAggregatePubKeys(t *testing.T) {
	ks := signers(t, 4)
	msg := []byte("m")
	pubs := make([]StakingPubKey, len(ks))
	sigs := make([]Signature, len(ks))
	for i, k := range ks {
		pubs[i], sigs[i] = k.PubKey(), k.Sign(msg)
	}
	agg, err := AggregateSignatures(sigs)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := AggregatePubKeys(pubs)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Verify(msg, agg) {
		t.Fatal("aggregate signature does not verify against the aggregate key")
	}
	if sum.Verify([]byte("other"), agg) {
		t.Fatal("aggregate verifies a different message")
	}
	// The aggregate key is a normal, canonical key.
	back, err := StakingPubKeyFromBytes(sum.Bytes())
	if err != nil || back != sum {
		t.Fatalf("aggregate key does not round-trip: %v", err)
	}
	one, err := AggregatePubKeys(pubs[:1])
	if err != nil || one != pubs[0] {
		t.Fatalf("aggregate of one key = %v, %v; want the key", one, err)
	}
	if _, err := AggregatePubKeys(nil); !errors.Is(err, ErrNoSignatures) {
		t.Fatalf("empty list: err = %v", err)
	}
	if _, err := AggregatePubKeys([]StakingPubKey{pubs[0], {}}); !errors.Is(err, ErrZeroKey) {
		t.Fatalf("zero key: err = %v", err)
	}
}

func TestErrorsQuoteLongInput(t *testing.T) {
	long := TagStakingPubKey + "~" + strings.Repeat("A", 1000)
	_, err := ParseStakingPubKey(long)
	if err == nil {
		t.Fatal("parsed")
	}
	if len(err.Error()) > 400 || !strings.Contains(err.Error(), `..."`) && !strings.Contains(err.Error(), `"...`) {
		t.Fatalf("error not shortened: %d bytes: %.100s", len(err.Error()), err)
	}
}
