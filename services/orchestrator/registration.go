package orchestrator

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/gospresso/gospresso/keys"
)

// RegistrationDomain opens every registration's signing message, so a
// registration signature is never valid as any other message's signature
// (consensus messages start "gospresso/v1", light-client states
// "gospresso/lightclient/v1").
const RegistrationDomain = "gospresso/orchestrator/registration/v1"

// MaxAddressLength bounds the libp2p address of a registration, in bytes.
const MaxAddressLength = 512

// exampleAddr shows the multiaddr shape a registration's address needs.
const exampleAddr = "/ip4/192.0.2.1/udp/1769/quic-v1/p2p/12D3KooW…"

// Registration is what a node POSTs to register: its public keys, whether
// it asks to be on the DA committee, the libp2p address its peers dial, the
// proof of possession of its staking key, and two signatures of the
// registration's digest (see Digest): one by the staking key, one by the
// state key. Build one with NewRegistration.
type Registration struct {
	// StakingKey is the node's BLS staking public key (BLS_VER_KEY~…).
	StakingKey keys.StakingPubKey `json:"staking_key"`
	// StateKey is the node's Schnorr state public key (SCHNORR_VER_KEY~…).
	StateKey keys.StatePubKey `json:"state_key"`
	// DA is the node's request to be on the DA committee (its --is-da).
	// Recorded, but every registered node is on the DA committee (see the
	// package documentation, "Stake table").
	DA bool `json:"da"`
	// Libp2pAddress is the multiaddr the node's peers dial, ending in
	// /p2p/<peer id>.
	Libp2pAddress string `json:"libp2p_address"`
	// ProofOfPossession proves the owner of StakingKey holds its secret
	// (BLS_POP~…).
	ProofOfPossession keys.ProofOfPossession `json:"proof_of_possession"`
	// Signature is the staking key's signature of Digest (BLS_SIG~…).
	Signature keys.Signature `json:"signature"`
	// StateSignature is the state key's signature of Digest
	// (SCHNORR_SIG~…).
	StateSignature keys.StateSignature `json:"state_signature"`
}

// NewRegistration returns the registration of a node with keys k, signed:
// the proof of possession of k.Staking, and both keys' signatures of the
// digest. The address is not checked here; the orchestrator checks it.
func NewRegistration(k keys.Keys, da bool, libp2pAddress string) (Registration, error) {
	if k.Staking.IsZero() || k.State.IsZero() {
		return Registration{}, fmt.Errorf("%w: registration needs both a staking key and a state key", ErrInvalidRegistration)
	}
	r := Registration{
		StakingKey:        k.Staking.PubKey(),
		StateKey:          k.State.PubKey(),
		DA:                da,
		Libp2pAddress:     libp2pAddress,
		ProofOfPossession: k.Staking.ProvePossession(),
	}
	d := r.Digest()
	r.Signature = k.Staking.Sign(d[:])
	sig, err := k.State.Sign(d[:])
	if err != nil {
		return Registration{}, fmt.Errorf("orchestrator: sign registration with the state key: %w", err)
	}
	r.StateSignature = sig
	return r, nil
}

// SigningMessage is the canonical encoding of the registration without its
// two signatures:
//
//	RegistrationDomain ‖ 0x00
//	‖ staking key (48-byte compressed G1 point)
//	‖ state key (32-byte compressed point)
//	‖ DA (one byte, 0 or 1)
//	‖ u16 big-endian length of the address ‖ the address's bytes
//	‖ proof of possession (96-byte compressed G2 point)
//
// A zero key or proof is encoded as zero bytes of its size (such a
// registration is refused anyway).
func (r *Registration) SigningMessage() []byte {
	addr := r.Libp2pAddress
	if len(addr) > 0xffff {
		addr = addr[:0xffff] // refused by Check anyway (MaxAddressLength)
	}
	b := make([]byte, 0, len(RegistrationDomain)+1+keys.StakingPubKeySize+keys.StatePubKeySize+1+2+len(addr)+keys.SignatureSize)
	b = append(b, RegistrationDomain...)
	b = append(b, 0)
	b = append(b, r.StakingKey.Bytes()...)
	b = append(b, r.StateKey.Bytes()...)
	if r.DA {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(addr)))
	b = append(b, addr...)
	if r.ProofOfPossession.IsZero() {
		return append(b, make([]byte, keys.SignatureSize)...)
	}
	return append(b, r.ProofOfPossession.Bytes()...)
}

