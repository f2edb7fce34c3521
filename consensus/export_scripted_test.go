package consensus

import "github.com/gospresso/gospresso/types"

// TimeoutVoteDigest is what a member signs to time out in view while its
// highest QC is of view highView, for tests that forge timeout votes.
func TimeoutVoteDigest(genesis [32]byte, view, highView types.ViewNumber) []byte {
	return digest(kindTimeoutVote, genesis, view, highViewData(highView))
}

// ViewSyncVoteDigest is what a member signs to vote in a view-sync phase of
// round at relay index relay while its highest QC is of view highView.
func ViewSyncVoteDigest(genesis [32]byte, phase Phase, round types.ViewNumber, relay uint64, highView types.ViewNumber) []byte {
	return digest(phase.kind(), genesis, round, viewSyncData(relay, highView))
}
