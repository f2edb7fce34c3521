package consensus_test

import (
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/genesis"
	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/node/replica"
	"github.com/gospresso/gospresso/types"
)

// harness builds engines for an n-member network with stake 1 each. The
// network comes from a genesis through replica.NewSetup, as a node's does.
type harness struct {
	t       testing.TB
	keys    []keys.Keys
	table   *consensus.StakeTable
	genesis [32]byte
	leaf    types.Leaf
	rules   chain.Rules
	now     time.Time
}

func newHarness(t testing.TB, n int) *harness {
	t.Helper()
	h := &harness{t: t, now: time.Unix(1_700_000_000, 0)}
	g := &genesis.Genesis{
		BaseVersion: types.Version{Major: 0, Minor: 2}, UpgradeVersion: types.Version{Major: 0, Minor: 2},
		StakeTableCapacity: uint64(max(n, 10)),
		ChainConfig:        types.ChainConfig{ChainID: types.NewU256(1), MaxBlockSize: 1 << 20},
		Timestamp:          uint64(h.now.Unix()),
	}
	for i := range n {
		k, err := keys.DeriveKeys([32]byte{31: 9}, uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		h.keys = append(h.keys, k)
		g.StakeTable = append(g.StakeTable, genesis.StakeTableEntry{StakingKey: k.Staking.PubKey(), StateKey: k.State.PubKey(),
			DA: true, Stake: 1, ProofOfPossession: k.Staking.ProvePossession()})
	}
	setup, err := replica.NewSetup(g)
	if err != nil {
		t.Fatal(err)
	}
	h.table, h.genesis, h.leaf, h.rules = setup.Table, setup.Commitment, setup.GenesisBlock.Leaf, setup.Rules
	return h
}

func (h *harness) engine(i int, restore *consensus.State) *consensus.Engine {
	h.t.Helper()
	e, err := consensus.New(consensus.Params{
		Config:     consensus.Config{NextViewTimeout: time.Second, BuilderTimeout: 10 * time.Millisecond},
		StakeTable: h.table, Key: h.keys[i].Staking, Genesis: h.genesis, GenesisLeaf: h.leaf,
		Validator: emptyApp{h.rules}, Builder: emptyApp{h.rules},
		Restore: restore, Now: h.now,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return e
}

func proposals(r consensus.Ready) []*consensus.Proposal {
	var out []*consensus.Proposal
	for _, o := range r.Messages {
		if p, ok := o.Msg.(*consensus.Proposal); ok {
			out = append(out, p)
		}
	}
	return out
}

// A leader that crashes right after proposing (the proposal was persisted)
// re-sends exactly the stored proposal when it restarts, never a new one.
func TestRestartedLeaderResendsItsProposal(t *testing.T) {
	h := newHarness(t, 4)
	leader := 1 // leader of view 1
	e := h.engine(leader, nil)
	e.Tick(h.now.Add(20 * time.Millisecond)) // builder timeout: propose an empty block
	r := e.Ready()
	props := proposals(r)
	if len(props) != 1 || len(r.Proposals) != 1 {
		t.Fatalf("leader sent %d proposals and asked to persist %d, want 1 and 1", len(props), len(r.Proposals))
	}
	if r.Safety == nil || r.Safety.LastVotedView != 1 {
		t.Fatalf("the leader's own vote must be persisted with the proposal: safety %+v", r.Safety)
	}
	sent := props[0].Leaf.Commit()

	// Crash, then restart from what was persisted, later.
	restored := h.engine(leader, &consensus.State{
		Safety:    *r.Safety,
		Anchor:    consensus.FetchedLeaf{Leaf: h.leaf},
		AnchorQC:  types.GenesisQC(&h.leaf),
		Proposals: r.Proposals,
	})
	restored.Tick(h.now.Add(time.Second / 2))
	r2 := restored.Ready()
	again := proposals(r2)
	if len(again) != 1 {
		t.Fatalf("restarted leader sent %d proposals, want its stored one", len(again))
	}
	if got := again[0].Leaf.Commit(); got != sent {
		t.Fatalf("restarted leader proposed leaf %s, stored %s", got.Short(), sent.Short())
	}
	for _, o := range r2.Messages {
		if v, ok := o.Msg.(*consensus.Vote); ok && v.View == 1 {
			t.Fatal("restarted leader voted again in view 1")
		}
	}
}

// A replica restarted from its safety state never votes again in a view it
// voted in, even when the proposal is delivered again.
func TestRestartedReplicaDoesNotDoubleVote(t *testing.T) {
	h := newHarness(t, 4)
	leader := h.engine(1, nil)
	leader.Tick(h.now.Add(20 * time.Millisecond))
	prop := proposals(leader.Ready())[0]

	replica := h.engine(3, nil) // votes go to leader(2) = member 2
	replica.Step(1, prop)
	r := replica.Ready()
	votes := 0
	for _, o := range r.Messages {
		if _, ok := o.Msg.(*consensus.Vote); ok {
			votes++
		}
	}
	if votes != 1 || r.Safety == nil || r.Safety.LastVotedView != 1 {
		t.Fatalf("replica sent %d votes with safety %+v, want 1 vote and last voted view 1 persisted", votes, r.Safety)
	}
	restarted := h.engine(3, &consensus.State{Safety: *r.Safety, Anchor: consensus.FetchedLeaf{Leaf: h.leaf}, AnchorQC: types.GenesisQC(&h.leaf), Proposals: r.Proposals})
	restarted.Step(1, prop)
	for _, o := range restarted.Ready().Messages {
		if _, ok := o.Msg.(*consensus.Vote); ok {
			t.Fatal("restarted replica voted twice in view 1")
		}
	}
}

// Messages with bad signatures, unknown signers or for views far ahead are
// dropped and counted, and change nothing.
func TestInvalidMessagesAreDropped(t *testing.T) {
	h := newHarness(t, 4)
	leader := h.engine(1, nil)
	leader.Tick(h.now.Add(20 * time.Millisecond))
	prop := proposals(leader.Ready())[0]

	e := h.engine(2, nil)
	forged := *prop
	forged.Signature = h.keys[1].Staking.Sign([]byte("something else"))
	notLeader := *prop
	notLeader.Signature = consensus.SignProposal(h.keys[3].Staking, h.genesis, &prop.Leaf)
	far := &consensus.Vote{View: 5000, Signer: 0, Signature: consensus.SignVote(h.keys[0].Staking, h.genesis, 5000, types.Commitment{})}
	stranger := &consensus.Vote{View: 1, Signer: 9, Signature: prop.Signature}
	for _, m := range []consensus.Message{&forged, &notLeader, far, stranger} {
		e.Step(0, m)
	}
	if got := e.Stats().InvalidMessages; got != 4 {
		t.Fatalf("%d invalid messages counted, want 4", got)
	}
	if r := e.Ready(); len(r.Messages) != 0 || r.Safety != nil && r.Safety.LastVotedView != 0 {
		t.Fatalf("invalid messages caused actions: %+v", r)
	}
}

// A failed write is the caller's to handle, but the engine's contract is
// that the vote and the safety state come out together in one Ready: the
// vote is never visible before the state it depends on.
func TestVoteComesWithItsSafetyState(t *testing.T) {
	h := newHarness(t, 4)
	leader := h.engine(1, nil)
	leader.Tick(h.now.Add(20 * time.Millisecond))
	prop := proposals(leader.Ready())[0]
	e := h.engine(3, nil)
	e.Step(1, prop)
	r := e.Ready()
	if len(r.Messages) == 0 || r.Safety == nil || r.Safety.LastVotedView != prop.Leaf.View {
		t.Fatalf("vote without its safety state: %+v", r)
	}
}

func TestStakeThresholds(t *testing.T) {
	for _, tc := range []struct {
		stakes []uint64
		leader types.ViewNumber
	}{
		{[]uint64{1, 1, 1, 1}, 5},
		{[]uint64{^uint64(0), ^uint64(0), ^uint64(0)}, 7}, // sums beyond 64 bits
	} {
		var members []consensus.Member
		for i, s := range tc.stakes {
			k, _ := keys.DeriveKeys([32]byte{}, uint64(i))
			members = append(members, consensus.Member{Key: k.Staking.PubKey(), Stake: s})
		}
		table, err := consensus.NewStakeTable(members)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := table.Leader(tc.leader), int(uint64(tc.leader)%uint64(len(tc.stakes))); got != want {
			t.Errorf("leader(%d) = %d, want %d", tc.leader, got, want)
		}
	}
	k, _ := keys.DeriveKeys([32]byte{}, 0)
	for name, members := range map[string][]consensus.Member{
		"empty":     nil,
		"zero":      {{Key: k.Staking.PubKey(), Stake: 0}},
		"duplicate": {{Key: k.Staking.PubKey(), Stake: 1}, {Key: k.Staking.PubKey(), Stake: 1}},
	} {
		if _, err := consensus.NewStakeTable(members); err == nil {
			t.Errorf("%s stake table accepted", name)
		}
	}
}

// waiting is a Validator and BlockBuilder that answers ErrNotYet a number
// of times before deferring to the real ones, or rejects outright.
type waiting struct {
	consensus.Validator
	consensus.BlockBuilder
	validateWaits, buildWaits int
	reject                    error
	// heightSkew is added to the height of the headers it builds.
	heightSkew uint64
}

func (w *waiting) ValidateProposal(parent, leaf *types.Leaf, p *types.Payload, now time.Time) error {
	if w.reject != nil {
		return w.reject
	}
	if w.validateWaits > 0 {
		w.validateWaits--
		return fmt.Errorf("waiting for an L1 block: %w", consensus.ErrNotYet)
	}
	return w.Validator.ValidateProposal(parent, leaf, p, now)
}

func (w *waiting) BuildBlock(req consensus.BuildRequest) (types.Header, types.Payload, error) {
	if w.buildWaits > 0 {
		w.buildWaits--
		return types.Header{}, types.Payload{}, fmt.Errorf("waiting for deposits: %w", consensus.ErrNotYet)
	}
	h, p, err := w.BlockBuilder.BuildBlock(req)
	h.Height += w.heightSkew
	return h, p, err
}

func (h *harness) engineWith(i int, w *waiting) *consensus.Engine {
	h.t.Helper()
	w.Validator, w.BlockBuilder = emptyApp{h.rules}, emptyApp{h.rules}
	e, err := consensus.New(consensus.Params{
		Config:     consensus.Config{NextViewTimeout: time.Second, BuilderTimeout: 10 * time.Millisecond},
		StakeTable: h.table, Key: h.keys[i].Staking, Genesis: h.genesis, GenesisLeaf: h.leaf,
		Validator: w, Builder: w, Now: h.now,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return e
}

func votes(r consensus.Ready) int {
	n := 0
	for _, o := range r.Messages {
		if _, ok := o.Msg.(*consensus.Vote); ok {
			n++
		}
	}
	return n
}

// An application that cannot decide yet (ErrNotYet) is asked again on
// later ticks: the replica votes once it can, and a leader proposes once
// its builder can, neither counting a rejection or a failed proposal.
func TestApplicationNotYetIsRetried(t *testing.T) {
	h := newHarness(t, 4)
	leader := h.engineWith(1, &waiting{buildWaits: 3})
	now := h.now
	var prop *consensus.Proposal
	for range 20 {
		now = now.Add(10 * time.Millisecond)
		leader.Tick(now)
		if ps := proposals(leader.Ready()); len(ps) > 0 {
			prop = ps[0]
			break
		}
		if d := leader.NextDeadline(); !d.After(now) {
			t.Fatalf("leader waiting for its builder asks for a tick at %v, not after now %v (a busy loop)", d, now)
		}
	}
	if prop == nil || leader.Stats().TimeoutsAsLeader != 0 {
		t.Fatalf("leader proposed %v after its builder's waits, %d failed proposals", prop != nil, leader.Stats().TimeoutsAsLeader)
	}
	replica := h.engineWith(3, &waiting{validateWaits: 2})
	replica.Step(1, prop)
	if n := votes(replica.Ready()); n != 0 {
		t.Fatalf("voted %d times while the application waited", n)
	}
	voted := 0
	for range 10 {
		now = now.Add(25 * time.Millisecond)
		replica.Tick(now)
		voted += votes(replica.Ready())
	}
	if voted != 1 || replica.Stats().RejectedProposals != 0 {
		t.Fatalf("%d votes and %d rejections after the waits, want 1 and 0", voted, replica.Stats().RejectedProposals)
	}
}

// A proposal the application rejects gets no vote and is counted.
func TestRejectedProposalIsCounted(t *testing.T) {
	h := newHarness(t, 4)
	leader := h.engine(1, nil)
	leader.Tick(h.now.Add(20 * time.Millisecond))
	prop := proposals(leader.Ready())[0]
	replica := h.engineWith(3, &waiting{reject: errors.New("fee below base_fee × payload bytes")})
	replica.Step(1, prop)
	if n := votes(replica.Ready()); n != 0 || replica.Stats().RejectedProposals != 1 {
		t.Fatalf("%d votes, %d rejections; want 0 and 1", n, replica.Stats().RejectedProposals)
	}
}

// A proposal whose header cannot extend its known parent (a height that
// skips) is dropped as invalid before anything is persisted or voted.
func TestProposalCheckedBeforePersisting(t *testing.T) {
	h := newHarness(t, 4)
	leader := h.engineWith(1, &waiting{heightSkew: 5})
	leader.Tick(h.now.Add(20 * time.Millisecond))
	prop := proposals(leader.Ready())[0]
	replica := h.engine(3, nil)
	replica.Step(1, prop)
	r := replica.Ready()
	if len(r.Proposals) != 0 || votes(r) != 0 || replica.Stats().InvalidMessages != 1 {
		t.Fatalf("asked to persist %d proposals, sent %d votes, counted %d invalid messages; want 0, 0 and 1",
			len(r.Proposals), votes(r), replica.Stats().InvalidMessages)
	}
}

// A node far behind that receives a proposal too far ahead to keep still
// moves to the view its certificate proves (certificates are always
// processed), instead of waiting for its own timers.
func TestFarAheadProposalCertificateMovesTheView(t *testing.T) {
	cfg := clusterConfig
	cfg.MaxViewsAhead = 5
	c := newClusterWith(t, 4, cfg)
	c.drop = func(env envelope) bool { return env.to == 3 }
	if _, ok := c.runUntil(10*time.Second, func() bool { return c.engines[0].View() >= 20 }); !ok {
		t.Fatalf("views %v: the three connected nodes did not reach view 20", c.views())
	}
	var far *consensus.Proposal
	var from int
	for _, env := range c.sent {
		if p, ok := env.m.(*consensus.Proposal); ok && env.to == 3 && (far == nil || p.Leaf.View > far.Leaf.View) {
			far, from = p, env.from
		}
	}
	behind := c.engines[3].View()
	if far == nil || uint64(far.Leaf.View) <= uint64(behind)+cfg.MaxViewsAhead {
		t.Fatalf("no proposal more than %d views ahead of node 3's view %d", cfg.MaxViewsAhead, behind)
	}
	c.engines[3].Step(from, far)
	if r := c.engines[3].Ready(); len(r.Proposals) != 0 {
		t.Fatalf("the far-ahead proposal was stored (%d proposals)", len(r.Proposals))
	}
	if got, want := c.engines[3].View(), far.Leaf.JustifyQC.View+1; got < want {
		t.Fatalf("node 3 at view %d after a proposal of view %d with a qc of view %d; want at least view %d",
			got, far.Leaf.View, far.Leaf.JustifyQC.View, want)
	}
}

// A member flooding quorum votes for made-up leaves of one view gets one
// vote set: every vote for a second leaf in the view is refused before
// anything is allocated for it, and counted invalid. The heap does not
// grow with the flood.
func TestVoteFloodForMadeUpLeavesIsBounded(t *testing.T) {
	h := newHarness(t, 4)
	collector := h.engine(2, nil) // leader of view 2 collects the votes of view 1
	sig := h.keys[3].Staking.Sign([]byte("not a vote"))
	flood := func(n, from int) {
		for i := range n {
			var leaf types.Commitment
			leaf[0], leaf[1], leaf[2] = byte(i), byte(i>>8), byte(from)
			collector.Step(3, &consensus.Vote{View: 1, Leaf: leaf, Signer: 3, Signature: sig})
		}
	}
	flood(100, 0) // warm up
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const n = 20_000
	flood(n, 1)
	runtime.GC()
	runtime.ReadMemStats(&after)
	if got := collector.Stats().InvalidMessages; got != 100-1+n {
		t.Fatalf("%d votes counted invalid, want %d (all but the first)", got, 100-1+n)
	}
	// A vote set and its maps take hundreds of bytes: 20,000 of them would
	// be several MiB. Allow 256 KiB of noise.
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 256<<10 {
		t.Fatalf("heap grew by %d bytes over %d flooded votes", grew, n)
	}
}

// A leaf no peer answers for is asked for a bounded number of times (every
// peer fetchRounds times), not once per fetch timeout forever.
func TestFetchForALeafNobodyHoldsIsBounded(t *testing.T) {
	c := newCluster(t, 4)
	c.drop = func(env envelope) bool { return env.to == 3 }
	if _, ok := c.runUntil(10*time.Second, func() bool { return c.engines[0].View() >= 10 }); !ok {
		t.Fatalf("views %v: no progress", c.views())
	}
	var latest *consensus.Proposal
	from := 0
	for _, env := range c.sent {
		if p, ok := env.m.(*consensus.Proposal); ok && env.to == 3 && (latest == nil || p.Leaf.View > latest.Leaf.View) {
			latest, from = p, env.from
		}
	}
	// From now on nobody answers node 3: it learns of leaves it cannot get.
	c.drop = func(envelope) bool { return true }
	mark := len(c.sent)
	c.engines[3].Step(from, latest)
	c.collect(3)
	c.run(60 * time.Second)
	requests := 0
	for _, env := range c.sent[mark:] {
		if _, ok := env.m.(*consensus.FetchRequest); ok && env.from == 3 {
			requests++
		}
	}
	// A few distinct leaves, each asked of 3 peers twice; 60 s at a fetch
	// timeout of 100 ms would be 600 requests a leaf.
	if requests == 0 || requests > 30 || c.engines[3].Stats().FetchesAbandoned == 0 {
		t.Fatalf("node 3 sent %d fetch requests in 60 s and abandoned %d fetches; want 1 to 30 and at least 1",
			requests, c.engines[3].Stats().FetchesAbandoned)
	}
}

// One bad vote signature at the threshold costs single checks of the votes
// not yet known good, once: its sender is then ignored for that vote set,
// so repeating it costs nothing, and the next good vote forms the QC with
// no further single check.
func TestBadVoteSignatureCostsOnce(t *testing.T) {
	h := newHarness(t, 10)
	collector := h.engine(2, nil) // leader of view 2 collects the votes of view 1
	leaf := types.Commitment{1, 2, 3}
	msg := consensus.QuorumVoteDigest(h.genesis, 1, leaf)
	vote := func(i int, good bool) {
		sig := h.keys[i].Staking.Sign(msg)
		if !good {
			sig = h.keys[i].Staking.Sign([]byte("something else"))
		}
		collector.Step(i, &consensus.Vote{View: 1, Leaf: leaf, Signer: uint32(i), Signature: sig})
	}
	for i := 3; i <= 8; i++ { // 6 good votes: one short of the 7 a QC needs
		vote(i, true)
	}
	vote(9, false) // the 7th is bad: the aggregate fails, 7 single checks
	st := collector.Stats()
	if st.SingleVoteChecks != 7 || st.BadVoteSignatures != 1 {
		t.Fatalf("%d single checks, %d bad signatures; want 7 and 1", st.SingleVoteChecks, st.BadVoteSignatures)
	}
	for range 100 {
		vote(9, false)
	}
	vote(0, true) // the 7th good vote: the aggregate of 6 known-good votes and it holds
	st = collector.Stats()
	if st.SingleVoteChecks != 7 || st.BadVoteSignatures != 1 {
		t.Fatalf("after 100 repeats and a good vote: %d single checks, %d bad signatures; want still 7 and 1", st.SingleVoteChecks, st.BadVoteSignatures)
	}
	if st.InvalidMessages != 101 {
		t.Fatalf("%d invalid messages, want 101 (the bad vote and its 100 repeats)", st.InvalidMessages)
	}
	if collector.View() < 2 {
		t.Fatalf("collector at view %d: the QC of view 1 did not form", collector.View())
	}
}

// Certificates from outside the stake table are dropped unchecked: a valid
// QC sent by a non-member moves nothing.
func TestCertificatesFromNonMembersAreDropped(t *testing.T) {
	c := newCluster(t, 4)
	c.drop = func(env envelope) bool { return env.to == 3 }
	if _, ok := c.runUntil(10*time.Second, func() bool { return c.engines[0].View() >= 5 }); !ok {
		t.Fatalf("views %v: no progress", c.views())
	}
	var qc *types.QuorumCertificate
	for _, env := range c.sent {
		if p, ok := env.m.(*consensus.Proposal); ok && (qc == nil || p.Leaf.JustifyQC.View > qc.View) {
			j := p.Leaf.JustifyQC
			qc = &j
		}
	}
	behind, invalid := c.engines[3].View(), c.engines[3].Stats().InvalidMessages
	c.engines[3].Step(-1, &consensus.Certificates{QC: qc})
	if v := c.engines[3].View(); v != behind || c.engines[3].Stats().InvalidMessages != invalid+1 {
		t.Fatalf("after a non-member's QC of view %d: view %d (was %d), %d invalid messages (was %d)",
			qc.View, v, behind, c.engines[3].Stats().InvalidMessages, invalid)
	}
	c.engines[3].Step(0, &consensus.Certificates{QC: qc})
	if v := c.engines[3].View(); v <= behind {
		t.Fatalf("a member's QC of view %d left node 3 at view %d", qc.View, v)
	}
}
