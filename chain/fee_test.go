package chain_test

import (
	"errors"
	"fmt"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/types"
)

// signedHeader returns a header with a payload, paid for and signed by the
// builder key of byte i.
func signedHeader(t *testing.T, i byte) *types.Header {
	t.Helper()
	p, err := types.EncodePayload([]types.Transaction{txIn(1, 0), txIn(7, 0)})
	if err != nil {
		t.Fatal(err)
	}
	key := builderKey(t, i)
	h := &types.Header{
		Version:           types.Version{Major: 0, Minor: 2},
		ChainConfig:       types.ChainConfig{ChainID: types.NewU256(5), MaxBlockSize: 1000, BaseFee: types.NewU256(1)},
		Height:            42,
		PayloadCommitment: payloadCommitment(t, &p),
		BuilderCommitment: chain.BuilderCommitment(&p),
		NsTable:           p.NsTable,
		FeeInfo:           types.FeeInfo{Account: chain.BuilderAddress(key), Amount: types.NewU256(p.Size())},
	}
	if h.BuilderSignature, err = chain.SignFee(key, h); err != nil {
		t.Fatal(err)
	}
	return h
}

func wantInvalidSignature(t *testing.T, h *types.Header, what string) {
	t.Helper()
	if err := chain.VerifyFee(h); !errors.Is(err, chain.ErrInvalidBuilderSignature) {
		t.Fatalf("%s: VerifyFee = %v, want ErrInvalidBuilderSignature", what, err)
	}
}

func TestSignVerifyFee(t *testing.T) {
	h := signedHeader(t, 1)
	if s := h.BuilderSignature; s.V != 27 && s.V != 28 {
		t.Fatalf("SignFee gave v %d, want 27 or 28", s.V)
	}
	if err := chain.VerifyFee(h); err != nil {
		t.Fatalf("VerifyFee of a fresh signature: %v", err)
	}

	// Every signed field binds the signature.
	edits := map[string]func(h *types.Header){
		"height":             func(h *types.Header) { h.Height++ },
		"chain config":       func(h *types.Header) { h.ChainConfig.ChainID = types.NewU256(6) },
		"fee amount":         func(h *types.Header) { h.FeeInfo.Amount = types.NewU256(1) },
		"payload commitment": func(h *types.Header) { h.PayloadCommitment[3] ^= 1 },
		"builder commitment": func(h *types.Header) { h.BuilderCommitment[3] ^= 1 },
		"ns table": func(h *types.Header) {
			h.NsTable.Bytes = append([]byte(nil), h.NsTable.Bytes[:len(h.NsTable.Bytes)-1]...)
		},
	}
	for name, edit := range edits {
		h := signedHeader(t, 1)
		edit(h)
		wantInvalidSignature(t, h, name)
	}

	// A fee account that is not the signer's.
	h = signedHeader(t, 1)
	h.FeeInfo.Account = chain.BuilderAddress(builderKey(t, 2))
	wantInvalidSignature(t, h, "fee account of another key")
	// Signed by another key than the fee account's.
	h = signedHeader(t, 1)
	other, err := chain.SignFee(builderKey(t, 2), h)
	if err != nil {
		t.Fatal(err)
	}
	h.BuilderSignature = other
	wantInvalidSignature(t, h, "signed by another key")

	h.BuilderSignature = nil
	wantInvalidSignature(t, h, "no signature")
}

// The high-S twin of a signature recovers the same key, and VerifyFee
// still refuses it: only the canonical (low-S) form is valid.
func TestVerifyFeeRejectsHighS(t *testing.T) {
	h := signedHeader(t, 1)
	s := h.BuilderSignature
	n := crypto.S256().Params().N
	highS := new(big.Int).Sub(n, s.S.Big())
	hs, err := types.U256FromBig(highS)
	if err != nil {
		t.Fatal(err)
	}
	twin := &types.BuilderSignature{R: s.R, S: hs, V: 27 + 28 - s.V}

	// The twin is a valid signature of the same key, in non-canonical form.
	r, ss := twin.R.Bytes32(), twin.S.Bytes32()
	sig := append(append(r[:], ss[:]...), byte(twin.V-27))
	d := chain.FeeDigest(h)
	pub, err := crypto.Ecrecover(d[:], sig)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := crypto.UnmarshalPubkey(pub); err != nil || types.Address(crypto.PubkeyToAddress(*got)) != h.FeeInfo.Account {
		t.Fatalf("the high-S twin does not recover the fee account (%v)", err)
	}

	h.BuilderSignature = twin
	wantInvalidSignature(t, h, "high S")
}

func TestVerifyFeeRejectsBadV(t *testing.T) {
	for _, v := range []uint64{0, 1, 26, 29, 35, 37, 1<<64 - 1} {
		h := signedHeader(t, 1)
		// The same signature with v as the raw recovery id, or as an
		// EIP-155 value, is refused too.
		h.BuilderSignature.V = v
		wantInvalidSignature(t, h, fmt.Sprint("v ", v))
	}
	// r or s zero, r at the curve order.
	h := signedHeader(t, 1)
	h.BuilderSignature.R = types.U256{}
	wantInvalidSignature(t, h, "r zero")
	h = signedHeader(t, 1)
	h.BuilderSignature.S = types.U256{}
	wantInvalidSignature(t, h, "s zero")
	h = signedHeader(t, 1)
	n, _ := types.U256FromBig(crypto.S256().Params().N)
	h.BuilderSignature.R = n
	wantInvalidSignature(t, h, "r at the curve order")
}

func TestDeriveBuilderKey(t *testing.T) {
	seeds := [][32]byte{{1}, {2}, {}, // zero: not a key, rehashed
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, // above the order
	}
	seen := make(map[types.Address]bool)
	for _, seed := range seeds {
		k1, err := chain.DeriveBuilderKey(seed)
		if err != nil {
			t.Fatalf("seed %x: %v", seed, err)
		}
		k2, err := chain.DeriveBuilderKey(seed)
		if err != nil {
			t.Fatal(err)
		}
		if !k1.Equal(k2) {
			t.Fatalf("seed %x gave two keys", seed)
		}
		a := chain.BuilderAddress(k1)
		if seen[a] {
			t.Fatalf("seed %x gives the key of another seed", seed)
		}
		seen[a] = true
	}
	// A seed that is a valid key is the key itself.
	k, err := chain.DeriveBuilderKey([32]byte{1})
	if err != nil {
		t.Fatal(err)
	}
	if k.D.Cmp(big.NewInt(0).Lsh(big.NewInt(1), 248)) != 0 {
		t.Fatalf("seed 01 00…00 gave key %x", k.D)
	}
}

func TestRequiredFee(t *testing.T) {
	if f, ok := chain.RequiredFee(types.NewU256(3), 1000); !ok || f != types.NewU256(3000) {
		t.Fatalf("RequiredFee(3, 1000) = %s %v", f, ok)
	}
	if f, ok := chain.RequiredFee(types.NewU256(0), 1000); !ok || !f.IsZero() {
		t.Fatalf("RequiredFee(0, 1000) = %s %v", f, ok)
	}
	max, _ := types.ParseU256("0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff")
	if _, ok := chain.RequiredFee(max, 2); ok {
		t.Fatal("RequiredFee(2^256-1, 2) did not report the overflow")
	}
}

// payloadCommitment is p's payload commitment under chain.Rules' zero
// value (a one-member network), which these tests' headers use.
func payloadCommitment(t testing.TB, p *types.Payload) types.Commitment {
	t.Helper()
	c, err := chain.Rules{}.PayloadCommitment(p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
