package chain

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"

	"github.com/gospresso/gospresso/types"
)

// builderFeeDomain separates builder fee signatures from every other use of
// a secp256k1 key.
const builderFeeDomain = "gospresso/builder-fee/v1"

// FeeDigest returns the 32-byte Keccak-256 digest a builder signs for header
// h (docs/state.md, "Builder fees"): the domain, the chain config
// commitment, the height, the fee info commitment, and the payload, builder
// and namespace-table commitments. Binding the height and the chain config
// keeps a signature from being replayed into another block, or another
// network, with the same payload.
func FeeDigest(h *types.Header) [32]byte {
	cc := h.ChainConfigCommit()
	fi := h.FeeInfo.Commit()
	ns := h.NsTable.Commit()
	var height [8]byte
	binary.BigEndian.PutUint64(height[:], h.Height)
	return [32]byte(crypto.Keccak256([]byte(builderFeeDomain), cc[:], height[:], fi[:],
		h.PayloadCommitment[:], h.BuilderCommitment[:], ns[:]))
}

// SignFee signs h's fee info with a builder key. The signature's V is 27
// or 28, as in reference headers.
func SignFee(key *ecdsa.PrivateKey, h *types.Header) (*types.BuilderSignature, error) {
	d := FeeDigest(h)
	sig, err := crypto.Sign(d[:], key)
	if err != nil {
		return nil, fmt.Errorf("chain: sign fee info: %w", err)
	}
	return &types.BuilderSignature{
		R: types.U256FromBytes32([32]byte(sig[:32])),
		S: types.U256FromBytes32([32]byte(sig[32:64])),
		V: 27 + uint64(sig[64]),
	}, nil
}

// VerifyFee checks h's builder signature: present, in canonical form (low
// S, V 27 or 28), and made by the key of fee_info.account over FeeDigest(h).
func VerifyFee(h *types.Header) error {
	s := h.BuilderSignature
	if s == nil {
		return fmt.Errorf("%w: no builder signature", ErrInvalidBuilderSignature)
	}
	if s.V != 27 && s.V != 28 {
		return fmt.Errorf("%w: v is %d, want 27 or 28", ErrInvalidBuilderSignature, s.V)
	}
	if !crypto.ValidateSignatureValues(byte(s.V-27), s.R.Big(), s.S.Big(), true) {
		return fmt.Errorf("%w: r or s out of range (or s not in the lower half of the curve order)", ErrInvalidBuilderSignature)
	}
	r, ss := s.R.Bytes32(), s.S.Bytes32()
	sig := make([]byte, 65)
	copy(sig, r[:])
	copy(sig[32:], ss[:])
	sig[64] = byte(s.V - 27)
	d := FeeDigest(h)
	pub, err := crypto.SigToPub(d[:], sig)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidBuilderSignature, err)
	}
	if got := types.Address(crypto.PubkeyToAddress(*pub)); got != h.FeeInfo.Account {
		return fmt.Errorf("%w: signed by %s, fee account is %s", ErrInvalidBuilderSignature, got, h.FeeInfo.Account)
	}
	return nil
}

// BuilderAddress returns the fee account (Ethereum address) of a builder
// key.
func BuilderAddress(key *ecdsa.PrivateKey) types.Address {
	return types.Address(crypto.PubkeyToAddress(key.PublicKey))
}

// DeriveBuilderKey derives a builder key from a 32-byte seed (for dev
// networks, where each node's builder key comes from its staking key:
// keys.StakingKey.DeriveSeed(BuilderKeyDomain)). The same seed always
// gives the same key.
func DeriveBuilderKey(seed [32]byte) (*ecdsa.PrivateKey, error) {
	for range 16 {
		if k, err := crypto.ToECDSA(seed[:]); err == nil {
			return k, nil
		}
		// The seed is zero or not below the curve order (probability about
		// 2^-128): rehash.
		seed = sha256.Sum256(seed[:])
	}
	return nil, fmt.Errorf("chain: derive builder key: no valid key from seed")
}

// BuilderKeyDomain is the derivation domain of a node's default builder key
// (see DeriveBuilderKey).
const BuilderKeyDomain = "gospresso/builder/v1"

// RequiredFee returns base_fee × size, the least fee a block of size payload
// bytes pays, and false when the product does not fit 256 bits.
func RequiredFee(baseFee types.U256, size uint64) (types.U256, bool) {
	p, overflow := new(uint256.Int).MulOverflow(baseFee.Uint256(), uint256.NewInt(size))
	if overflow {
		return types.U256{}, false
	}
	return types.U256FromUint256(p), true
}
