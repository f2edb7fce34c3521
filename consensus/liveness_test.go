package consensus_test

import (
	"slices"
	"testing"
	"time"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/types"
)

// splitViews brings a 4-node cluster (leader(v) = v mod 4) to the split of
// docs/protocol.md, "Liveness after faults": all time out in view 1, node 2
// (leader of view 2) forms the timeout certificate from the votes of 0, 1
// and itself, and its proposal for view 2 reaches only node 0. Node 3 hears
// nothing. Nodes 0 and 2 end in view 2, nodes 1 and 3 in view 1.
func splitViews(t *testing.T) *cluster {
	t.Helper()
	c := newCluster(t, 4)
	c.drop = func(env envelope) bool {
		if env.from == 3 || env.to == 3 {
			return true
		}
		switch env.m.(type) {
		case *consensus.Proposal:
			return env.to != 0 // the first proposal (view 1) reaches nobody; node 2's reaches node 0 only
		case *consensus.Certificates:
			return true
		}
		return false
	}
	c.run(120 * time.Millisecond) // one view timeout, the certificate, node 2's proposal
	if got, want := c.views(), []types.ViewNumber{2, 1, 2, 1}; !slices.Equal(got, want) {
		t.Fatalf("scripted split: views %v, want %v", got, want)
	}
	return c
}

// A timeout vote for a view below the receiver's is answered with the
// certificate that moved the receiver on, which brings the sender along.
func TestStaleTimeoutVoteIsAnsweredWithTheCertificate(t *testing.T) {
	c := splitViews(t)
	c.drop = nil // faults heal
	mark := len(c.sent)
	took, ok := c.runUntil(time.Second, func() bool { return c.engines[3].View() >= 2 })
	if !ok {
		t.Fatalf("node 3 still in view %d a second after faults healed", c.engines[3].View())
	}
	var answered bool
	for _, env := range c.sentTo(3, mark) {
		if m, ok := env.m.(*consensus.Certificates); ok && env.from == 2 && m.TC != nil && m.TC.View == 1 {
			answered = true
		}
	}
	if !answered {
		t.Fatal("node 2 did not answer node 3's timeout vote for view 1 with its timeout certificate for view 1")
	}
	// One timer period (110 ms: the second timeout's backoff) plus delivery.
	if took > 150*time.Millisecond {
		t.Errorf("node 3 reached view 2 after %v, want within its next view timeout", took)
	}
}

// The same stale vote is answered again once replyInterval has passed (an
// answer may have been lost), but not at once (a member cannot make the node
// send more than it sends).
func TestStaleAnswersAreRateLimited(t *testing.T) {
	c := splitViews(t)
	var vote *consensus.TimeoutVote
	for _, env := range c.sent {
		if m, ok := env.m.(*consensus.TimeoutVote); ok && env.from == 1 && env.to == 2 && m.View == 1 {
			vote = m
		}
	}
	if vote == nil {
		t.Fatal("node 1 sent no timeout vote for view 1 to node 2")
	}
	answers := func() int {
		c.engines[2].Step(1, vote)
		n := 0
		for _, o := range c.engines[2].Ready().Messages {
			if m, ok := o.Msg.(*consensus.Certificates); ok && o.To == 1 && m.TC != nil {
				n++
			}
		}
		return n
	}
	c.engines[2].Tick(c.now.Add(60 * time.Millisecond)) // past any earlier answer's interval
	c.engines[2].Ready()
	if got := answers(); got != 1 {
		t.Fatalf("stale vote answered %d times, want 1", got)
	}
	if got := answers(); got != 0 {
		t.Fatalf("repeated stale vote answered again at once (%d answers)", got)
	}
	c.engines[2].Tick(c.now.Add(200 * time.Millisecond)) // beyond replyInterval (50 ms here)
	c.engines[2].Ready()
	if got := answers(); got != 1 {
		t.Fatalf("stale vote re-sent after the reply interval answered %d times, want 1", got)
	}
}

// The split of splitViews, then a long fault period in which every
// certificate and proposal is lost while votes still flow: every relay's vote
// sets complete with their certificates lost, and stale answers are lost too.
// Once faults heal all nodes reach a common view and decide again.
func TestSplitViewsConvergeAfterLostCertificates(t *testing.T) {
	c := splitViews(t)
	c.drop = func(env envelope) bool {
		switch env.m.(type) {
		case *consensus.Certificates, *consensus.Proposal:
			return true
		}
		return false
	}
	c.run(3 * time.Second) // 30 view-sync attempts: every relay cycled several times
	heights := slices.Clone(c.height)
	c.drop = nil
	// The bound: the longest backed-off view timer (10 × 100 ms) to bring
	// everyone to one view, one more to time out in it, and a few views.
	const bound = 3 * time.Second
	took, ok := c.runUntil(bound, func() bool {
		for i := range c.engines {
			if c.height[i] <= heights[i] {
				return false
			}
		}
		return true
	})
	if !ok {
		t.Fatalf("no new decided block on every node %v after faults healed: views %v, heights %v (at heal %v)", bound, c.views(), c.height, heights)
	}
	t.Logf("every node decided a new block %v after faults healed", took)
}

