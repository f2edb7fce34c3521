package consensus

import "github.com/gospresso/gospresso/types"

// QuorumVoteDigest is what a member signs to vote for leaf in view, for
// tests that forge and sign votes by hand.
func QuorumVoteDigest(genesis [32]byte, view types.ViewNumber, leaf types.Commitment) []byte {
	return digest(kindQuorumVote, genesis, view, leaf)
}
