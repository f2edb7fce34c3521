package consensus_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/types"
)

// daEngine is harness.engine with the DA path on: the VID scheme of the
// harness's chain rules.
func (h *harness) daEngine(i int) *consensus.Engine { return h.daEngineWith(i, nil) }

// daEngineWith is daEngine sharing verifier v (nil: its own).
func (h *harness) daEngineWith(i int, v *consensus.Verifier) *consensus.Engine {
	h.t.Helper()
	e, err := consensus.New(consensus.Params{
		Config:     consensus.Config{NextViewTimeout: time.Second, BuilderTimeout: 10 * time.Millisecond},
		StakeTable: h.table, Key: h.keys[i].Staking, Genesis: h.genesis, GenesisLeaf: h.leaf,
		Validator: emptyApp{h.rules}, Builder: emptyApp{h.rules}, VID: h.rules.VIDScheme(), Now: h.now,
		Verifier: v,
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

// step hands e one message and returns what it did.
func step(e *consensus.Engine, from int, m consensus.Message) consensus.Ready {
	e.Step(from, m)
	return e.Ready()
}

// daPublish runs the DA votes of view 1 after daViewOne: the DA proposal
// to members voters, their DA votes and the leader's own to the leader. It
// returns the proposal the leader then publishes (nil if none).
func daPublish(engines []*consensus.Engine, leader int, lr consensus.Ready, voters ...int) *consensus.Proposal {
	daVotes := sent[*consensus.DAVote](lr, leader) // the leader's own
	for _, i := range voters {
		for _, dp := range sent[*consensus.DAProposal](lr, i) {
			daVotes = append(daVotes, sent[*consensus.DAVote](step(engines[i], leader, dp), leader)...)
		}
	}
	var prop *consensus.Proposal
	for _, v := range daVotes {
		for _, p := range sent[*consensus.Proposal](step(engines[leader], int(v.Signer), v), consensus.Broadcast) {
			prop = p
		}
	}
	return prop
}

// publishedViewOne runs view 1 with the DA path on up to the proposal its
// leader publishes with the DA certificate (DA votes of members 2 and 3).
func (h *harness) publishedViewOne(leader int) *consensus.Proposal {
	h.t.Helper()
	engines, lr := h.daViewOne(leader)
	prop := daPublish(engines, leader, lr, 2, 3)
	if prop == nil {
		h.t.Fatal("the leader published no proposal")
	}
	return prop
}

// TestDAPathVoteNeedsCertificateAndShare scripts view 1 of a 4-member
// network with the DA path on: the leader sends the DA proposal to the
// committee and a share to each member; a DA member checks the payload
// against its commitment and DA-votes before any quorum proposal; the
// leader forms the DA certificate from the committee's DA votes and only
// then publishes its proposal, without the payload and with the
// certificate; a replica votes once it holds the proposal and its checked
// share; a corrupted share gets no vote and reports the leader; a DA
// proposal whose payload is not its commitment's, or a second one for the
// view, or one from another member, is refused.
func TestDAPathVoteNeedsCertificateAndShare(t *testing.T) {
	h := newHarness(t, 4)
	const leader = 1 // leads view 1
	engines, lr := h.daViewOne(leader)
	if props := sent[*consensus.Proposal](lr, 3); len(props) != 0 {
		t.Fatalf("leader sent %d proposals before it held the DA certificate, want 0", len(props))
	}
	if len(lr.DA) == 0 {
		t.Fatal("the leader did not store its DA proposal before sending it")
	}
	dps := sent[*consensus.DAProposal](lr, 3)
	if len(dps) != 1 {
		t.Fatalf("leader sent member 3 %d DA proposals, want 1", len(dps))
	}
	dp := dps[0]

	// Member 2 first gets a DA proposal whose payload is not the one its
	// commitment names: refused, no DA vote, the leader reported.
	other, _ := types.EncodePayload([]types.Transaction{{Namespace: 9, Payload: []byte("other")}})
	oc, _ := h.rules.PayloadCommitment(&other)
	wrong := &consensus.DAProposal{View: 1, Commitment: dp.Commitment, Payload: other}
	if rd := step(engines[2], leader, wrong); len(sent[*consensus.DAVote](rd, leader)) != 0 || engines[2].Stats().InvalidMessages != 1 ||
		!slices.ContainsFunc(rd.Faulty, func(f consensus.Fault) bool { return f.Member == leader }) {
		t.Fatal("a DA proposal whose payload does not match its commitment was not refused, or its leader not reported")
	}

	// A DA proposal from the leader of view 3, two views ahead, is
	// dropped unhashed: no DA vote, and its commitment (another payload's)
	// not even found wrong.
	ahead := &consensus.DAProposal{View: 3, Commitment: dp.Commitment, Payload: other}
	before := engines[2].Stats().InvalidMessages
	if rd := step(engines[2], 3, ahead); len(sent[*consensus.DAVote](rd, 3)) != 0 || engines[2].Stats().InvalidMessages != before {
		t.Fatal("a DA proposal two views ahead was voted for or counted invalid")
	}

	// Replica 3 (its votes go to member 2, the next leader): its share
	// gets no vote; the DA proposal gets a DA vote and no quorum vote.
	r := engines[3]
	shares := sent[*consensus.VIDShare](lr, 3)
	if len(shares) != 1 {
		t.Fatalf("leader sent member 3 %d shares, want 1", len(shares))
	}
	if rd := step(r, leader, shares[0]); votes(rd) != 0 {
		t.Fatal("voted with a share alone")
	}
	rd := step(r, leader, dp)
	if n := len(sent[*consensus.DAVote](rd, leader)); n != 1 || votes(rd) != 0 {
		t.Fatalf("member 3 sent %d DA votes and %d quorum votes on the DA proposal, want 1 and 0", n, votes(rd))
	}
	// A second DA proposal for view 1 from the leader is refused as
	// equivocation, and one from another member as not the leader's.
	forged := &consensus.DAProposal{View: 1, Commitment: oc, Payload: other}
	before = r.Stats().InvalidMessages
	step(r, leader, forged)
	step(r, 0, forged)
	if r.Stats().InvalidMessages != before+2 {
		t.Fatal("a second DA proposal for the view, or one from another member than the leader, was not refused")
	}

	// The leader forms the DA certificate from 3 of the 4 DA votes (its
	// own, member 3's and member 2's) and publishes its proposal with it.
	r.Step(leader, dp) // again: no second DA vote
	if n := len(sent[*consensus.DAVote](r.Ready(), leader)); n != 0 {
		t.Fatalf("member 3 DA-voted %d more times for a DA proposal delivered again", n)
	}
	ownDP := sent[*consensus.DAProposal](lr, 3)[0]
	var daVotes []*consensus.DAVote
	daVotes = append(daVotes, sent[*consensus.DAVote](rd, leader)...)
	daVotes = append(daVotes, sent[*consensus.DAVote](step(engines[2], leader, ownDP), leader)...)
	daVotes = append(daVotes, sent[*consensus.DAVote](lr, leader)...)
	var prop *consensus.Proposal
	for _, v := range daVotes {
		for _, p := range sent[*consensus.Proposal](step(engines[leader], int(v.Signer), v), consensus.Broadcast) {
			prop = p
		}
	}
	if prop == nil || prop.DA == nil || prop.DA.Payload != prop.Leaf.Header.PayloadCommitment {
		t.Fatal("the leader published no proposal with its DA certificate after 3 DA votes")
	}
	if prop.Payload.Size() != 0 || len(prop.Payload.NsTable.Bytes) != 0 {
		t.Fatal("the published proposal carries its payload")
	}
	rd = step(r, leader, prop)
	if votes(rd) != 1 {
		t.Fatalf("member 3 cast %d quorum votes with proposal, DA certificate and share, want 1", votes(rd))
	}
	if !slices.ContainsFunc(rd.DA, func(m consensus.Message) bool { _, ok := m.(*consensus.VIDShare); return ok }) {
		t.Fatal("member 3 voted without storing its checked share")
	}

	// Member 0 gets the proposal without its certificate: no vote; then
	// a corrupted share and the certificate: no vote, a bad share counted
	// and the leader reported.
	e0 := engines[0]
	bare := *prop
	bare.DA = nil
	step(e0, leader, &bare)
	sh := *sent[*consensus.VIDShare](lr, 0)[0]
	sh.Share = slices.Clone(sh.Share)
	sh.Share[len(sh.Share)-1] ^= 1
	if rd := step(e0, leader, &sh); votes(rd) != 0 {
		t.Fatal("voted without the DA certificate")
	}
	rd = step(e0, leader, &consensus.Certificates{DA: prop.DA})
	if votes(rd) != 0 || e0.Stats().BadShares != 1 {
		t.Fatalf("member 0 with a corrupted share: %d votes, %d bad shares, want 0 and 1", votes(rd), e0.Stats().BadShares)
	}
	if !slices.ContainsFunc(rd.Faulty, func(f consensus.Fault) bool { return f.Member == leader }) {
		t.Fatal("the leader that sent a corrupted share was not reported")
	}

	// A proposal whose DA certificate is another payload's is refused.
	e2 := engines[2]
	mixed := *prop
	dac := *prop.DA
	dac.Payload = oc
	mixed.DA = &dac
	before = e2.Stats().InvalidMessages
	if rd := step(e2, leader, &mixed); votes(rd) != 0 || e2.Stats().InvalidMessages != before+1 {
		t.Fatal("a proposal with the DA certificate of another payload was not refused")
	}
}

// TestDuplicateMessagesCostNoPairing: a proposal delivered again (re-sent
// by its leader, or relayed by another member) costs no signature check
// after the first, and the first costs one pairing product for its
// signature, justify QC and DA certificate together; another proposal for
// the same view costs none either.
func TestDuplicateMessagesCostNoPairing(t *testing.T) {
	h := newHarness(t, 4)
	const leader = 1
	prop := h.publishedViewOne(leader)
	r := h.daEngine(0)
	r.Ready()
	// The proposal's justify is the genesis QC, which costs no check: the
	// product holds its signature and its DA certificate.
	r.Step(leader, prop)
	r.Ready()
	first := r.Stats().SignatureChecks
	if first != 1 {
		t.Fatalf("the proposal with its DA certificate cost %d signature checks, want 1 product", first)
	}
	for range 3 {
		r.Step(leader, prop)
		r.Step(2, prop)
	}
	r.Ready()
	if got := r.Stats().SignatureChecks; got != first {
		t.Fatalf("6 copies of a checked proposal cost %d more signature checks, want 0", got-first)
	}
	// A second proposal for the view, validly signed by its leader
	// (equivocation), is refused without a check.
	second := *prop
	second.Leaf.Header.Timestamp++
	second.Signature = consensus.SignProposal(h.keys[leader].Staking, h.genesis, &second.Leaf)
	invalid := r.Stats().InvalidMessages
	if rd := step(r, leader, &second); len(rd.Proposals) != 0 || r.Stats().InvalidMessages != invalid+1 || r.Stats().SignatureChecks != first {
		t.Fatalf("a second proposal for the view: %d stored, %d invalid, %d checks; want 0, 1, 0",
			len(rd.Proposals), r.Stats().InvalidMessages-invalid, r.Stats().SignatureChecks-first)
	}
}

// TestPrecheckLeavesTheEngineNoPairing: a proposal checked ahead by the
// verifier an engine shares (Verifier.Precheck, as a node's verification
// workers do) costs the engine no pairing, and another proposal for the
// view costs no precheck; a proposal with a signature by another member
// fails its precheck and is still refused by the engine,
// which reports its sender; a verifier made for another network is
// refused.
func TestPrecheckLeavesTheEngineNoPairing(t *testing.T) {
	h := newHarness(t, 4)
	const leader = 1
	prop := h.publishedViewOne(leader)
	if lo, hi, ok := consensus.Views(prop); !ok || lo != 1 || hi != 1 {
		t.Fatalf("Views of the view-1 proposal: %d, %d, %v", lo, hi, ok)
	}

	v := consensus.NewVerifier(h.table, h.genesis, &h.leaf)
	r := h.daEngineWith(0, v)
	r.Ready()
	if err := v.Precheck(prop); err != nil {
		t.Fatalf("precheck of a valid proposal: %v", err)
	}
	checked := r.Stats().SignatureChecks
	if checked != 1 {
		t.Fatalf("the precheck cost %d checks, want 1 product", checked)
	}
	if rd := step(r, leader, prop); len(rd.Proposals) != 1 {
		t.Fatal("the engine did not take the prechecked proposal")
	}
	if got := r.Stats().SignatureChecks; got != checked {
		t.Fatalf("the engine spent %d checks on a prechecked proposal, want 0", got-checked)
	}

	// A second proposal for view 1, validly signed by its leader, is not
	// checked ahead: the engine takes one proposal per view.
	second := *prop
	second.Leaf.Header.Timestamp++
	second.Signature = consensus.SignProposal(h.keys[leader].Staking, h.genesis, &second.Leaf)
	if err := v.Precheck(&second); err != nil || r.Stats().SignatureChecks != checked {
		t.Fatalf("precheck of a second proposal for the view: %v, %d checks; want nil and 0", err, r.Stats().SignatureChecks-checked)
	}

	forged := *prop
	forged.Signature = consensus.SignProposal(h.keys[2].Staking, h.genesis, &prop.Leaf)
	v2 := consensus.NewVerifier(h.table, h.genesis, &h.leaf)
	r2 := h.daEngineWith(3, v2)
	r2.Ready()
	if err := v2.Precheck(&forged); !errors.Is(err, consensus.ErrInvalidMessage) {
		t.Fatalf("precheck of a proposal signed by another member: %v, want ErrInvalidMessage", err)
	}
	rd := step(r2, leader, &forged)
	if len(rd.Proposals) != 0 || !slices.ContainsFunc(rd.Faulty, func(f consensus.Fault) bool { return f.Member == leader }) {
		t.Fatal("the engine took a proposal whose precheck failed, or did not report its sender")
	}

	other := newHarness(t, 5)
	if _, err := consensus.New(consensus.Params{
		StakeTable: h.table, Key: h.keys[0].Staking, Genesis: h.genesis, GenesisLeaf: h.leaf,
		Validator: emptyApp{h.rules}, Builder: emptyApp{h.rules}, Now: h.now,
		Verifier: consensus.NewVerifier(other.table, other.genesis, &other.leaf),
	}); !errors.Is(err, consensus.ErrInvalidConfig) {
		t.Fatalf("an engine with another network's verifier: %v, want ErrInvalidConfig", err)
	}
}
