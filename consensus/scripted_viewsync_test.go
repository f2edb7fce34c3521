package consensus_test

import (
	"testing"
	"time"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/types"
)

// Scripted scenarios for timeout certificates and the three phases of view
// sync (issue 11, item 8; docs/protocol.md, "Timeouts" and "View sync"),
// with four members of stake 1: a timeout certificate and the view-sync
// commit and finalize certificates need 2f+1 = 3 votes, a pre-commit
// certificate f+1 = 2. The votes of the other members are signed by hand
// and stepped into one engine, whose answers the test reads.

// vsVote is member i's view-sync vote in phase for round at relay index
// relay, with the genesis QC as its high QC.
func (h *harness) vsVote(i int, phase consensus.Phase, round types.ViewNumber, relay uint64) *consensus.ViewSyncVote {
	return &consensus.ViewSyncVote{Phase: phase, Round: round, Relay: relay, HighQC: types.GenesisQC(&h.leaf), Signer: uint32(i),
		Signature: h.keys[i].Staking.Sign(consensus.ViewSyncVoteDigest(h.genesis, phase, round, relay, 0))}
}

// timeoutVote is member i's timeout vote for view, with the genesis QC as
// its high QC.
func (h *harness) timeoutVote(i int, view types.ViewNumber) *consensus.TimeoutVote {
	return &consensus.TimeoutVote{View: view, HighQC: types.GenesisQC(&h.leaf), Signer: uint32(i),
		Signature: h.keys[i].Staking.Sign(consensus.TimeoutVoteDigest(h.genesis, view, 0))}
}

// aggregate signs msg with the keys of members and aggregates the
// signatures, as a certificate of those members would carry.
func (h *harness) aggregate(msg []byte, members ...int) (types.Bitmap, []types.ViewNumber, []byte) {
	h.t.Helper()
	signers := types.NewBitmap(h.table.Len())
	var sigs []keys.Signature
	for _, i := range members {
		signers.Set(i)
		sigs = append(sigs, h.keys[i].Staking.Sign(msg))
	}
	agg, err := keys.AggregateSignatures(sigs)
	if err != nil {
		h.t.Fatal(err)
	}
	return signers, make([]types.ViewNumber, len(members)), agg.Bytes()
}

// viewSyncCerts returns the view-sync certificates in r's messages.
func viewSyncCerts(r consensus.Ready) []*consensus.ViewSyncCert {
	var out []*consensus.ViewSyncCert
	for _, o := range r.Messages {
		if m, ok := o.Msg.(*consensus.Certificates); ok && m.ViewSync != nil {
			out = append(out, m.ViewSync)
		}
	}
	return out
}

// viewSyncVotes returns the view-sync votes in r's messages.
func viewSyncVotes(r consensus.Ready) []consensus.Outbound {
	var out []consensus.Outbound
	for _, o := range r.Messages {
		if _, ok := o.Msg.(*consensus.ViewSyncVote); ok {
			out = append(out, o)
		}
	}
	return out
}

// roundCerts runs round at relay index 0 through its relay, leader(round),
// with scripted votes of the two members after it, checking each phase's
// threshold on the way, and returns the pre-commit, commit and finalize
// certificates it broadcast.
func roundCerts(t *testing.T, h *harness, round types.ViewNumber) [3]*consensus.ViewSyncCert {
	t.Helper()
	r := h.table.Leader(round)
	relay := h.engine(r, nil)
	relay.Ready()
	a, b := (r+1)%4, (r+2)%4
	var out [3]*consensus.ViewSyncCert
	for i, phase := range []consensus.Phase{consensus.PhasePreCommit, consensus.PhaseCommit, consensus.PhaseFinalize} {
		// Before the last vote the set is one short of its threshold: the
		// relay's own vote (cast on the previous certificate) and a's for
		// commit and finalize, a's alone for pre-commit.
		relay.Step(a, h.vsVote(a, phase, round, 0))
		if c := viewSyncCerts(relay.Ready()); len(c) != 0 {
			t.Fatalf("round %d: a %s certificate formed one vote short of its threshold", round, phase)
		}
		if phase == consensus.PhaseFinalize && relay.View() >= round {
			t.Fatalf("relay entered round %d before the finalize certificate formed", round)
		}
		relay.Step(b, h.vsVote(b, phase, round, 0))
		rd := relay.Ready()
		c := viewSyncCerts(rd)
		if len(c) != 1 || c[0].Phase != phase || c[0].Round != round || c[0].Relay != 0 {
			t.Fatalf("round %d: %d certificates at the %s threshold (%+v), want the %s certificate of relay 0", round, len(c), phase, c, phase)
		}
		want := 3
		if phase == consensus.PhasePreCommit {
			want = 2
		}
		if got := c[0].Signers.Count(); got != want {
			t.Fatalf("round %d: %s certificate of %d signers, want %d", round, phase, got, want)
		}
		out[i] = c[0]
		if phase != consensus.PhaseFinalize && relay.View() >= round {
			t.Fatalf("relay entered round %d on a %s certificate", round, phase)
		}
	}
	if relay.View() != round {
		t.Fatalf("relay at view %d after its finalize certificate for round %d", relay.View(), round)
	}
	return out
}