// A relay that formed a view-sync certificate whose broadcast was lost
// answers a vote arriving after it with that certificate.
func TestViewSyncRelayAnswersLateVoters(t *testing.T) {
	c := newCluster(t, 4)
	// Everyone stays in view 1: every proposal, timeout vote and
	// certificate is lost, and node 3's view-sync votes too. After two
	// timeouts all start view sync for round 2; relay 0 of round 2 is
	// leader(2) = node 2, which forms the pre-commit certificate (f+1 = 2)
	// from the votes of 0, 1 and itself.
	c.drop = func(env envelope) bool {
		switch m := env.m.(type) {
		case *consensus.ViewSyncVote:
			return m.Signer == 3
		}
		return true
	}
	c.run(215 * time.Millisecond) // timeouts at 100 ms and 210 ms, then view sync
	var late *consensus.ViewSyncVote
	var formed bool
	for _, env := range c.sent {
		switch m := env.m.(type) {
		case *consensus.ViewSyncVote:
			if env.from == 3 && env.to == 2 && m.Phase == consensus.PhasePreCommit && m.Round == 2 && m.Relay == 0 {
				late = m
			}
		case *consensus.Certificates:
			if m.ViewSync != nil && env.from == 2 && m.ViewSync.Phase == consensus.PhasePreCommit && m.ViewSync.Round == 2 {
				formed = true
			}
		}
	}
	if late == nil || !formed {
		t.Fatalf("scripted view sync: node 3's pre-commit vote found %v, node 2's certificate formed %v; views %v", late != nil, formed, c.views())
	}
	// Node 3's vote arrives now, after the certificate's broadcast was lost.
	c.engines[2].Step(3, late)
	var answer *consensus.ViewSyncCert
	for _, o := range c.engines[2].Ready().Messages {
		if m, ok := o.Msg.(*consensus.Certificates); ok && o.To == 3 && m.ViewSync != nil {
			answer = m.ViewSync
		}
	}
	if answer == nil || answer.Round != 2 || answer.Relay != 0 || answer.Phase < consensus.PhasePreCommit {
		t.Fatalf("late voter got %+v, want the certificate relay 0 formed for round 2", answer)
	}
	// With it node 3 joins the next phase at that relay.
	c.engines[3].Step(2, &consensus.Certificates{ViewSync: answer})
	var next bool
	for _, o := range c.engines[3].Ready().Messages {
		if m, ok := o.Msg.(*consensus.ViewSyncVote); ok && o.To == 2 && m.Round == 2 && m.Relay == 0 && m.Phase == answer.Phase+1 {
			next = true
		}
	}
	if !next {
		t.Fatalf("node 3 did not vote in the phase after %s at relay 0", answer.Phase)
	}
}

// A restarted node resumes in the view after its highest QC, which it can
// prove to others, even if it had reached a higher view through a timeout or
// view-sync certificate (not persisted); a node behind it is answered with
// that QC.
func TestRestartResumesWhereItsQCPutsIt(t *testing.T) {
	c := newCluster(t, 4)
	if _, ok := c.runUntil(2*time.Second, func() bool { return c.height[0] >= 3 }); !ok {
		t.Fatalf("a healthy cluster decided only %d blocks", c.height[0])
	}
	st := c.persisted[0]
	hq := st.Safety.HighQC
	st.Safety.View = hq.View + 5 // as if two timeout certificates had moved it on
	e := c.h.engine(0, &st)
	if got, want := e.View(), hq.View+1; got != want {
		t.Fatalf("restarted in view %d, want %d (after its high QC of view %d)", got, want, hq.View)
	}
	e.Ready()
	// A stale vote from a member behind it (the collector of a view-v
	// timeout vote is leader(v+1); node 0 leads every fourth view).
	v := hq.View
	for c.h.table.Leader(v+1) != 0 {
		v--
	}
	e.Step(1, &consensus.TimeoutVote{View: v, HighQC: types.GenesisQC(&c.h.leaf), Signer: 1})
	var answered bool
	for _, o := range e.Ready().Messages {
		if m, ok := o.Msg.(*consensus.Certificates); ok && o.To == 1 && m.QC != nil && m.QC.Commit() == hq.Commit() {
			answered = true
		}
	}
	if !answered {
		t.Fatalf("restarted node did not answer a timeout vote for view %d with its high QC of view %d", v, hq.View)
	}
}
