package consensus

import (
	"errors"

	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/types"
)

// Message is a consensus message: one of *Proposal, *Vote, *TimeoutVote,
// *ViewSyncVote, *Certificates, *FetchRequest, *FetchResponse,
// *HeaderRequest, *HeaderResponse, *FetchUnavailable, *DAProposal,
// *DAVote, *VIDShare.
type Message interface {
	msgType() msgType
}

type msgType byte

const (
	msgProposal      msgType = 1
	msgVote          msgType = 2
	msgTimeoutVote   msgType = 3
	msgViewSyncVote  msgType = 4
	msgCertificates  msgType = 5
	msgFetchRequest  msgType = 6
	msgFetchResponse msgType = 7
	// 8, 9 and 10 are the catch-up messages (catchup.go).
	msgDAProposal msgType = 11
	msgDAVote     msgType = 12
	msgVIDShare   msgType = 13
)

// Proposal is the leader's quorum proposal for Leaf.View, with the block
// payload when the engine runs without a DA layer (Params.VID nil; with
// one, the payload travels in a DAProposal to the DA committee and Payload
// is empty) and, when the
// justify certificate is not for the previous view, the evidence that lets
// the leader skip: a timeout certificate for view-1 or a view-sync finalize
// certificate for the view.
type Proposal struct {
	Leaf     types.Leaf
	Payload  types.Payload
	TC       *TimeoutCert
	Finalize *ViewSyncCert
	// Signature is the leader's signature over the leaf commitment.
	Signature keys.Signature
	// DA is the DA certificate of the leaf's payload, with which a leader
	// on the DA path publishes its proposal (docs/protocol.md, "Data
	// availability"); nil without a DA layer, and in proposals stored or
	// fetched.
	DA *DACert
}

func (*Proposal) msgType() msgType { return msgProposal }

// Vote is a quorum vote for a leaf, sent to the next view's leader.
type Vote struct {
	View   types.ViewNumber
	Leaf   types.Commitment
	Signer uint32
	// Signature is the signer's signature over the vote. Decode leaves it
	// zero and keeps the bytes the vote arrived with (see rawSig); a
	// non-zero Signature takes their place.
	Signature keys.Signature
	raw       rawSig
}

func (*Vote) msgType() msgType { return msgVote }

// TimeoutVote says its signer gave up on View. It carries the signer's
// highest QC and signs that QC's view.
type TimeoutVote struct {
	View   types.ViewNumber
	HighQC types.QuorumCertificate
	Signer uint32
	// Signature is the signer's signature, kept unparsed by Decode as a
	// Vote's is.
	Signature keys.Signature
	raw       rawSig
}

func (*TimeoutVote) msgType() msgType { return msgTimeoutVote }

// Phase is a view-sync phase.
type Phase byte

// The three view-sync phases (docs/protocol.md, "View sync").
const (
	PhasePreCommit Phase = 1
	PhaseCommit    Phase = 2
	PhaseFinalize  Phase = 3
)

func (p Phase) kind() kind {
	switch p {
	case PhaseCommit:
		return kindViewSyncCommit
	case PhaseFinalize:
		return kindViewSyncFinalize
	default:
		return kindViewSyncPreCommit
	}
}

func (p Phase) threshold() threshold {
	if p == PhasePreCommit {
		return thresholdFailure
	}
	return thresholdSuccess
}

// String names the phase.
func (p Phase) String() string {
	switch p {
	case PhasePreCommit:
		return "pre-commit"
	case PhaseCommit:
		return "commit"
	case PhaseFinalize:
		return "finalize"
	}
	return "unknown"
}

// ViewSyncVote is a vote in one view-sync phase for Round, collected by the
// relay of attempt Relay.
type ViewSyncVote struct {
	Phase  Phase
	Round  types.ViewNumber
	Relay  uint64
	HighQC types.QuorumCertificate
	Signer uint32
	// Signature is the signer's signature, kept unparsed by Decode as a
	// Vote's is.
	Signature keys.Signature
	raw       rawSig
}

func (*ViewSyncVote) msgType() msgType { return msgViewSyncVote }

// rawSig is a vote's signature as it arrived, not yet parsed. Parsing a
// signature (decompressing a G2 point and checking its subgroup) costs more
// than every other check of a vote, so a decoded vote keeps the 96 bytes
// and the engine parses them only when it aggregates the vote, after the
// cheap checks that refuse most of a flood (docs/protocol.md, "Bounds").
type rawSig struct {
	b   [keys.SignatureSize]byte
	set bool
}

// errNoSignature is a vote built in memory without a signature.
var errNoSignature = errors.New("no signature")

// voteSig is a vote's signature as a vote set keeps it: parsed, or still
// raw.
type voteSig struct {
	sig keys.Signature
	raw rawSig
}

// newVoteSig returns what a vote carries: its Signature when set, else the
// bytes it was decoded with.
func newVoteSig(sig keys.Signature, raw rawSig) voteSig {
	if !sig.IsZero() || !raw.set {
		return voteSig{sig: sig}
	}
	return voteSig{raw: raw}
}

