// Package lightclient holds the light-client state a node signs after every
// decide, and its signature: what the state relay collects and a prover
// turns into an update of the L1 light-client contract (docs/api.md,
// "State signatures").
//
// The state is {view_number, block_height, block_comm_root}; block_comm_root
// is SHA-256 of the decided header's block Merkle root, reduced into the
// BN254 scalar field (the reference uses a Rescue hash there; gospresso's
// is its own). The state key signs SHA-256("gospresso/lightclient/v1" ‖
// u64be(view_number) ‖ u64be(block_height) ‖ block_comm_root).
package lightclient

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"

	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/types"
)

// ErrBadSignature is returned by Verify for a signature that does not
// verify against its key and state.
var ErrBadSignature = errors.New("lightclient: signature does not verify")

// bn254R is the order of BN254's scalar field.
var bn254R, _ = new(big.Int).SetString("21888242871839275222246405745257275088548364400416034343698204186575808495617", 10)

// State is the light-client state of one decided block.
type State struct {
	ViewNumber    uint64     `json:"view_number"`
	BlockHeight   uint64     `json:"block_height"`
	BlockCommRoot types.U256 `json:"block_comm_root"`
}

// StateOf returns the light-client state of a decided leaf.
func StateOf(leaf *types.Leaf) State {
	d := sha256.Sum256(leaf.Header.BlockMerkleTreeRoot)
	n := new(big.Int).SetBytes(d[:])
	n.Mod(n, bn254R)
	root, _ := types.U256FromBig(n) // below the field order: always fits
	return State{ViewNumber: uint64(leaf.View), BlockHeight: leaf.Height(), BlockCommRoot: root}
}

// message is what the state key signs.
func (s State) message() []byte {
	b := make([]byte, 0, 24+16+32)
	b = append(b, "gospresso/lightclient/v1"...)
	b = binary.BigEndian.AppendUint64(b, s.ViewNumber)
	b = binary.BigEndian.AppendUint64(b, s.BlockHeight)
	root := s.BlockCommRoot.Bytes32()
	return append(b, root[:]...)
}

// SignedState is a state signed by one node's state key: the body of a
// POST to the state relay and the answer of the state-signature module.
type SignedState struct {
	Key       keys.StatePubKey    `json:"key"`
	State     State               `json:"state"`
	Signature keys.StateSignature `json:"signature"`
}

// Sign signs s with k.
func Sign(k keys.StateKey, s State) (SignedState, error) {
	sig, err := k.Sign(s.message())
	if err != nil {
		return SignedState{}, fmt.Errorf("lightclient: sign state of height %d: %w", s.BlockHeight, err)
	}
	return SignedState{Key: k.PubKey(), State: s, Signature: sig}, nil
}

// Verify checks the signature against the key and the state.
func (s *SignedState) Verify() error {
	if !s.Key.Verify(s.State.message(), s.Signature) {
		return fmt.Errorf("%w: key %s, state of height %d", ErrBadSignature, s.Key, s.State.BlockHeight)
	}
	return nil
}
