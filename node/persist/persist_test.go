package persist_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/node/persist"
	"github.com/gospresso/gospresso/storage/mem"
	"github.com/gospresso/gospresso/storage/storagetest"
	"github.com/gospresso/gospresso/types"
)

func TestLoadFreshStoreSavesGenesis(t *testing.T) {
	ctx := context.Background()
	st := mem.New()
	gen := storagetest.Genesis(storagetest.GenesisTime)
	state, last, err := persist.Load(ctx, st, gen.Leaf, gen.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if state != nil {
		t.Fatalf("fresh store gave a state to resume from: %+v", state)
	}
	if gqc := types.GenesisQC(&gen.Leaf); last.Leaf.Commit() != gen.Leaf.Commit() || last.QC.Commit() != gqc.Commit() {
		t.Fatal("fresh store: the last block is not the genesis block with its certificate")
	}
	if h, _ := st.BlockHeight(ctx); h != 1 {
		t.Fatalf("genesis block not stored: height %d", h)
	}
}

// Save then Load gives back the safety state, the anchor and the stored
// proposals of views after it — what a restarted engine resumes from.
func TestSaveThenLoad(t *testing.T) {
	ctx := context.Background()
	st := mem.New()
	chain := storagetest.Chain(6, 2, 16)
	if _, _, err := persist.Load(ctx, st, chain[0].Leaf, chain[0].Payload); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveDecided(ctx, chain[1:4]); err != nil {
		t.Fatal(err)
	}
	k, err := keys.DeriveKeys([32]byte{31: 1}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var undecided []*consensus.Proposal
	for _, b := range chain[4:] {
		undecided = append(undecided, &consensus.Proposal{Leaf: b.Leaf, Payload: b.Payload,
			Signature: consensus.SignProposal(k.Staking, [32]byte{}, &b.Leaf)})
	}
	safety := types.SafetyState{View: chain[5].Leaf.View + 1, LastVotedView: chain[5].Leaf.View, HighQC: chain[4].QC}
	if err := persist.Save(ctx, st, &consensus.Ready{Safety: &safety, Proposals: undecided}); err != nil {
		t.Fatal(err)
	}
	state, last, err := persist.Load(ctx, st, chain[0].Leaf, chain[0].Payload)
	if err != nil {
		t.Fatal(err)
	}
	if last.Height() != 3 || state.Anchor.Leaf.Commit() != chain[3].Leaf.Commit() || state.AnchorQC.Leaf != chain[3].Leaf.Commit() {
		t.Fatalf("anchor: height %d, want 3", last.Height())
	}
	if state.Safety.View != safety.View || state.Safety.LastVotedView != safety.LastVotedView || state.Safety.HighQC.View != safety.HighQC.View {
		t.Fatalf("safety %+v, want %+v", state.Safety, safety)
	}
	if len(state.Proposals) != 2 || state.Proposals[1].Leaf.Commit() != chain[5].Leaf.Commit() {
		t.Fatalf("%d proposals restored, want the 2 undecided ones", len(state.Proposals))
	}
}

// A failed write surfaces from Save, so the caller sends nothing.
func TestSaveFailure(t *testing.T) {
	st := mem.New()
	st.FailWrites(errors.New("disk full"))
	err := persist.Save(context.Background(), st, &consensus.Ready{Safety: &types.SafetyState{View: 3}})
	if err == nil {
		t.Fatal("Save reported success on a failing store")
	}
}

func TestLoadRejectsAnotherNetworksStore(t *testing.T) {
	ctx := context.Background()
	st := mem.New()
	a := storagetest.Genesis(storagetest.GenesisTime)
	if _, _, err := persist.Load(ctx, st, a.Leaf, a.Payload); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveDecided(ctx, storagetest.Extend(&a, 1, 1, 8)); err != nil {
		t.Fatal(err)
	}
	b := storagetest.Genesis(storagetest.GenesisTime + 1)
	if _, _, err := persist.Load(ctx, st, b.Leaf, b.Payload); !errors.Is(err, persist.ErrForeignStore) {
		t.Fatalf("Load with another genesis: %v, want ErrForeignStore", err)
	}
}
