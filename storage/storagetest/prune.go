package storagetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/types"
)

func wantPruned(t *testing.T, p storage.Pruner, want uint64, wantOK bool) {
	t.Helper()
	h, ok, err := p.PrunedHeight(t.Context())
	if err != nil || ok != wantOK || (ok && h != want) {
		t.Fatalf("PrunedHeight = %d, %v, %v; want %d, %v", h, ok, err, want, wantOK)
	}
}

func wantFirst(t *testing.T, p storage.Pruner, want uint64) {
	t.Helper()
	if h, err := p.FirstHeight(t.Context()); err != nil || h != want {
		t.Fatalf("FirstHeight = %d, %v; want %d", h, err, want)
	}
}

func testPrunerEmpty(t *testing.T, st storage.Store, p storage.Pruner) {
	ctx := t.Context()
	_, err := p.FirstHeight(ctx)
	wantErr(t, "FirstHeight of an empty store", err, storage.ErrNotFound)
	_, err = p.HeightBefore(ctx, GenesisTime+100)
	wantErr(t, "HeightBefore in an empty store", err, storage.ErrNotFound)
	wantPruned(t, p, 0, false)
	if _, err := p.LiveSize(ctx); err != nil {
		t.Fatalf("LiveSize of an empty store: %v", err)
	}
	if err := p.PruneBefore(ctx, 10); err != nil {
		t.Fatalf("PruneBefore(10) on an empty store: %v", err)
	}
	wantPruned(t, p, 0, false)
	blocks := Chain(3, 1, 16)
	save(t, st, blocks...)
	b, err := st.BlockByHeight(ctx, 0)
	if err != nil {
		t.Fatalf("BlockByHeight(0) after pruning an empty store: %v", err)
	}
	sameBlock(t, "BlockByHeight(0)", b, blocks[0])
	wantFirst(t, p, 0)
}