// parse returns the signature, parsing the raw bytes on first use.
func (s *voteSig) parse() (keys.Signature, error) {
	if s.raw.set {
		sig, err := keys.SignatureFromBytes(s.raw.b[:])
		if err != nil {
			return keys.Signature{}, err
		}
		s.sig, s.raw = sig, rawSig{}
	}
	if s.sig.IsZero() {
		return keys.Signature{}, errNoSignature
	}
	return s.sig, nil
}

// sigBytes returns the signature's encoding: Signature when set, else the
// bytes the vote was decoded with.
func sigBytes(sig keys.Signature, raw *rawSig) []byte {
	if sig.IsZero() && raw.set {
		return raw.b[:]
	}
	return sig.Bytes()
}

// TimeoutCert is a certificate of timeout votes for View. Signers and
// HighViews run in parallel (HighViews[i] is the high-QC view the i-th signer,
// in increasing index order, signed); HighQC is the highest of the signers'
// QCs and has exactly the highest signed view.
type TimeoutCert struct {
	View      types.ViewNumber
	HighQC    types.QuorumCertificate
	Signers   types.Bitmap
	HighViews []types.ViewNumber
	Signature []byte
}

// maxHighView returns the highest signed high-QC view.
func maxHighView(hv []types.ViewNumber) types.ViewNumber {
	var m types.ViewNumber
	for _, v := range hv {
		m = max(m, v)
	}
	return m
}

// ViewSyncCert is a certificate of one view-sync phase, shaped like a
// TimeoutCert.
type ViewSyncCert struct {
	Phase     Phase
	Round     types.ViewNumber
	Relay     uint64
	HighQC    types.QuorumCertificate
	Signers   types.Bitmap
	HighViews []types.ViewNumber
	Signature []byte
}

// Certificates carries certificates a node broadcasts or answers a stale
// vote with. Any field may be nil.
type Certificates struct {
	QC       *types.QuorumCertificate
	TC       *TimeoutCert
	ViewSync *ViewSyncCert
	// DA is a DA certificate. A leader publishes its own inside its
	// proposal (Proposal.DA); one arriving alone (as a node stores it with
	// the share it voted with) is checked and kept the same way.
	DA *DACert
}

func (*Certificates) msgType() msgType { return msgCertificates }

// FetchRequest asks a peer for the leaf Leaf and its ancestors, newest first,
// down to (not including) height StopHeight, at most MaxFetchLeaves of them.
type FetchRequest struct {
	ID         uint64
	Leaf       types.Commitment
	StopHeight uint64
}

func (*FetchRequest) msgType() msgType { return msgFetchRequest }

// FetchedLeaf is a leaf with its payload.
type FetchedLeaf struct {
	Leaf    types.Leaf
	Payload types.Payload
}

// FetchResponse answers a FetchRequest: the requested leaf first, then each
// one's parent.
type FetchResponse struct {
	ID     uint64
	Leaves []FetchedLeaf
}

func (*FetchResponse) msgType() msgType { return msgFetchResponse }

// MaxFetchLeaves bounds the leaves of one FetchResponse.
const MaxFetchLeaves = 64

// MaxFetchBytes is the payload bytes ServeFetch puts in one answer: it
// stops before the leaf that would pass it (but always answers with at
// least one leaf), so one small request costs a server a bounded reply.
const MaxFetchBytes = 4 << 20

// DAProposal is the leader's proposal of a block payload to the DA
// committee (docs/protocol.md, "Data availability"). Commitment is the
// payload commitment the leader's quorum proposal of View carries. It is
// sent to each member directly and taken only from View's leader; the
// payload is used only once it matches the signed quorum proposal's
// header.
type DAProposal struct {
	View       types.ViewNumber
	Commitment types.Commitment
	Payload    types.Payload
}

func (*DAProposal) msgType() msgType { return msgDAProposal }

// DAVote is a DA committee member's vote that it holds the payload with
// commitment Payload for View, sent to the leader of View.
type DAVote struct {
	View    types.ViewNumber
	Payload types.Commitment
	Signer  uint32
	// Signature is kept unparsed by Decode, as a Vote's is.
	Signature keys.Signature
	raw       rawSig
}

func (*DAVote) msgType() msgType { return msgDAVote }

// DACert certifies that DA committee members holding more than two thirds
// of the DA stake hold the payload with commitment Payload for View.
type DACert struct {
	View      types.ViewNumber
	Payload   types.Commitment
	Signers   types.Bitmap
	Signature []byte
}

// VIDShare is one member's share of a payload's dispersal (docs/protocol.md,
// "Data availability"), sent by the leader of View to that member only.
// Share is opaque to the engine: the VID scheme (Params.VID) checks it
// against Commitment, which must be the payload commitment of View's
// proposal.
type VIDShare struct {
	View       types.ViewNumber
	Commitment types.Commitment
	Share      []byte
}

func (*VIDShare) msgType() msgType { return msgVIDShare }
