package consensus

import "github.com/gospresso/gospresso/types"

// A restart of the whole network (docs/protocol.md, "Restarts") costs views
// only when something a node sent is lost or waited for. Nodes start one
// after another: what a node sends before a peer has started never reaches
// it (a restarted leader's proposal, a replica's vote for a collector that
// is not up yet), and a vote, once cast, is never cast again. So a restarted
// node greets: it broadcasts its high QC when it starts, and the first time
// it hears from a member it sends that member what the member may have
// missed from it: its high QC, its proposal, and its votes of its current
// view when the member collects them. Re-sending a message is always safe;
// no new quorum vote is signed. A restarted leader also makes its first
// proposal without waiting for transactions (the builder timeout): the
// restored chain is decided two views later, and the views after a restart
// pace nothing but that. And a restarted node that can only time out of
// its view (see timeOutIfStuck) does so at once.

// restartState is what a restarted engine keeps to greet its peers.
type restartState struct {
	restarted bool
	greeted   map[int]bool
	// stuckChecked is set once the node has decided whether its view is
	// one it can only time out of (see timeOutIfStuck).
	stuckChecked bool
	// lastVote is the latest quorum vote cast since the restart.
	lastVote *Vote
}

// startRestarted marks a restored engine and broadcasts its high QC, which
// moves every peer that has started and holds a lower one to the view after
// it. New calls it last: New itself builds no block, and the caller's first
// Tick, asked for at once, makes the first proposal.
func (e *Engine) startRestarted() {
	e.rs = restartState{restarted: true, greeted: make(map[int]bool)}
	e.proposeSoon = true
	if e.self < 0 {
		return
	}
	qc := e.highQC
	e.send(Broadcast, &Certificates{QC: &qc})
}

// greet sends member from, the first time a restarted node hears from it,
// what it may have missed because it started later: the high QC, the own
// proposal of the current view, and, if from collects them, the quorum
// vote cast and the timeout vote sent in the current view since the
// restart.
func (e *Engine) greet(from int) {
	if !e.rs.restarted || e.self < 0 || from < 0 || from == e.self || from >= e.table.Len() || e.rs.greeted[from] {
		return
	}
	e.rs.greeted[from] = true
	qc := e.highQC
	e.send(from, &Certificates{QC: &qc})
	if p, ok := e.ownProps[e.view]; ok && e.proposed >= e.view {
		e.send(from, p)
	}
	if v := e.rs.lastVote; v != nil && v.View == e.view && e.leader(v.View+1) == from {
		e.send(from, v)
	}
	if e.timeouts > 0 && e.lastTO == e.view && e.leader(e.view+1) == from {
		// The timeout vote this node sent when it timed out in its view,
		// signed again: the same message, since the signature is
		// deterministic and the high QC unchanged or higher.
		hv := e.highQC.View
		sig := e.key.Sign(digest(kindTimeoutVote, e.verify.genesis, e.view, highViewData(hv)))
		e.send(from, &TimeoutVote{View: e.view, HighQC: e.highQC, Signer: uint32(e.self), Signature: sig})
	}
}

// timeOutIfStuck ends the view timer of a restarted node at once when the
// node can do nothing but time out of its view: it can no longer vote in
// it (last_voted_view ≥ view), and it has heard since the restart from a
// quorum and from the collector of its timeout vote, leader(view + 1),
// without any of them bringing it further (each sends its high QC first;
// the collector is the one that would hold the QC of the view). That is
// the case after the whole network stopped between the votes of a view and
// their QC: the votes were lost with their collector and cannot be cast
// again, so the view can only end with a timeout certificate, and waiting
// for the view timer would only delay it.
func (e *Engine) timeOutIfStuck() {
	if !e.rs.restarted || e.rs.stuckChecked || e.self < 0 {
		return
	}
	if e.lastVoted < e.view {
		e.rs.stuckChecked = true // it can still vote here: the view runs as usual
		return
	}
	heard := types.NewBitmap(e.table.Len())
	heard.Set(e.self)
	for m := range e.rs.greeted {
		heard.Set(m)
	}
	if c := e.leader(e.view + 1); !e.table.reaches(heard, thresholdSuccess) || c != e.self && !e.rs.greeted[c] {
		return
	}
	e.rs.stuckChecked = true
	if e.viewDeadline.After(e.now) {
		e.viewDeadline = e.now // fires at the next Tick, as a view timeout
	}
}

// proposeAtOnce reports whether the leader proposes without waiting for
// transactions: its first proposal after a restart.
func (e *Engine) proposeAtOnce() bool {
	return e.rs.restarted && e.stats.Proposed == 0
}

// voted records a quorum vote cast since a restart, for greet.
func (e *Engine) voted(v *Vote) {
	if e.rs.restarted {
		e.rs.lastVote = v
	}
}