// prunerChain is 41 blocks of about 20 KB: Chain(40, 20, 1000), then block
// 40 holding transaction 3 of block 5 again and a new one.
func prunerChain(t *testing.T) []types.Block {
	t.Helper()
	blocks := Chain(40, 20, 1000)
	last := &blocks[len(blocks)-1]
	b, err := NextBlock(last, last.Leaf.Header.Timestamp+1, []types.Transaction{
		Transactions(5, 20, 1000)[3],
		{Namespace: NamespaceA, Payload: []byte("new in block 40")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return append(blocks, b)
}

func testPruneBefore(t *testing.T, st storage.Store, p storage.Pruner) {
	ctx := t.Context()
	blocks := prunerChain(t)
	for i := 0; i < len(blocks); i += 10 {
		save(t, st, blocks[i:min(i+10, len(blocks))]...)
	}
	wantPruned(t, p, 0, false)
	wantFirst(t, p, 0)
	before, err := p.LiveSize(ctx)
	if err != nil || before == 0 {
		t.Fatalf("LiveSize = %d, %v; want > 0", before, err)
	}

	if err := p.PruneBefore(ctx, 20); err != nil {
		t.Fatalf("PruneBefore(20): %v", err)
	}
	wantPruned(t, p, 20, true)
	wantFirst(t, p, 20)
	after, err := p.LiveSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, deleted := refSums(t, blocks, 0, 20)
	if after >= before || before-after < deleted/2 {
		t.Errorf("LiveSize went from %d to %d after deleting %d payload bytes; want it to shrink by at least %d", before, after, deleted, deleted/2)
	}

	// Reads by height below the pruned height are ErrPruned.
	for _, h := range []uint64{0, 5, 19} {
		_, err := st.BlockByHeight(ctx, h)
		wantErr(t, "BlockByHeight of a pruned height", err, storage.ErrPruned)
		_, err = st.TransactionAt(ctx, h, 0)
		wantErr(t, "TransactionAt of a pruned height", err, storage.ErrPruned)
	}
	_, err = st.BlockRange(ctx, 10, 30, 100)
	wantErr(t, "BlockRange from a pruned height", err, storage.ErrPruned)
	if got, err := st.BlockRange(ctx, 20, 25, 100); err != nil || len(got) != 5 {
		t.Errorf("BlockRange(20, 25) = %d blocks, %v; want 5", len(got), err)
	}
	for h := uint64(20); h < 41; h++ {
		b, err := st.BlockByHeight(ctx, h)
		if err != nil {
			t.Fatalf("BlockByHeight(%d) above the pruned height: %v", h, err)
		}
		sameBlock(t, "BlockByHeight after pruning", b, blocks[h])
	}
	// Lookups by hash of pruned data: pruned or not found.
	_, err = st.BlockByLeaf(ctx, blocks[5].Leaf.Commit())
	wantErrOneOf(t, "BlockByLeaf(pruned block)", err, storage.ErrPruned, storage.ErrNotFound)
	_, err = st.BlockByHash(ctx, blocks[5].Leaf.Header.Commit())
	wantErrOneOf(t, "BlockByHash(pruned block)", err, storage.ErrPruned, storage.ErrNotFound)
	_, err = st.BlockByPayloadHash(ctx, blocks[5].Leaf.Header.PayloadCommitment)
	wantErrOneOf(t, "BlockByPayloadHash(pruned block)", err, storage.ErrPruned, storage.ErrNotFound)
	_, err = st.TransactionByHash(ctx, Transactions(6, 20, 1000)[0].Commit())
	wantErrOneOf(t, "TransactionByHash(pruned transaction)", err, storage.ErrPruned, storage.ErrNotFound)
	// A transaction whose first inclusion was pruned is found at the next.
	if loc, err := st.TransactionByHash(ctx, Transactions(5, 20, 1000)[3].Commit()); err != nil || loc.Height != 40 {
		t.Errorf("TransactionByHash(tx of pruned block 5, repeated in 40) = %+v, %v; want height 40", loc, err)
	}
	// Scans and sums: ErrPruned or the stored blocks only.
	stored := blocks[20:]
	if hs, err := st.NamespaceHeights(ctx, NamespaceB, 0, 100); err == nil {
		if want := refNamespaceHeights(t, stored, NamespaceB, 0, 100); !slices.Equal(hs, want) {
			t.Errorf("NamespaceHeights(B, 0) after pruning = %v, want %v (or ErrPruned)", hs, want)
		}
	} else {
		wantErr(t, "NamespaceHeights from a pruned height", err, storage.ErrPruned)
	}
	if hs, err := st.NamespaceHeights(ctx, NamespaceB, 20, 100); err != nil || !slices.Equal(hs, refNamespaceHeights(t, stored, NamespaceB, 20, 100)) {
		t.Errorf("NamespaceHeights(B, 20) after pruning = %v, %v", hs, err)
	}
	wantTxs, wantBytes := refSums(t, stored, 0, 41)
	if n, err := st.TransactionCount(ctx, 0, 41); err == nil && n != wantTxs {
		t.Errorf("TransactionCount(0, 41) after pruning = %d, want %d (or ErrPruned)", n, wantTxs)
	} else if err != nil {
		wantErr(t, "TransactionCount from a pruned height", err, storage.ErrPruned)
	}
	if n, err := st.PayloadBytes(ctx, 0, 41); err == nil && n != wantBytes {
		t.Errorf("PayloadBytes(0, 41) after pruning = %d, want %d (or ErrPruned)", n, wantBytes)
	} else if err != nil {
		wantErr(t, "PayloadBytes from a pruned height", err, storage.ErrPruned)
	}
	if n, err := st.TransactionCount(ctx, 25, 41); err != nil || n != 15*20+2 {
		t.Errorf("TransactionCount(25, 41) = %d, %v; want %d", n, err, 15*20+2)
	}
	if w, err := st.HeaderWindow(ctx, GenesisTime, GenesisTime+25, 100); err == nil {
		var hs []uint64
		for _, h := range w.Window {
			hs = append(hs, h.Height)
		}
		if !slices.Equal(hs, []uint64{20, 21, 22, 23, 24}) || w.Prev != nil {
			t.Errorf("HeaderWindow(G, G+25) after pruning = %v prev %v, want [20..24] prev nil (or ErrPruned)", hs, heightPtr(w.Prev))
		}
	} else {
		wantErr(t, "HeaderWindow over pruned heights", err, storage.ErrPruned)
	}
	_, err = p.HeightBefore(ctx, GenesisTime+10)
	wantErr(t, "HeightBefore a pruned timestamp", err, storage.ErrNotFound)
	if h, err := p.HeightBefore(ctx, GenesisTime+25); err != nil || h != 24 {
		t.Errorf("HeightBefore(G+25) = %d, %v; want 24", h, err)
	}
	// Pruning keeps the chain's length and lets it grow.
	wantHeight(t, st, 41)
	last, err := st.LastDecided(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sameBlock(t, "LastDecided after pruning", last, blocks[40])
	if err := p.PruneBefore(ctx, 10); err != nil {
		t.Fatalf("PruneBefore(10) after 20: %v", err)
	}
	wantPruned(t, p, 20, true)
	wantFirst(t, p, 20)
	more := Extend(&blocks[40], 2, 3, 50)
	save(t, st, more...)
	wantHeight(t, st, 43)
	save(t, st, blocks[30:]...) // re-saving stored blocks is still a no-op
	wantHeight(t, st, 43)
}

func testHeightBefore(t *testing.T, st storage.Store, p storage.Pruner) {
	ctx := t.Context()
	blocks := Chain(10, 1, 16) // timestamps G..G+9
	b10, _ := NextBlock(&blocks[9], GenesisTime+9, nil)
	b11, _ := NextBlock(&b10, GenesisTime+15, nil)
	blocks = append(blocks, b10, b11)
	save(t, st, blocks...)
	g := GenesisTime
	cases := []struct {
		t    uint64
		want uint64
		ok   bool
	}{
		{0, 0, false},
		{g, 0, false},
		{g + 1, 0, true},
		{g + 5, 4, true},
		{g + 9, 8, true},
		{g + 10, 10, true}, // 9 and 10 share timestamp G+9
		{g + 15, 10, true},
		{g + 16, 11, true},
		{1 << 63, 11, true},
	}
	for _, c := range cases {
		h, err := p.HeightBefore(ctx, c.t)
		switch {
		case !c.ok:
			wantErr(t, "HeightBefore(G"+signed(c.t, g)+")", err, storage.ErrNotFound)
		case err != nil || h != c.want:
			t.Errorf("HeightBefore(G%s) = %d, %v; want %d", signed(c.t, g), h, err, c.want)
		}
	}
}

func signed(x, g uint64) string { return fmt.Sprintf("%+d", int64(x-g)) }

func testResetPrunedHeight(t *testing.T, st storage.Store, p storage.Pruner) {
	ctx := t.Context()
	blocks := Chain(20, 2, 64)
	save(t, st, blocks...)
	if err := p.PruneBefore(ctx, 8); err != nil {
		t.Fatal(err)
	}
	wantPruned(t, p, 8, true)
	if err := p.ResetPrunedHeight(ctx); err != nil {
		t.Fatalf("ResetPrunedHeight: %v", err)
	}
	wantPruned(t, p, 0, false)
	wantFirst(t, p, 8)
	// The deleted heights are missing now, not pruned.
	_, err := st.BlockByHeight(ctx, 3)
	wantErr(t, "BlockByHeight of a deleted height after reset", err, storage.ErrNotFound)
	_, err = st.TransactionAt(ctx, 3, 0)
	wantErr(t, "TransactionAt of a deleted height after reset", err, storage.ErrNotFound)
	if got, err := st.BlockRange(ctx, 3, 10, 10); err != nil || len(got) != 0 {
		t.Errorf("BlockRange(3, 10) after reset = %d blocks, %v; want none (stops at the first missing height)", len(got), err)
	}
	if got, err := st.BlockRange(ctx, 8, 10, 10); err != nil || len(got) != 2 {
		t.Errorf("BlockRange(8, 10) after reset = %d blocks, %v; want 2", len(got), err)
	}
	// Pruning again records the new height.
	if err := p.PruneBefore(ctx, 12); err != nil {
		t.Fatal(err)
	}
	wantPruned(t, p, 12, true)
	wantFirst(t, p, 12)
	for _, h := range []uint64{3, 10} {
		_, err := st.BlockByHeight(ctx, h)
		wantErr(t, "BlockByHeight below the new pruned height", err, storage.ErrPruned)
	}
}

func testPruneNeverLast(t *testing.T, st storage.Store, p storage.Pruner) {
	ctx := t.Context()
	blocks := Chain(10, 2, 64)
	save(t, st, blocks...)
	if err := p.PruneBefore(ctx, 1000); err != nil {
		t.Fatalf("PruneBefore(1000): %v", err)
	}
	last, err := st.LastDecided(ctx)
	if err != nil {
		t.Fatalf("LastDecided after pruning everything: %v", err)
	}
	sameBlock(t, "LastDecided after pruning everything", last, blocks[9])
	if b, err := st.BlockByHeight(ctx, 9); err != nil {
		t.Errorf("BlockByHeight(9) after pruning everything: %v", err)
	} else {
		sameBlock(t, "BlockByHeight(9)", b, blocks[9])
	}
	wantFirst(t, p, 9)
	wantPruned(t, p, 9, true)
	_, err = st.BlockByHeight(ctx, 8)
	wantErr(t, "BlockByHeight(8)", err, storage.ErrPruned)
	wantHeight(t, st, 10)
	if n, err := p.LiveSize(ctx); err != nil || n == 0 {
		t.Errorf("LiveSize with one block = %d, %v; want > 0", n, err)
	}
	save(t, st, Extend(&blocks[9], 2, 2, 64)...)
	wantHeight(t, st, 12)
	if _, err := st.BlockByHeight(ctx, 11); err != nil {
		t.Errorf("BlockByHeight(11) after growing again: %v", err)
	}
	if err := p.PruneBefore(ctx, 5); err != nil {
		t.Fatalf("PruneBefore(5) below the pruned height: %v", err)
	}
	wantPruned(t, p, 9, true)
}
