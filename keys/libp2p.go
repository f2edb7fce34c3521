package keys

import (
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"

	libp2pcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// LibP2PKey returns the node's libp2p identity: the Ed25519 key whose seed is
// SHA-256("gospresso/libp2p/v1" ‖ 32-byte big-endian BLS secret). It is a pure
// function of the staking key, so the peer ID is stable across restarts.
func (k StakingKey) LibP2PKey() (libp2pcrypto.PrivKey, error) {
	if k.k == nil {
		return nil, errorf(ErrZeroKey, "keys: libp2p key: zero staking key")
	}
	h := sha256.New()
	h.Write([]byte(libp2pDerivationDomain))
	h.Write(k.k.sk.Serialize())
	priv, err := libp2pcrypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(h.Sum(nil)))
	if err != nil {
		return nil, fmt.Errorf("keys: libp2p key: %w", err)
	}
	return priv, nil
}

// PeerID returns the libp2p peer ID of LibP2PKey ("12D3KooW..." as text), the
// value `pub-key -l` prints and bootstrap multiaddrs end with.
func (k StakingKey) PeerID() (peer.ID, error) {
	priv, err := k.LibP2PKey()
	if err != nil {
		return "", err
	}
	id, err := peer.IDFromPrivateKey(priv)
	if err != nil {
		return "", fmt.Errorf("keys: peer id: %w", err)
	}
	return id, nil
}

// DeriveSeed returns SHA-256(domain ‖ 32-byte big-endian BLS secret): a
// seed for a key that must be a pure function of the staking key, such as
// the node's network identity (package network/p2p derives its libp2p key
// from DeriveSeed("gospresso/libp2p/v1")).
func (k StakingKey) DeriveSeed(domain string) ([32]byte, error) {
	if k.k == nil {
		return [32]byte{}, errorf(ErrZeroKey, "keys: derive seed: zero staking key")
	}
	h := sha256.New()
	h.Write([]byte(domain))
	h.Write(k.k.sk.Serialize())
	return [32]byte(h.Sum(nil)), nil
}