// A relay collects each phase's votes and forms its certificate exactly at
// the threshold: f+1 pre-commit votes, 2f+1 commit and finalize votes, the
// relay's own among them; the finalize certificate moves it to the round.
func TestScriptedViewSyncPhasesFormAtTheirThresholds(t *testing.T) {
	h := newHarness(t, 4)
	roundCerts(t, h, 2)
}

// A replica answers a pre-commit certificate with a commit vote and a
// commit certificate with a finalize vote to the same relay, having first
// made sure durably it can never vote below the round; a finalize
// certificate moves it to the round.
func TestScriptedViewSyncCertificatesMoveAReplica(t *testing.T) {
	h := newHarness(t, 4)
	certs := roundCerts(t, h, 2)
	e := h.engine(3, nil)
	e.Ready()
	for i, next := range []consensus.Phase{consensus.PhaseCommit, consensus.PhaseFinalize} {
		e.Step(2, &consensus.Certificates{ViewSync: certs[i]})
		r := e.Ready()
		votes := viewSyncVotes(r)
		if len(votes) != 1 {
			t.Fatalf("replica sent %d view-sync votes on a %s certificate, want 1", len(votes), certs[i].Phase)
		}
		v := votes[0].Msg.(*consensus.ViewSyncVote)
		if votes[0].To != 2 || v.Phase != next || v.Round != 2 || v.Relay != 0 {
			t.Fatalf("replica answered the %s certificate with a %s vote for round %d relay %d to member %d, want a %s vote for round 2 relay 0 to member 2",
				certs[i].Phase, v.Phase, v.Round, v.Relay, votes[0].To, next)
		}
		if e.View() != 1 {
			t.Fatalf("replica at view %d after a %s certificate, want 1", e.View(), certs[i].Phase)
		}
		if i == 0 && (r.Safety == nil || r.Safety.LastVotedView < 1) {
			t.Fatalf("commit vote for round 2 sent without last voted view 1 persisted in the same Ready (safety %+v)", r.Safety)
		}
	}
	e.Step(2, &consensus.Certificates{ViewSync: certs[2]})
	if len(viewSyncVotes(e.Ready())) != 0 || e.View() != 2 {
		t.Fatalf("after the finalize certificate: view %d, want 2 and no further view-sync vote", e.View())
	}
}

// A pre-commit certificate for a round above a node's view and target
// makes the node join that round: it casts its commit vote there, after
// durably giving up every view below the round.
func TestScriptedViewSyncNodeJoinsAHigherRound(t *testing.T) {
	h := newHarness(t, 4)
	certs := roundCerts(t, h, 5) // relay leader(5) = member 1
	e := h.engine(3, nil)
	e.Ready()
	e.Step(1, &consensus.Certificates{ViewSync: certs[0]})
	r := e.Ready()
	votes := viewSyncVotes(r)
	if len(votes) != 1 || votes[0].To != 1 || votes[0].Msg.(*consensus.ViewSyncVote).Phase != consensus.PhaseCommit || votes[0].Msg.(*consensus.ViewSyncVote).Round != 5 {
		t.Fatalf("node in view 1 answered a pre-commit certificate for round 5 with %+v, want a commit vote for round 5 to member 1", votes)
	}
	if r.Safety == nil || r.Safety.LastVotedView < 4 {
		t.Fatalf("commit vote for round 5 without last voted view 4 persisted with it (safety %+v)", r.Safety)
	}
	e.Step(1, &consensus.Certificates{ViewSync: certs[2]})
	if e.View() != 5 {
		t.Fatalf("node at view %d after the finalize certificate for round 5", e.View())
	}
}

