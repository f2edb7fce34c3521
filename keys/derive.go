package keys

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"

	blst "github.com/supranational/blst/bindings/go"
)

// Domain prefixes of the key derivations (docs/keys.md, "Deriving keys from a
// seed"). Changing any of them
// changes every derived key; the known-answer tests guard them.
const (
	blsDerivationDomain     = "gospresso/bls/v1"
	schnorrDerivationDomain = "gospresso/schnorr/v1"
	libp2pDerivationDomain  = "gospresso/libp2p/v1"
)

// SeedSize is the size of a key-generation seed in bytes.
const SeedSize = 32

// Keys is a node's private keys: the staking key that signs consensus
// messages and the state key that signs light-client states. Printing a Keys
// value with fmt or slog shows only redacted text.
type Keys struct {
	// Staking is the BLS12-381 staking key.
	Staking StakingKey
	// State is the Schnorr state key.
	State StateKey
}

// DeriveKeys returns key set index of seed, exactly as docs/keys.md,
// "Deriving keys from a seed", fixes it:
// the BLS secret is blst KeyGen of IKM = SHA-256("gospresso/bls/v1" ‖ seed ‖
// u64le(index)); the state key seed is SHA-256("gospresso/schnorr/v1" ‖ seed ‖
// u64le(index)), expanded as StateKeyFromSeed describes.
func DeriveKeys(seed [SeedSize]byte, index uint64) (Keys, error) {
	ikm := derive(blsDerivationDomain, seed, index)
	sk := blst.KeyGen(ikm[:])
	if sk == nil {
		return Keys{}, fmt.Errorf("keys: derive key set %d: blst key generation failed", index)
	}
	staking, err := newStakingKey(sk)
	sk.Zeroize()
	if err != nil {
		return Keys{}, within(err, "derive key set %d", index)
	}
	state, err := StateKeyFromSeed(derive(schnorrDerivationDomain, seed, index))
	if err != nil {
		return Keys{}, within(err, "derive key set %d", index)
	}
	return Keys{Staking: staking, State: state}, nil
}

// GenerateKeys reads a 32-byte seed from rand (use crypto/rand.Reader) and
// returns DeriveKeys(seed, 0).
func GenerateKeys(rand io.Reader) (Keys, error) {
	var seed [SeedSize]byte
	if _, err := io.ReadFull(rand, seed[:]); err != nil {
		return Keys{}, fmt.Errorf("keys: generate: read seed: %w", err)
	}
	return DeriveKeys(seed, 0)
}

// derive returns SHA-256(domain ‖ seed ‖ u64le(index)).
func derive(domain string, seed [SeedSize]byte, index uint64) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(domain))
	h.Write(seed[:])
	var i [8]byte
	binary.LittleEndian.PutUint64(i[:], index)
	h.Write(i[:])
	return [sha256.Size]byte(h.Sum(nil))
}
