package replica_test

import (
	"testing"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/node/replica"
	"github.com/gospresso/gospresso/storage/mem"
	"github.com/gospresso/gospresso/types"
)

// TestCheckAheadIsBoundedPerMember: Check verifies a certificate ahead of
// the engine only from a member, only for a view near the engine's, and
// never again from a member one of whose certificates failed; the engine
// still takes (and refuses) what Check did not verify.
func TestCheckAheadIsBoundedPerMember(t *testing.T) {
	setup, ks := testSetup(t, 4, 4)
	r, err := replica.Open(t.Context(), replica.Config{Setup: setup, Key: ks[0].Staking, Store: mem.New(), Sender: &recorder{}, Consensus: fast}, start)
	if err != nil {
		t.Fatal(err)
	}
	signers := types.NewBitmap(4)
	for i := range 3 {
		signers.Set(i)
	}
	forged := func(view types.ViewNumber) []byte {
		qc := types.QuorumCertificate{View: view, Leaf: types.Commitment{byte(view)}, Signers: signers,
			Signature: ks[1].Staking.Sign([]byte("not the vote")).Bytes()}
		b, err := replica.EncodeMessage(&consensus.Certificates{QC: &qc})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if !replica.Checkable(forged(1)) || replica.Checkable([]byte{'t', 0, 0, 0, 0, 0, 0, 0, 1}) {
		t.Fatal("Checkable misjudges a certificates frame or a transaction frame")
	}
	ahead := func() (uint64, uint64) { s := r.Stats(); return s.ChecksAhead, s.ChecksAheadRefused }

	r.Check(-1, forged(1))  // not a member
	r.Check(2, forged(500)) // far beyond the window of 100 views
	if c, _ := ahead(); c != 0 {
		t.Fatalf("%d checks ahead of a non-member's or a far view's certificate, want 0", c)
	}
	c := r.Check(2, forged(1))
	if n, _ := ahead(); n != 1 {
		t.Fatalf("%d checks ahead of a member's certificate for the current view, want 1", n)
	}
	checks := r.Stats().SignatureChecks
	r.Check(2, forged(2))
	if n, refused := ahead(); n != 1 || refused != 1 || r.Stats().SignatureChecks != checks {
		t.Fatalf("after a failed check, member 2's next certificate: %d checked, %d refused, %d more pairings; want 1, 1, 0",
			n, refused, r.Stats().SignatureChecks-checks)
	}
	// The engine still takes the message Check failed, and refuses it.
	before := r.Stats().InvalidQCs
	if _, err := r.DeliverChecked(t.Context(), c, start); err != nil {
		t.Fatal(err)
	}
	if r.Stats().InvalidQCs != before+1 {
		t.Fatal("the engine did not refuse the certificate that failed its check ahead")
	}
}

// FuzzCheck hands Check arbitrary frames from a member: it never panics,
// never checks a message it cannot decode, and the replica then takes
// whatever it prepared without halting.
func FuzzCheck(f *testing.F) {
	setup, ks := testSetup(f, 4, 4)
	signers := types.NewBitmap(4)
	for i := range 3 {
		signers.Set(i)
	}
	qc := types.QuorumCertificate{View: 1, Leaf: types.Commitment{1}, Signers: signers, Signature: ks[1].Staking.Sign([]byte("x")).Bytes()}
	for _, m := range []consensus.Message{
		&consensus.Certificates{QC: &qc},
		&consensus.Certificates{DA: &consensus.DACert{View: 1, Payload: types.Commitment{2}, Signers: signers, Signature: qc.Signature}},
		&consensus.Proposal{Leaf: types.Leaf{View: 1, Parent: setup.GenesisBlock.Leaf.Commit(), JustifyQC: types.GenesisQC(&setup.GenesisBlock.Leaf)},
			Signature: ks[1].Staking.Sign([]byte("y"))},
	} {
		b, err := replica.EncodeMessage(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := replica.Open(t.Context(), replica.Config{Setup: setup, Key: ks[0].Staking, Store: mem.New(), Sender: &recorder{}, Consensus: fast}, start)
		if err != nil {
			t.Fatal(err)
		}
		c := r.Check(1, b)
		if _, err := replica.DecodeFrame(b); err != nil && r.Stats().ChecksAhead != 0 {
			t.Fatal("checked a message that does not decode")
		}
		if _, err := r.DeliverChecked(t.Context(), c, start); err != nil {
			t.Fatalf("the replica halted on a fuzzed message: %v", err)
		}
	})
}