// Certificates and votes that must not count: too few signers, a relay
// index or round other than the one signed, a phase relabelled, votes sent
// to a member that does not collect them, and certificates for rounds the
// node has passed (valid, but they move nothing and are answered by no vote).
func TestScriptedViewSyncRefusesWhatMustNotCount(t *testing.T) {
	h := newHarness(t, 4)
	certs := roundCerts(t, h, 2)
	fin := certs[2]

	forged := func(f func(c *consensus.ViewSyncCert)) *consensus.ViewSyncCert {
		c := *fin
		f(&c)
		return &c
	}
	fewSigners, fewViews, fewSig := h.aggregate(consensus.ViewSyncVoteDigest(h.genesis, consensus.PhaseFinalize, 2, 0, 0), 2, 3)
	for name, c := range map[string]*consensus.ViewSyncCert{
		"wrong relay": forged(func(c *consensus.ViewSyncCert) { c.Relay = 1 }),
		"wrong round": forged(func(c *consensus.ViewSyncCert) { c.Round = 3 }),
		"commit cert relabelled finalize": func() *consensus.ViewSyncCert {
			c := *certs[1]
			c.Phase = consensus.PhaseFinalize
			return &c
		}(),
		"f+1 finalize signers": forged(func(c *consensus.ViewSyncCert) {
			c.Signers, c.HighViews, c.Signature = fewSigners, fewViews, fewSig
		}),
	} {
		t.Run(name, func(t *testing.T) {
			e := h.engine(0, nil)
			e.Ready()
			e.Step(1, &consensus.Certificates{ViewSync: c})
			r := e.Ready()
			if e.View() != 1 || len(r.Messages) != 0 || e.Stats().InvalidMessages != 1 {
				t.Fatalf("view %d, %d messages sent, %d invalid messages; want view 1, nothing sent, 1 invalid", e.View(), len(r.Messages), e.Stats().InvalidMessages)
			}
		})
	}

	t.Run("votes for another relay", func(t *testing.T) {
		relay := h.engine(2, nil) // collects relay index 0 of round 2, not index 1 (leader(3))
		relay.Ready()
		for _, i := range []int{0, 1, 3} {
			relay.Step(i, h.vsVote(i, consensus.PhasePreCommit, 2, 1))
		}
		if c := viewSyncCerts(relay.Ready()); len(c) != 0 || relay.Stats().InvalidMessages != 3 {
			t.Fatalf("relay of index 0 formed %d certificates from votes for index 1 and counted %d invalid, want 0 and 3", len(c), relay.Stats().InvalidMessages)
		}
	})

	t.Run("stale certificates", func(t *testing.T) {
		later := roundCerts(t, h, 6)
		e := h.engine(0, nil)
		e.Ready()
		e.Step(2, &consensus.Certificates{ViewSync: later[2]})
		e.Ready()
		if e.View() != 6 {
			t.Fatalf("node at view %d after the finalize certificate for round 6", e.View())
		}
		for _, c := range certs {
			e.Step(2, &consensus.Certificates{ViewSync: c})
			r := e.Ready()
			if e.View() != 6 || len(viewSyncVotes(r)) != 0 {
				t.Fatalf("a %s certificate for round 2 at view 6: view %d, %d view-sync votes; want view 6 and none", c.Phase, e.View(), len(viewSyncVotes(r)))
			}
		}
		if n := e.Stats().InvalidMessages; n != 0 {
			t.Fatalf("stale but valid certificates counted as %d invalid messages", n)
		}
	})
}

// With every proposal of view 1 and every timeout vote lost, no timeout
// certificate can form: the nodes time out twice, run view sync for round
// 2 through its first relay (leader(2), member 2) phase by phase, enter
// view 2 on the finalize certificate, and the leader of view 2 proposes
// with it as evidence.
func TestScriptedViewSyncWithoutATimeoutCertificate(t *testing.T) {
	c := newCluster(t, 4)
	c.drop = func(env envelope) bool {
		switch m := env.m.(type) {
		case *consensus.Proposal:
			return m.Leaf.View == 1
		case *consensus.TimeoutVote:
			return true
		}
		return false
	}
	if _, ok := c.runUntil(5*time.Second, func() bool {
		for i := range c.engines {
			if c.height[i] < 2 {
				return false
			}
		}
		return true
	}); !ok {
		t.Fatalf("views %v, heights %v: no progress after view sync", c.views(), c.height)
	}
	formed := map[consensus.Phase]int{} // phase → order formed
	var finalized *consensus.Proposal
	for _, env := range c.sent {
		switch m := env.m.(type) {
		case *consensus.Certificates:
			if m.TC != nil {
				t.Fatalf("a timeout certificate for view %d formed with every timeout vote lost", m.TC.View)
			}
			if vs := m.ViewSync; vs != nil && vs.Round == 2 && env.from == 2 && vs.Relay == 0 {
				if _, seen := formed[vs.Phase]; !seen {
					formed[vs.Phase] = len(formed)
				}
			}
		case *consensus.Proposal:
			if m.TC != nil {
				t.Fatalf("proposal of view %d carries a timeout certificate", m.Leaf.View)
			}
			if m.Leaf.View == 2 {
				finalized = m
			}
		}
	}
	for i, p := range []consensus.Phase{consensus.PhasePreCommit, consensus.PhaseCommit, consensus.PhaseFinalize} {
		if got, ok := formed[p]; !ok || got != i {
			t.Fatalf("member 2 broadcast the round-2 certificates in the order %v, want pre-commit, commit, finalize", formed)
		}
	}
	if finalized == nil || finalized.Finalize == nil || finalized.Finalize.Round != 2 || finalized.Finalize.Phase != consensus.PhaseFinalize {
		t.Fatalf("the proposal of view 2 does not carry the finalize certificate for round 2: %+v", finalized)
	}
	for i, e := range c.engines {
		if s := e.Stats(); s.ViewSyncs == 0 || s.Timeouts < 2 {
			t.Errorf("node %d: %d view syncs after %d timeouts, want view sync after two", i, s.ViewSyncs, s.Timeouts)
		}
	}
}

