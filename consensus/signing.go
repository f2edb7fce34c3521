package consensus

import (
	"crypto/sha256"
	"encoding/binary"

	"github.com/gospresso/gospresso/keys"

	"github.com/gospresso/gospresso/types"
)

// kind is the message-kind byte inside every signed digest (docs/protocol.md, "What is signed").
type kind byte

const (
	// kindProposal (1) is retired: a leader signs its proposal with its
	// quorum vote for it (docs/protocol.md, "What is signed").
	kindQuorumVote        kind = 2
	kindDAProposal        kind = 3
	kindDAVote            kind = 4
	kindTimeoutVote       kind = 5
	kindViewSyncPreCommit kind = 6
	kindViewSyncCommit    kind = 7
	kindViewSyncFinalize  kind = 8
	kindUpgradeVote       kind = 9
)

// digest is the message every signature covers:
// SHA-256("gospresso/v1" ‖ kind ‖ genesis ‖ u64be(view) ‖ data).
func digest(k kind, genesis [32]byte, view types.ViewNumber, data types.Commitment) []byte {
	h := sha256.New()
	h.Write([]byte("gospresso/v1"))
	h.Write([]byte{byte(k)})
	h.Write(genesis[:])
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(view)))
	h.Write(data[:])
	return h.Sum(nil)
}

// highViewData is the data a timeout vote signs: the view of the sender's
// highest QC.
func highViewData(highView types.ViewNumber) types.Commitment {
	h := sha256.New()
	h.Write([]byte("gospresso/high-qc-view"))
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(highView)))
	return types.Commitment(h.Sum(nil))
}

// viewSyncData is the data a view-sync vote signs: its relay attempt and the
// view of the sender's highest QC. The round is the signed view.
func viewSyncData(relay uint64, highView types.ViewNumber) types.Commitment {
	h := sha256.New()
	h.Write([]byte("gospresso/view-sync"))
	h.Write(binary.BigEndian.AppendUint64(nil, relay))
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(highView)))
	return types.Commitment(h.Sum(nil))
}

// SignProposal signs a leaf as the proposal of its view, as a leader does:
// with its quorum vote for the leaf. Tests use it to build equivocating
// leaders.
func SignProposal(k keys.StakingKey, genesis [32]byte, leaf *types.Leaf) keys.Signature {
	return k.Sign(digest(kindQuorumVote, genesis, leaf.View, leaf.Commit()))
}

// SignVote signs a quorum vote for a leaf commitment in view.
func SignVote(k keys.StakingKey, genesis [32]byte, view types.ViewNumber, leaf types.Commitment) keys.Signature {
	return k.Sign(digest(kindQuorumVote, genesis, view, leaf))
}

// SignTimeoutVote signs a timeout vote for view carrying a high QC of
// highView, as a member does when it times out. Tests use it to build
// Byzantine members.
func SignTimeoutVote(k keys.StakingKey, genesis [32]byte, view, highView types.ViewNumber) keys.Signature {
	return k.Sign(digest(kindTimeoutVote, genesis, view, highViewData(highView)))
}

// SignViewSyncVote signs a view-sync vote of phase for round and relay,
// carrying a high QC of highView.
func SignViewSyncVote(k keys.StakingKey, genesis [32]byte, phase Phase, round types.ViewNumber, relay uint64, highView types.ViewNumber) keys.Signature {
	return k.Sign(digest(phase.kind(), genesis, round, viewSyncData(relay, highView)))
}
