package consensus_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/types"
)

// qcBy is a quorum certificate for leaf in view, signed by members.
func (h *harness) qcBy(view types.ViewNumber, leaf types.Commitment, members ...int) types.QuorumCertificate {
	h.t.Helper()
	signers := types.NewBitmap(len(h.keys))
	var sigs []keys.Signature
	for _, i := range members {
		signers.Set(i)
		sigs = append(sigs, consensus.SignVote(h.keys[i].Staking, h.genesis, view, leaf))
	}
	agg, err := keys.AggregateSignatures(sigs)
	if err != nil {
		h.t.Fatal(err)
	}
	return types.QuorumCertificate{View: view, Leaf: leaf, Signers: signers, Signature: agg.Bytes()}
}

// childOf is an empty block's leaf of view extending parent with justify.
func (h *harness) childOf(parent *types.Leaf, view types.ViewNumber, justify types.QuorumCertificate, stamp uint64) types.Leaf {
	hd := parent.Header
	hd.Height++
	hd.Timestamp += stamp
	return types.Leaf{View: view, Parent: parent.Commit(), Header: hd, JustifyQC: justify}
}

// TestConflictingDecideAtTheAnchorsViewHalts: a node whose decided leaf is
// A (view 1) learns of a certified two-chain B ← P that decides B, another
// leaf of view 1, which takes three of four members signing both. The
// node halts with ErrSafetyViolation naming both leaves, and counts it,
// instead of skipping the decide as below its anchor.
func TestConflictingDecideAtTheAnchorsViewHalts(t *testing.T) {
	h := newHarness(t, 4)
	gqc := types.GenesisQC(&h.leaf)
	a := h.childOf(&h.leaf, 1, gqc, 1)
	b := h.childOf(&h.leaf, 1, gqc, 2) // another leaf of view 1, at A's height
	if a.Commit() == b.Commit() {
		t.Fatal("test leaves A and B are the same")
	}
	qcA := h.qcBy(1, a.Commit(), 0, 1, 2)
	qcB := h.qcBy(1, b.Commit(), 1, 2, 3)
	p := h.childOf(&b, 2, qcB, 1)
	qcP := h.qcBy(2, p.Commit(), 1, 2, 3)

	e, rd := h.decideByFetch(a, qcA, qcP, p, b)
	if !errors.Is(rd.Halt, consensus.ErrSafetyViolation) || !errors.Is(e.Halted(), consensus.ErrSafetyViolation) {
		t.Fatalf("the conflicting decide did not halt the node: ready halt %v, engine %v", rd.Halt, e.Halted())
	}
	for _, want := range []string{b.Commit().Short(), a.Commit().Short()} {
		if msg := rd.Halt.Error(); !strings.Contains(msg, want) {
			t.Fatalf("halt %q does not name leaf %s", msg, want)
		}
	}
	if got := e.Stats().ConflictingDecides; got != 1 {
		t.Fatalf("conflicting decides counted %d, want 1", got)
	}
	if len(rd.Decided) != 0 {
		t.Fatalf("a halted node delivered %d blocks", len(rd.Decided))
	}
}

// TestDecideOfTheAnchorAgainDoesNotHalt: the same two-chain shape that
// decides the anchor itself (a restarted node learning its own decide
// again) changes nothing.
func TestDecideOfTheAnchorAgainDoesNotHalt(t *testing.T) {
	h := newHarness(t, 4)
	gqc := types.GenesisQC(&h.leaf)
	a := h.childOf(&h.leaf, 1, gqc, 1)
	qcA := h.qcBy(1, a.Commit(), 0, 1, 2)
	p := h.childOf(&a, 2, qcA, 1)
	qcP := h.qcBy(2, p.Commit(), 1, 2, 3)
	e, rd := h.decideByFetch(a, qcA, qcP, p, a)
	if rd.Halt != nil || e.Stats().ConflictingDecides != 0 {
		t.Fatalf("deciding the anchor again halted the node: %v", rd.Halt)
	}
}

// decideByFetch gives an engine whose decided leaf is a (certified by
// qcA) a certificate qcP for a leaf it lacks, then answers its fetch with
// leaves (the certified leaf first, then its parent), and returns what the
// engine did.
func (h *harness) decideByFetch(a types.Leaf, qcA, qcP types.QuorumCertificate, leaves ...types.Leaf) (*consensus.Engine, consensus.Ready) {
	h.t.Helper()
	e := h.engine(0, &consensus.State{
		Safety: types.SafetyState{View: 2, LastVotedView: 1, HighQC: qcA},
		Anchor: consensus.FetchedLeaf{Leaf: a}, AnchorQC: qcA,
	})
	e.Ready()
	e.Step(3, &consensus.Certificates{QC: &qcP})
	var req *consensus.FetchRequest
	for _, o := range e.Ready().Messages {
		if r, ok := o.Msg.(*consensus.FetchRequest); ok && r.Leaf == qcP.Leaf {
			req = r
		}
	}
	if req == nil {
		h.t.Fatal("no fetch request for the certified leaf")
	}
	resp := &consensus.FetchResponse{ID: req.ID}
	for _, l := range leaves {
		resp.Leaves = append(resp.Leaves, consensus.FetchedLeaf{Leaf: l})
	}
	e.Step(3, resp)
	return e, e.Ready()
}
