package consensus_test

import (
	"errors"
	"testing"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/types"
)

// A member sending votes of every kind for every view of the window, each
// quorum vote for a made-up leaf, twice over, makes the collector hold at
// most MaxFutureVotes vote sets per kind for views ahead of its own (plus
// the current view's): the held vote sets and remembered leaves are
// counted, not estimated.
func TestFutureVoteFloodIsBounded(t *testing.T) {
	h := newHarness(t, 4)
	const self, flooder = 2, 3
	e := h.engine(self, nil)
	sig := h.keys[flooder].Staking.Sign([]byte("not a vote"))
	gqc := types.GenesisQC(&h.leaf)
	for pass := range 2 {
		for v := types.ViewNumber(1); v <= 100; v++ {
			e.Step(flooder, &consensus.Vote{View: v, Leaf: types.Commitment{byte(pass), byte(v)}, Signer: flooder, Signature: sig})
			e.Step(flooder, &consensus.TimeoutVote{View: v, HighQC: gqc, Signer: flooder, Signature: sig})
			relay := uint64((self - int(v)%4 + 4) % 4) // the relay this node collects for round v
			for _, ph := range []consensus.Phase{consensus.PhasePreCommit, consensus.PhaseCommit, consensus.PhaseFinalize} {
				e.Step(flooder, &consensus.ViewSyncVote{Phase: ph, Round: v, Relay: relay, HighQC: gqc, Signer: flooder, Signature: sig})
			}
		}
	}
	if e.View() != 1 {
		t.Fatalf("the flood moved the node to view %d", e.View())
	}
	// Five kinds (quorum, timeout, three view-sync phases), each at most
	// MaxFutureVotes sets ahead plus the current view's.
	bound := 5 * (consensus.MaxFutureVotes + 1)
	sets, leaves := e.HeldVotes(flooder)
	if sets > bound || e.VoteSets() > bound || leaves > consensus.MaxFutureVotes+1 {
		t.Fatalf("the flooder sits in %d vote sets (%d in all) with %d remembered leaves; want at most %d, %d and %d",
			sets, e.VoteSets(), leaves, bound, bound, consensus.MaxFutureVotes+1)
	}
	if sets < 5*consensus.MaxFutureVotes {
		t.Fatalf("the flooder sits in %d vote sets, want the bound's %d: the latest votes are kept", sets, 5*consensus.MaxFutureVotes)
	}
	if e.Stats().FutureVotesDropped == 0 {
		t.Fatal("no dropped vote counted")
	}
	// An honest member's votes are not crowded out by the flooder's.
	e.Step(0, &consensus.TimeoutVote{View: 89, HighQC: gqc, Signer: 0, Signature: h.keys[0].Staking.Sign([]byte("x"))})
	if sets, _ := e.HeldVotes(0); sets != 1 {
		t.Fatalf("an honest member's vote sits in %d vote sets, want 1", sets)
	}
}

// badQC is a QC that passes every check but its aggregate signature.
func badQC(h *harness, view types.ViewNumber, leaf types.Commitment, sig keys.Signature) *types.QuorumCertificate {
	signers := types.NewBitmap(4)
	for i := range 3 {
		signers.Set(i)
	}
	return &types.QuorumCertificate{View: view, Leaf: leaf, Signers: signers, Signature: sig.Bytes()}
}

