package p2p

import (
	"crypto/ed25519"
	"fmt"

	libp2pcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/gospresso/gospresso/keys"
)

// identityDomain is the domain of the libp2p key derivation (docs/keys.md,
// "libp2p peer IDs"). Changing it changes every peer ID; the known-answer
// test guards it.
const identityDomain = "gospresso/libp2p/v1"

// PrivKey returns the node's libp2p identity: the Ed25519 key whose seed is
// k.DeriveSeed("gospresso/libp2p/v1"), that is SHA-256("gospresso/libp2p/v1"
// ‖ 32-byte big-endian BLS secret). It is a pure function of the staking key,
// so the peer ID is stable across restarts.
func PrivKey(k keys.StakingKey) (libp2pcrypto.PrivKey, error) {
	seed, err := k.DeriveSeed(identityDomain)
	if err != nil {
		return nil, fmt.Errorf("p2p: libp2p key: %w", err)
	}
	priv, err := libp2pcrypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(seed[:]))
	if err != nil {
		return nil, fmt.Errorf("p2p: libp2p key: %w", err)
	}
	return priv, nil
}

// PeerID returns the libp2p peer ID of PrivKey(k) as text ("12D3KooW..."):
// the value `pub-key -l` prints and bootstrap multiaddrs end with.
func PeerID(k keys.StakingKey) (string, error) {
	id, err := peerID(k)
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

func peerID(k keys.StakingKey) (peer.ID, error) {
	priv, err := PrivKey(k)
	if err != nil {
		return "", err
	}
	id, err := peer.IDFromPrivateKey(priv)
	if err != nil {
		return "", fmt.Errorf("p2p: peer id: %w", err)
	}
	return id, nil
}
