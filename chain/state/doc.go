// Package state is the chain state a sequencer node keeps beside consensus:
// the fee Merkle tree (a balance for every fee account), the block Merkle
// tree (the commitment of every earlier header), and the state transition
// that moves both from one header to the next (docs/state.md).
//
// Both trees are persistent: every update returns a new tree and leaves the
// old one unchanged, sharing all untouched nodes with it, so a node can keep
// the state of each undecided block at the cost of the paths that changed.
// A *State is never modified after it is returned; it is safe to read from
// many goroutines.
//
// The package computes; it fetches nothing. The caller of State.Apply
// supplies the L1 deposits of the block (from its L1 client), and a node
// that lacks a state (after a restart, or when it joins late) restores one
// from a snapshot (DecodeState) or from catchup answers checked against a
// header's roots (VerifyFeeProof, BlockTreeFromFrontier).
//
// Root values and proof shapes are gospresso's own (docs/state.md,
// "Hashes"); the roots enter headers as block_merkle_tree_root and
// fee_merkle_tree_root, shown as MERKLE_COMM~… in JSON.
package state
