package consensus

import (
	"errors"

	"github.com/gospresso/gospresso/types"
)

// What one member can make the engine hold or compute is bounded
// (docs/protocol.md, "Bounds"): vote sets for future views per member and
// kind, and certificate checks per member once one of its certificates
// failed.

// maxFutureVotes is how many vote sets of one kind (quorum, timeout, each
// view-sync phase) for views after the current one a member's votes may sit
// in. A further vote evicts the member's vote of that kind with the lowest
// view, if that view is lower than its own, and is refused otherwise.
const maxFutureVotes = 8

// certChecksPerView is how many signature checks of certificates a member
// whose certificate once failed a check gets in each view; further
// certificates from it are dropped unchecked until the view changes.
const certChecksPerView = 4

// heldKey names a member's future votes of one kind.
type heldKey struct {
	member uint32
	kind   kind
}

// certBudget is a suspect member's use of its checks in one view.
type certBudget struct {
	view types.ViewNumber
	used int
}

// Fault is a member caught sending something provably bad: a vote whose
// signature failed its check, or a certificate that failed verification.
// Such a member may be caught while the engine handles another member's
// message (a bad vote is found when a set is aggregated), so faults are
// reported on their own (Ready.Faulty) for the caller to score the member.
type Fault struct {
	// Member is the member's stake-table index.
	Member int
	// Err says what was wrong; it wraps ErrInvalidMessage or
	// ErrInvalidCertificate.
	Err error
}

// fault records member as caught with err; InvalidMessages counts it too
// (as the message it came with, or on its own for a bad vote found at
// aggregation), so Faults never exceeds InvalidMessages.
func (e *Engine) fault(member int, err error) {
	if member < 0 || member == e.self {
		return
	}
	e.stats.Faults++
	e.ready.Faulty = append(e.ready.Faulty, Fault{Member: member, Err: err})
}

// holdVote admits member's vote into the vote set k, within the member's
// bound of future vote sets of k's kind, evicting its lowest one if need
// be. It reports false when the vote is refused.
func (e *Engine) holdVote(member uint32, k voteKey) bool {
	if k.view <= e.view {
		return true // the current and previous views' sets are bounded by the view
	}
	hk := heldKey{member: member, kind: k.kind}
	list := e.held[hk]
	if len(list) < maxFutureVotes {
		e.held[hk] = append(list, k)
		return true
	}
	e.stats.FutureVotesDropped++
	lo := 0
	for j := range list {
		if list[j].view < list[lo].view {
			lo = j
		}
	}
	if list[lo].view >= k.view {
		return false
	}
	e.forgetVote(member, list[lo])
	list[lo] = k
	return true
}

// forgetVote takes member's vote out of the vote set k (dropping the set
// if nothing else is in it) and, for a quorum or DA vote, forgets the
// leaf or payload it named, so the member's state for that view is gone.
func (e *Engine) forgetVote(member uint32, k voteKey) {
	if set, ok := e.votes[k]; ok {
		e.dropVote(set, int(member))
		if len(set.sigs) == 0 && !set.done {
			delete(e.votes, k)
		}
	}
	switch k.kind {
	case kindQuorumVote:
		delete(e.voteLeaf, memberView{view: k.view, member: member})
	case kindDAVote:
		delete(e.da.votedFor, memberView{view: k.view, member: member})
	}
}

// pruneHeld forgets the future votes that are future no more: the view
// reached them (their sets are now bounded by the view) or left them behind.
func (e *Engine) pruneHeld() {
	for hk, list := range e.held {
		kept := list[:0]
		for _, k := range list {
			if k.view > e.view {
				kept = append(kept, k)
			}
		}
		if len(kept) == 0 {
			delete(e.held, hk)
		} else {
			e.held[hk] = kept
		}
	}
}

// certAllowance returns what the verifier asks before each signature check
// of a certificate from member from: nothing for this node's own, always
// yes for a member none of whose certificates failed, else yes up to
// certChecksPerView times a view.
func (e *Engine) certAllowance(from int) func() bool {
	if from >= 0 && from == e.self {
		return nil
	}
	return func() bool {
		b, ok := e.suspects[from]
		if !ok {
			return true
		}
		if b.view != e.view {
			b.view, b.used = e.view, 0
		}
		if b.used >= certChecksPerView {
			e.stats.CertificateChecksRefused++
			return false
		}
		b.used++
		return true
	}
}

// certChecked records the outcome of checking a certificate (or a
// proposal's signature) from member from: a failure makes from a suspect,
// whose checks are budgeted from then on, and a fault. A check refused
// by the budget proves nothing.
func (e *Engine) certChecked(from int, err error) error {
	if err == nil || errors.Is(err, errCheckRefused) || (from >= 0 && from == e.self) {
		return err
	}
	if _, ok := e.suspects[from]; !ok {
		// The failed check was the first: the budget starts now, with it spent.
		e.suspects[from] = &certBudget{view: e.view, used: 1}
	}
	e.fault(from, err)
	return err
}

// checkQC verifies a QC that member from sent, within its budget.
func (e *Engine) checkQC(from int, q *types.QuorumCertificate) error {
	err := e.certChecked(from, e.verify.checkQC(q, e.certAllowance(from)))
	if err != nil && !errors.Is(err, errCheckRefused) {
		e.stats.InvalidQCs++
	}
	return err
}

// checkTC verifies a timeout certificate that member from sent, within its
// budget.
func (e *Engine) checkTC(from int, tc *TimeoutCert) error {
	return e.certChecked(from, e.verify.verifyTC(tc, e.certAllowance(from)))
}

// checkViewSync verifies a view-sync certificate that member from sent,
// within its budget.
func (e *Engine) checkViewSync(from int, c *ViewSyncCert) error {
	return e.certChecked(from, e.verify.verifyViewSync(c, e.certAllowance(from)))
}
