package consensus_test

import (
	"testing"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/types"
)

// One small request costs a server at most MaxFetchBytes of payloads (and
// always at least one leaf), however big the blocks it asks about.
func TestServeFetchByteBudget(t *testing.T) {
	const n, size = 20, 1 << 20
	byCommit := make(map[types.Commitment]consensus.FetchedLeaf)
	var parent types.Commitment
	for h := range uint64(n) {
		leaf := types.Leaf{View: types.ViewNumber(h), Parent: parent, Header: types.Header{Height: h}}
		parent = leaf.Commit()
		byCommit[parent] = consensus.FetchedLeaf{Leaf: leaf, Payload: types.Payload{Raw: make([]byte, size)}}
	}
	lookup := func(c types.Commitment) (consensus.FetchedLeaf, bool) { l, ok := byCommit[c]; return l, ok }
	resp := consensus.ServeFetch(&consensus.FetchRequest{ID: 1, Leaf: parent}, lookup)
	var total uint64
	for _, l := range resp.Leaves {
		total += l.Payload.Size()
	}
	if want := consensus.MaxFetchBytes / size; len(resp.Leaves) != want || total > consensus.MaxFetchBytes {
		t.Fatalf("%d leaves, %d payload bytes; want %d leaves within %d bytes", len(resp.Leaves), total, want, consensus.MaxFetchBytes)
	}
	// A block larger than the budget still comes back on its own.
	big := types.Leaf{View: 99, Parent: parent, Header: types.Header{Height: n}}
	byCommit[big.Commit()] = consensus.FetchedLeaf{Leaf: big, Payload: types.Payload{Raw: make([]byte, consensus.MaxFetchBytes+1)}}
	if resp := consensus.ServeFetch(&consensus.FetchRequest{ID: 2, Leaf: big.Commit()}, lookup); resp == nil || len(resp.Leaves) != 1 {
		t.Fatal("a block over the budget is not served on its own")
	}
}
