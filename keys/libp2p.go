package keys

import "crypto/sha256"

// DeriveSeed returns SHA-256(domain ‖ 32-byte big-endian BLS secret): a
// seed for a key that must be a pure function of the staking key, such as
// the node's network identity (package network/p2p derives its libp2p key
// from DeriveSeed("gospresso/libp2p/v1"); docs/keys.md, "libp2p peer IDs").
func (k StakingKey) DeriveSeed(domain string) ([32]byte, error) {
	if k.k == nil {
		return [32]byte{}, errorf(ErrZeroKey, "keys: derive seed: zero staking key")
	}
	h := sha256.New()
	h.Write([]byte(domain))
	h.Write(k.k.sk.Serialize())
	return [32]byte(h.Sum(nil)), nil
}
