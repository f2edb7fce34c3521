package consensus

import "github.com/gospresso/gospresso/types"

// QuorumVoteDigest is what a member signs to vote for leaf in view, for
// tests that forge and sign votes by hand.
func QuorumVoteDigest(genesis [32]byte, view types.ViewNumber, leaf types.Commitment) []byte {
	return digest(kindQuorumVote, genesis, view, leaf)
}

// LeafCount is the number of leaves the engine holds in memory.
func (e *Engine) LeafCount() int { return len(e.leaves) }

// PendingFetches is the number of fetches under way.
func (e *Engine) PendingFetches() int { return len(e.fetches) }
