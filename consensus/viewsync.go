package consensus

import (
	"fmt"
	"time"

	"github.com/gospresso/gospresso/types"
)

// View sync (docs/protocol.md, "View sync") brings nodes that timed out
// twice in a row to a common view. Its liveness rests on three rules:
//
//   - A node's own attempts at a round never end: attempt a goes to the relay
//     leader(round + a mod n). Votes carry the relay index (a mod n), not the
//     attempt, so votes a node sends in later cycles land in the same vote
//     sets as those of nodes whose attempt counters are offset from its own:
//     within n attempts every honest vote has reached every relay.
//   - A relay that has formed a certificate for (round, relay) answers every
//     later vote there with it, so a certificate whose broadcast was lost is
//     not lost for good.
//   - A node takes part in (casts commit and finalize votes for) every round
//     at or above its current view, not only its own target, so nodes ahead
//     help a group behind them finish the round that brings it forward.

// viewSync is this node's own view-sync progress.
type viewSync struct {
	active   bool
	round    types.ViewNumber // the round this node is trying to reach
	attempt  uint64           // attempts made at round; never bounded
	deadline time.Time
}

// slot names a relay's vote sets for one round.
type slot struct {
	round types.ViewNumber
	relay uint64
}

// relay returns the relay index of attempt a.
func (e *Engine) relayIndex(a uint64) uint64 { return a % uint64(e.table.Len()) }

func (e *Engine) startViewSync(round types.ViewNumber) {
	e.stats.ViewSyncs++
	e.vs = viewSync{active: true, round: round, deadline: e.now.Add(e.cfg.ViewSyncTimeout)}
	clear(e.vsVoted)
	e.castViewSyncVote(PhasePreCommit, round, 0)
}

func (e *Engine) onViewSyncTimeout() {
	e.log.Warn("Vote sending timed out in ViewSyncTimeout", "view", uint64(e.view), "round", uint64(e.vs.round), "attempt", e.vs.attempt)
	// The next attempt goes to the next relay, wrapping around the table.
	// Votes of earlier attempts may be repeated: a relay that already
	// counted one answers it with the certificate it formed.
	e.vs.attempt++
	e.vs.deadline = e.now.Add(e.cfg.ViewSyncTimeout)
	clear(e.vsVoted)
	e.castViewSyncVote(PhasePreCommit, e.vs.round, e.relayIndex(e.vs.attempt))
}

// castViewSyncVote votes in a view-sync phase (once per attempt), first
// making sure the node can never again cast a quorum vote below round.
func (e *Engine) castViewSyncVote(phase Phase, round types.ViewNumber, relay uint64) {
	if e.self < 0 {
		return
	}
	k := voteKey{kind: phase.kind(), view: round, relay: relay}
	if e.vsVoted[k] {
		return
	}
	e.vsVoted[k] = true
	if round > 0 && e.lastVoted < round-1 {
		e.lastVoted = round - 1
		e.stats.LastVotedView = e.lastVoted
		e.dirty = true
	}
	hv := e.highQC.View
	sig := e.key.Sign(digest(phase.kind(), e.verify.genesis, round, viewSyncData(relay, hv)))
	e.send(e.leader(round+types.ViewNumber(relay)), &ViewSyncVote{Phase: phase, Round: round, Relay: relay, HighQC: e.highQC, Signer: uint32(e.self), Signature: sig})
}

func (e *Engine) onViewSyncVote(from int, m *ViewSyncVote) error {
	if m.Phase < PhasePreCommit || m.Phase > PhaseFinalize {
		return fmt.Errorf("%w: view-sync phase %d", ErrInvalidMessage, m.Phase)
	}
	if m.Relay >= uint64(e.table.Len()) {
		return fmt.Errorf("%w: view-sync relay %d out of range (stake table of %d)", ErrInvalidMessage, m.Relay, e.table.Len())
	}
	if stale, err := e.admitVote(from, m.Signer, "view-sync vote", m.Round, e.leader(m.Round+types.ViewNumber(m.Relay))); stale || err != nil {
		return err
	}
	if m.Round == e.view {
		// The sender may be one view behind; the certificate that moved
		// this node on brings it here at once. The vote still counts: nodes
		// in this view take part in this round (see the rules above).
		e.answerStale(from)
	}
	s := slot{round: m.Round, relay: m.Relay}
	if c, ok := e.vsFormed[s]; ok && c.Phase >= m.Phase {
		// A late voter: the certificate it is waiting for was formed here
		// and its broadcast may have been lost.
		e.reply(from, replyKey{kind: c.Phase.kind(), view: c.Round, relay: c.Relay}, &Certificates{ViewSync: c})
		return nil
	}
	data := func(hv types.ViewNumber) types.Commitment { return viewSyncData(m.Relay, hv) }
	k := voteKey{kind: m.Phase.kind(), view: m.Round, relay: m.Relay}
	signers, hv, sig, high, ok, err := e.collectHighVote(from, k, m.Signer, newVoteSig(m.Signature, m.raw), &m.HighQC, data, m.Phase.threshold())
	if !ok {
		return err
	}
	cert := &ViewSyncCert{Phase: m.Phase, Round: m.Round, Relay: m.Relay, HighQC: high, Signers: signers, HighViews: hv, Signature: sig}
	if old, ok := e.vsFormed[s]; !ok || cert.Phase > old.Phase {
		e.vsFormed[s] = cert
	}
	e.send(Broadcast, &Certificates{ViewSync: cert})
	e.onViewSyncCert(cert, from)
	return nil
}

// onViewSyncCert processes a verified view-sync certificate.
func (e *Engine) onViewSyncCert(c *ViewSyncCert, from int) {
	e.onQC(&c.HighQC, from)
	if c.Phase == PhaseFinalize {
		e.onFinalize(c, from)
		return
	}
	if c.Round < e.view {
		return // nothing left to help with: everyone it could move is moved by our certificates
	}
	if c.Phase == PhasePreCommit && c.Round > e.view && (!e.vs.active || c.Round > e.vs.round) {
		// Join the higher round: at least one honest node wants it.
		e.vs = viewSync{active: true, round: c.Round, attempt: c.Relay}
		clear(e.vsVoted)
	}
	if e.vs.active && c.Round == e.vs.round {
		e.vs.deadline = e.now.Add(e.cfg.ViewSyncTimeout) // progress in our own round
	}
	next := PhaseCommit
	if c.Phase == PhaseCommit {
		next = PhaseFinalize
	}
	e.castViewSyncVote(next, c.Round, c.Relay)
}

func (e *Engine) onFinalize(c *ViewSyncCert, from int) {
	if e.lastFinalize == nil || c.Round > e.lastFinalize.Round {
		e.lastFinalize = c
	}
	if c.Round > e.view {
		e.moveCert = Certificates{ViewSync: c}
		e.enterView(c.Round)
	}
	if e.vs.active && c.Round >= e.vs.round {
		e.vs.active = false
	}
}
