// Package chain holds the application side of the sequencer: the mempool,
// the built-in block builder and the header validation consensus asks for.
//
// Consensus (package consensus) decides an order of opaque leaves; this
// package says what a valid block is (docs/data.md, "Header and leaf
// validation") and builds one from waiting
// transactions. Richer state — fee and block Merkle trees, fee accounting,
// L1 deposits — joins it as the chain-state work lands.
package chain
