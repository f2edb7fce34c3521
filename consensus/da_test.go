package consensus_test

import (
	"slices"
	"testing"
	"time"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/types"
)

// daEngine is harness.engine with the DA path on: the VID scheme of the
// harness's chain rules.
func (h *harness) daEngine(i int) *consensus.Engine {
	h.t.Helper()
	e, err := consensus.New(consensus.Params{
		Config:     consensus.Config{NextViewTimeout: time.Second, BuilderTimeout: 10 * time.Millisecond},
		StakeTable: h.table, Key: h.keys[i].Staking, Genesis: h.genesis, GenesisLeaf: h.leaf,
		Validator: emptyApp{h.rules}, Builder: emptyApp{h.rules}, VID: h.rules.VIDScheme(), Now: h.now,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return e
}

// daViewOne starts 4 engines with the DA path on and lets leader (the
// leader of view 1) propose; it returns the engines and the leader's Ready.
func (h *harness) daViewOne(leader int) ([]*consensus.Engine, consensus.Ready) {
	engines := make([]*consensus.Engine, 4)
	for i := range engines {
		engines[i] = h.daEngine(i)
		engines[i].Ready()
	}
	engines[leader].Tick(h.now.Add(20 * time.Millisecond))
	return engines, engines[leader].Ready()
}

// sent returns the messages of type T in r addressed to member to (or
// broadcast).
func sent[T consensus.Message](r consensus.Ready, to int) []T {
	var out []T
	for _, o := range r.Messages {
		if m, ok := o.Msg.(T); ok && (o.To == to || o.To == consensus.Broadcast) {
			out = append(out, m)
		}
	}
	return out
}

// TestDAPathVoteNeedsCertificateAndShare scripts view 1 of a 4-member
// network with the DA path on: the leader sends the DA proposal to the
// committee, a share to each member and a proposal without payload; a
// replica votes only once it holds the proposal, its checked share and the
// DA certificate the leader formed from the committee's DA votes; a
// corrupted share gets no vote and reports the leader; a second DA
// proposal for the view is refused.
func TestDAPathVoteNeedsCertificateAndShare(t *testing.T) {
	h := newHarness(t, 4)
	const leader = 1 // leads view 1
	engines, lr := h.daViewOne(leader)
	props := sent[*consensus.Proposal](lr, 3)
	if len(props) != 1 || props[0].Payload.Size() != 0 || len(props[0].Payload.NsTable.Bytes) != 0 {
		t.Fatalf("leader sent %d proposals to member 3, want 1 without its payload", len(props))
	}
	prop := props[0]
	if len(lr.DA) == 0 {
		t.Fatal("the leader did not store its DA proposal before sending it")
	}

	// Replica 3 (its votes go to member 2, the next leader): the proposal
	// alone, then its share, get no vote.
	r := engines[3]
	step := func(e *consensus.Engine, from int, m consensus.Message) consensus.Ready {
		e.Step(from, m)
		return e.Ready()
	}
	if rd := step(r, leader, prop); votes(rd) != 0 {
		t.Fatal("voted with the proposal alone")
	}
	shares := sent[*consensus.VIDShare](lr, 3)
	if len(shares) != 1 {
		t.Fatalf("leader sent member 3 %d shares, want 1", len(shares))
	}
	if rd := step(r, leader, shares[0]); votes(rd) != 0 {
		t.Fatal("voted without the DA certificate")
	}
	// The DA proposal makes member 3 (a DA member) DA-vote.
	dps := sent[*consensus.DAProposal](lr, 3)
	if len(dps) != 1 || dps[0].Commitment != prop.Leaf.Header.PayloadCommitment {
		t.Fatalf("leader sent member 3 %d DA proposals, want 1 for the proposal's payload", len(dps))
	}
	rd := step(r, leader, dps[0])
	daVotes := sent[*consensus.DAVote](rd, leader)
	if len(daVotes) != 1 || votes(rd) != 0 {
		t.Fatalf("member 3 sent %d DA votes and %d quorum votes on the DA proposal, want 1 and 0", len(daVotes), votes(rd))
	}
	// A second DA proposal for view 1 from the leader is refused as
	// equivocation, and one from another member as not the leader's.
	other, _ := types.EncodePayload([]types.Transaction{{Namespace: 9, Payload: []byte("other")}})
	oc, _ := h.rules.PayloadCommitment(&other)
	forged := &consensus.DAProposal{View: 1, Commitment: oc, Payload: other}
	before := r.Stats().InvalidMessages
	step(r, leader, forged)
	step(r, 0, forged)
	if r.Stats().InvalidMessages != before+2 {
		t.Fatal("a second DA proposal for the view, or one from another member than the leader, was not refused")
	}

	// The leader forms the DA certificate from 3 of the 4 DA votes (its
	// own, member 3's and member 2's).
	for _, i := range []int{2} {
		e := engines[i]
		step(e, leader, prop)
		for _, dp := range sent[*consensus.DAProposal](lr, i) {
			for _, v := range sent[*consensus.DAVote](step(e, leader, dp), leader) {
				daVotes = append(daVotes, v)
			}
		}
	}
	var dac *consensus.DACert
	for _, v := range daVotes {
		for _, c := range sent[*consensus.Certificates](step(engines[leader], int(v.Signer), v), 3) {
			if c.DA != nil {
				dac = c.DA
			}
		}
	}
	if dac == nil || dac.Payload != prop.Leaf.Header.PayloadCommitment {
		t.Fatal("the leader formed no DA certificate from 3 DA votes")
	}
	rd = step(r, leader, &consensus.Certificates{DA: dac})
	if votes(rd) != 1 {
		t.Fatalf("member 3 cast %d quorum votes with proposal, share and DA certificate, want 1", votes(rd))
	}
	if !slices.ContainsFunc(rd.DA, func(m consensus.Message) bool { _, ok := m.(*consensus.VIDShare); return ok }) {
		t.Fatal("member 3 voted without storing its checked share")
	}

	// Member 0 gets the proposal, the DA certificate and a corrupted
	// share: no vote, a bad share counted and the leader reported.
	e0 := engines[0]
	step(e0, leader, prop)
	sh := *sent[*consensus.VIDShare](lr, 0)[0]
	sh.Share = slices.Clone(sh.Share)
	sh.Share[len(sh.Share)-1] ^= 1
	step(e0, leader, &sh)
	rd = step(e0, leader, &consensus.Certificates{DA: dac})
	if votes(rd) != 0 || e0.Stats().BadShares != 1 {
		t.Fatalf("member 0 with a corrupted share: %d votes, %d bad shares, want 0 and 1", votes(rd), e0.Stats().BadShares)
	}
	if !slices.ContainsFunc(rd.Faulty, func(f consensus.Fault) bool { return f.Member == leader }) {
		t.Fatal("the leader that sent a corrupted share was not reported")
	}
}

// TestDuplicateMessagesCostNoPairing: a proposal delivered again (re-sent
// by its leader, or relayed by another member) costs no signature check
// after the first.
func TestDuplicateMessagesCostNoPairing(t *testing.T) {
	h := newHarness(t, 4)
	const leader = 1
	engines, lr := h.daViewOne(leader)
	prop := sent[*consensus.Proposal](lr, 3)[0]
	r := engines[3]
	r.Step(leader, prop)
	r.Ready()
	first := r.Stats().SignatureChecks
	if first == 0 {
		t.Fatal("the proposal cost no signature check")
	}
	for range 3 {
		r.Step(leader, prop)
		r.Step(2, prop)
	}
	r.Ready()
	if got := r.Stats().SignatureChecks; got != first {
		t.Fatalf("6 copies of a checked proposal cost %d more signature checks, want 0", got-first)
	}
}
