package replica_test

import (
	"testing"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/node/replica"
	"github.com/gospresso/gospresso/types"
)

// A header request is answered with leaves and no payloads, down to its stop
// height; once the store has pruned, a request for a leaf the node no
// longer holds is answered with the lowest height it keeps.
func TestFetchServerHeadersAndPrunedAnswers(t *testing.T) {
	s := newSolo(t)
	s.runTo(30)
	fs := s.r.FetchServer()
	top, err := s.store.BlockByHeight(t.Context(), 25)
	if err != nil {
		t.Fatal(err)
	}
	data := fs.Answer(t.Context(), &consensus.HeaderRequest{ID: 3, Leaf: top.Leaf.Commit(), StopHeight: 4})
	if data == nil {
		t.Fatal("a header request for a stored leaf got no answer")
	}
	f, err := replica.DecodeFrame(data)
	if err != nil {
		t.Fatal(err)
	}
	resp, ok := f.Consensus.(*consensus.HeaderResponse)
	if !ok || resp.ID != 3 {
		t.Fatalf("answer %T %+v, want a HeaderResponse with ID 3", f.Consensus, f.Consensus)
	}
	if len(resp.Leaves) != 21 {
		t.Fatalf("%d leaves from height 25 down to stop height 4, want 21", len(resp.Leaves))
	}
	for i := range resp.Leaves {
		if got := resp.Leaves[i].Height(); got != 25-uint64(i) {
			t.Fatalf("leaf %d has height %d, want %d", i, got, 25-i)
		}
		if i > 0 && resp.Leaves[i].Commit() != resp.Leaves[i-1].Parent {
			t.Fatalf("leaf %d is not the parent of leaf %d", i, i-1)
		}
	}
	low, err := s.store.BlockByHeight(t.Context(), 5)
	if err != nil {
		t.Fatal(err)
	}
	// Unknown to an unpruned store: no answer (the requester's timeout
	// moves it on).
	if data := fs.Answer(t.Context(), &consensus.HeaderRequest{ID: 4, Leaf: types.Commitment{1, 2, 3}}); data != nil {
		t.Fatal("a request for a leaf nobody decided was answered by an unpruned store")
	}
	if err := s.store.PruneBefore(t.Context(), 10); err != nil {
		t.Fatal(err)
	}
	for _, req := range []consensus.Message{
		&consensus.FetchRequest{ID: 8, Leaf: low.Leaf.Commit()},
		&consensus.HeaderRequest{ID: 8, Leaf: low.Leaf.Commit()},
	} {
		data := fs.Answer(t.Context(), req)
		if data == nil {
			t.Fatalf("%T for a pruned leaf: no answer, want FetchUnavailable", req)
		}
		f, err := replica.DecodeFrame(data)
		if err != nil {
			t.Fatal(err)
		}
		u, ok := f.Consensus.(*consensus.FetchUnavailable)
		if !ok || u.ID != 8 || u.FirstHeight != 10 {
			t.Fatalf("%T for a pruned leaf: answer %T %+v, want FetchUnavailable{ID: 8, FirstHeight: 10}", req, f.Consensus, f.Consensus)
		}
	}
}