// The leader of view 2 (member 2) forms the timeout certificate for view 1
// exactly at 2f+1 timeout votes, enters view 2 on it and proposes with it;
// a replica votes for that proposal but refuses one for view 3 that offers
// the same certificate (for view 1, not 2) as its evidence.
func TestScriptedTimeoutCertificate(t *testing.T) {
	h := newHarness(t, 4)
	leader := h.engine(2, nil)
	leader.Ready()
	for _, i := range []int{0, 1} {
		leader.Step(i, h.timeoutVote(i, 1))
	}
	if r := leader.Ready(); leader.View() != 1 || len(r.Messages) != 0 {
		t.Fatalf("after 2 timeout votes: view %d, %d messages; want view 1 and nothing sent", leader.View(), len(r.Messages))
	}
	leader.Step(3, h.timeoutVote(3, 1))
	leader.Ready()
	if leader.View() != 2 {
		t.Fatalf("after 3 timeout votes for view 1: view %d, want 2", leader.View())
	}
	leader.Tick(h.now.Add(20 * time.Millisecond)) // past the builder timeout
	props := proposals(leader.Ready())
	if len(props) != 1 || props[0].Leaf.View != 2 || props[0].TC == nil || props[0].TC.View != 1 || props[0].TC.Signers.Count() != 3 {
		t.Fatalf("leader of view 2 sent %+v, want one proposal for view 2 with the timeout certificate of view 1 (3 signers)", props)
	}
	tc := props[0].TC

	replica := h.engine(0, nil)
	replica.Ready()
	replica.Step(2, props[0])
	if r := replica.Ready(); votes(r) != 1 || replica.View() != 2 {
		t.Fatalf("replica at view %d sent %d votes for the proposal of view 2 with a TC of view 1, want view 2 and 1 vote", replica.View(), votes(r))
	}

	// A proposal for view 3 justified by the genesis QC and the same TC.
	header, payload, err := emptyApp{h.rules}.BuildBlock(consensus.BuildRequest{Parent: &h.leaf, View: 3, Now: h.now})
	if err != nil {
		t.Fatal(err)
	}
	leaf := types.Leaf{View: 3, Parent: h.leaf.Commit(), Header: header, JustifyQC: types.GenesisQC(&h.leaf)}
	wrong := &consensus.Proposal{Leaf: leaf, Payload: payload, TC: tc, Signature: consensus.SignProposal(h.keys[3].Staking, h.genesis, &leaf)}
	other := h.engine(1, nil)
	other.Ready()
	other.Step(3, wrong)
	if r := other.Ready(); votes(r) != 0 || len(r.Proposals) != 0 || other.View() >= 3 || other.Stats().InvalidMessages != 1 {
		t.Fatalf("proposal of view 3 with a TC of view 1: %d votes, %d stored, view %d, %d invalid; want none, none, below 3, 1",
			votes(r), len(r.Proposals), other.View(), other.Stats().InvalidMessages)
	}

	// A timeout certificate of f+1 signers is refused.
	signers, hv, sig := h.aggregate(consensus.TimeoutVoteDigest(h.genesis, 1, 0), 0, 1)
	few := &consensus.TimeoutCert{View: 1, HighQC: types.GenesisQC(&h.leaf), Signers: signers, HighViews: hv, Signature: sig}
	fresh := h.engine(3, nil)
	fresh.Ready()
	fresh.Step(0, &consensus.Certificates{TC: few})
	if fresh.View() != 1 || fresh.Stats().InvalidMessages != 1 {
		t.Fatalf("a timeout certificate of 2 signers: view %d, %d invalid; want view 1, 1 invalid", fresh.View(), fresh.Stats().InvalidMessages)
	}
}