// A member sending 1,000 distinct certificates with bad signatures, in
// every place a certificate travels (certificates, timeout votes' high QCs,
// timeout certificates, proposals' justify QCs), makes the node do at most
// CertChecksPerView signature checks in a view; repeating a bad one costs
// none; each failure is reported as the member's fault; a valid
// certificate from another member is still checked and moves the view.
func TestBadCertificateChecksAreBudgeted(t *testing.T) {
	h := newHarness(t, 4)
	const bad = 3
	e := h.engine(2, nil)
	junk := h.keys[bad].Staking.Sign([]byte("not a certificate"))
	gqc := types.GenesisQC(&h.leaf)
	var first *types.QuorumCertificate
	faults := 0
	for i := range 1000 {
		q := badQC(h, types.ViewNumber(5+i), types.Commitment{byte(i), byte(i >> 8)}, junk)
		if first == nil {
			first = q
		}
		switch i % 4 {
		case 0:
			e.Step(bad, &consensus.Certificates{QC: q})
		case 1:
			e.Step(bad, &consensus.TimeoutVote{View: q.View + 1, HighQC: *q, Signer: bad, Signature: junk})
		case 2:
			e.Step(bad, &consensus.Certificates{TC: &consensus.TimeoutCert{View: q.View, HighQC: gqc,
				Signers: q.Signers, HighViews: []types.ViewNumber{0, 0, 0}, Signature: junk.Bytes()}})
		case 3:
			p := &consensus.Proposal{Leaf: types.Leaf{View: q.View + 500, Parent: q.Leaf, JustifyQC: *q}, Signature: junk}
			e.Step(bad, p)
		}
		for _, f := range e.Ready().Faulty {
			if f.Member != bad || !errors.Is(f.Err, consensus.ErrInvalidCertificate) && !errors.Is(f.Err, consensus.ErrInvalidMessage) {
				t.Fatalf("fault %+v, want member %d with an invalid certificate", f, bad)
			}
			faults++
		}
	}
	checks := e.CertificateChecks()
	if checks > consensus.CertChecksPerView {
		t.Fatalf("%d certificate checks for 1,000 bad certificates in one view, want at most %d", checks, consensus.CertChecksPerView)
	}
	st := e.Stats()
	if st.CertificateChecksRefused == 0 || faults != int(checks) || st.Faults != uint64(faults) {
		t.Fatalf("%d checks refused, %d faults reported (Stats.Faults %d); want some refused and one fault per failed check (%d)",
			st.CertificateChecksRefused, faults, st.Faults, checks)
	}
	// The same bad certificate again, from anyone, costs no check.
	e.Step(0, &consensus.Certificates{QC: first})
	if got := e.CertificateChecks(); got != checks {
		t.Fatalf("a repeated bad certificate cost %d more checks", got-checks)
	}
	// A valid certificate from an honest member is checked and processed.
	leaf := types.Commitment{0xaa}
	var sigs []keys.Signature
	for i := range 3 {
		sigs = append(sigs, consensus.SignVote(h.keys[i].Staking, h.genesis, 1, leaf))
	}
	agg, err := keys.AggregateSignatures(sigs)
	if err != nil {
		t.Fatal(err)
	}
	good := badQC(h, 1, leaf, agg)
	e.Step(1, &consensus.Certificates{QC: good})
	if e.View() != 2 || e.CertificateChecks() != checks+1 {
		t.Fatalf("after a valid QC of view 1: view %d and %d more checks, want view 2 and 1", e.View(), e.CertificateChecks()-checks)
	}
	// In the new view the suspect member has its budget again, no more.
	before := e.CertificateChecks()
	for i := range 100 {
		e.Step(bad, &consensus.Certificates{QC: badQC(h, types.ViewNumber(2000+i), types.Commitment{7, byte(i)}, junk)})
	}
	if got := e.CertificateChecks() - before; got > consensus.CertChecksPerView {
		t.Fatalf("%d checks of a suspect member's certificates in a new view, want at most %d", got, consensus.CertChecksPerView)
	}
}

// Decoding a vote does not parse its signature: bytes that are no
// signature decode, round-trip unchanged, and are caught (counted, the
// signer reported as faulty) only when the vote is aggregated, like a
// signature that does not verify.
func TestVoteSignatureIsParsedWhenAggregated(t *testing.T) {
	h := newHarness(t, 4)
	e := h.engine(2, nil) // collects the votes of view 1
	leaf := types.Commitment{1}
	var garbage [96]byte
	for i := range garbage {
		garbage[i] = 0xa5
	}
	b, err := consensus.EncodeRawVote(&consensus.Vote{View: 1, Leaf: leaf, Signer: 3}, garbage)
	if err != nil {
		t.Fatal(err)
	}
	m, err := consensus.Decode(b)
	if err != nil {
		t.Fatalf("a vote with unparsable signature bytes does not decode: %v", err)
	}
	if again, err := consensus.Encode(m); err != nil || string(again) != string(b) {
		t.Fatalf("the decoded vote does not encode back to its bytes (err %v)", err)
	}
	e.Step(3, m)
	if st := e.Stats(); st.InvalidMessages != 0 || st.BadVoteSignatures != 0 {
		t.Fatalf("the vote was judged before its set reached the threshold: %+v", st)
	}
	for i := range 2 {
		vb, _ := consensus.Encode(&consensus.Vote{View: 1, Leaf: leaf, Signer: uint32(i), Signature: consensus.SignVote(h.keys[i].Staking, h.genesis, 1, leaf)})
		vm, err := consensus.Decode(vb)
		if err != nil {
			t.Fatal(err)
		}
		e.Step(i, vm)
	}
	st := e.Stats()
	if st.BadVoteSignatures != 1 || st.InvalidMessages != 1 || st.Faults != 1 {
		t.Fatalf("%d bad vote signatures, %d invalid messages, %d faults; want 1, 1 and 1", st.BadVoteSignatures, st.InvalidMessages, st.Faults)
	}
	if f := e.Ready().Faulty; len(f) != 1 || f[0].Member != 3 {
		t.Fatalf("faulty %+v, want member 3 alone (caught while member 1's vote was handled)", f)
	}
	// The node's own vote (a signature in memory) completes the QC.
	e.Step(2, &consensus.Vote{View: 1, Leaf: leaf, Signer: 2, Signature: consensus.SignVote(h.keys[2].Staking, h.genesis, 1, leaf)})
	if e.View() != 2 {
		t.Fatalf("the three good votes did not form a QC: view %d", e.View())
	}
}