// Digest is SHA-256 of SigningMessage: the 32 bytes both keys sign (the
// staking key with keys.SignatureDST).
func (r *Registration) Digest() [sha256.Size]byte { return sha256.Sum256(r.SigningMessage()) }

// Check verifies a registration the way the orchestrator does before
// accepting it: every field present, the address a multiaddr ending in
// /p2p/<peer id>, the proof of possession (closing rogue-key attacks on
// aggregate signatures) and both signatures of Digest (so nobody can
// register a key they do not hold, or another node's key with their own
// address). It returns the address's peer ID, or an error wrapping
// ErrInvalidRegistration, ErrBadProofOfPossession or ErrBadSignature.
func (r *Registration) Check() (peer.ID, error) {
	switch {
	case r.StakingKey.IsZero():
		return "", fmt.Errorf("%w: no staking key (want \"staking_key\": \"BLS_VER_KEY~…\")", ErrInvalidRegistration)
	case r.StateKey.IsZero():
		return "", fmt.Errorf("%w: no state key (want \"state_key\": \"SCHNORR_VER_KEY~…\")", ErrInvalidRegistration)
	case r.ProofOfPossession.IsZero():
		return "", fmt.Errorf("%w: no proof of possession (want \"proof_of_possession\": \"BLS_POP~…\")", ErrInvalidRegistration)
	case r.Signature.IsZero():
		return "", fmt.Errorf("%w: no signature (want \"signature\": \"BLS_SIG~…\", the staking key's signature of the registration digest)", ErrInvalidRegistration)
	case r.StateSignature.IsZero():
		return "", fmt.Errorf("%w: no state signature (want \"state_signature\": \"SCHNORR_SIG~…\", the state key's signature of the registration digest)", ErrInvalidRegistration)
	}
	id, err := checkAddress(r.Libp2pAddress)
	if err != nil {
		return "", err
	}
	if err := r.StakingKey.VerifyPossession(r.ProofOfPossession); err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadProofOfPossession, err)
	}
	d := r.Digest()
	if !r.StakingKey.Verify(d[:], r.Signature) {
		return "", fmt.Errorf("%w: the signature does not verify for staking key %s over this registration (sign its digest with that key: orchestrator.NewRegistration)", ErrBadSignature, r.StakingKey)
	}
	if !r.StateKey.Verify(d[:], r.StateSignature) {
		return "", fmt.Errorf("%w: the state signature does not verify for state key %s over this registration (sign its digest with that key: orchestrator.NewRegistration)", ErrBadSignature, r.StateKey)
	}
	return id, nil
}

// checkAddress checks that s is a multiaddr with a transport part and a
// final /p2p/<peer id>, and returns the peer ID.
func checkAddress(s string) (peer.ID, error) {
	if s == "" {
		return "", fmt.Errorf("%w: no libp2p address (want \"libp2p_address\": e.g. %q)", ErrInvalidRegistration, exampleAddr)
	}
	if len(s) > MaxAddressLength {
		return "", fmt.Errorf("%w: libp2p address of %d bytes, want at most %d", ErrInvalidRegistration, len(s), MaxAddressLength)
	}
	m, err := ma.NewMultiaddr(s)
	if err != nil {
		return "", fmt.Errorf("%w: libp2p address %q: invalid multiaddr (want e.g. %s): %v", ErrInvalidRegistration, s, exampleAddr, err)
	}
	transport, id := peer.SplitAddr(m)
	if id == "" {
		return "", fmt.Errorf("%w: libp2p address %q does not end in /p2p/<peer id> (want e.g. %s)", ErrInvalidRegistration, s, exampleAddr)
	}
	if len(transport) == 0 {
		return "", fmt.Errorf("%w: libp2p address %q has no transport address before /p2p (want e.g. %s)", ErrInvalidRegistration, s, exampleAddr)
	}
	return id, nil
}
