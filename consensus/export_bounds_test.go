package consensus

import "github.com/gospresso/gospresso/keys"

// Bounds of docs/protocol.md, "Bounds", for tests.
const (
	MaxFutureVotes    = maxFutureVotes
	CertChecksPerView = certChecksPerView
)

// HeldVotes is the number of vote sets holding a vote of member, and the
// number of quorum-vote leaves remembered for it.
func (e *Engine) HeldVotes(member int) (sets, leaves int) {
	for _, s := range e.votes {
		if s.signers.Has(member) {
			sets++
		}
	}
	for k := range e.voteLeaf {
		if int(k.member) == member {
			leaves++
		}
	}
	return sets, leaves
}

// VoteSets is the number of vote sets the engine holds.
func (e *Engine) VoteSets() int { return len(e.votes) }

// CertificateChecks is the number of aggregate signature checks of
// certificates the engine's verifier has done.
func (e *Engine) CertificateChecks() uint64 { return e.verify.checks.Load() }

// EncodeRawVote is a vote's encoding with sig as its signature bytes, which
// need not be a signature at all.
func EncodeRawVote(v *Vote, sig [96]byte) ([]byte, error) {
	c := *v
	c.Signature = keys.Signature{}
	c.raw = rawSig{b: sig, set: true}
	return Encode(&c)
}
