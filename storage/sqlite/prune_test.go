package sqlite

import (
	"errors"
	"testing"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/storagetest"
)

// TestPrune exercises the Pruner interface on a store of 40 blocks of about
// 40 KB: what is pruned reads as pruned, the rows of every table go, the
// live size shrinks, and the last block always stays.
func TestPrune(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	var p storage.Pruner = s
	chain := storagetest.Chain(40, 40, 1000)
	if err := s.SaveDecided(ctx, chain); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := p.PrunedHeight(ctx); err != nil || ok {
		t.Fatalf("pruned height before pruning: %v, %v; want none", ok, err)
	}
	before, err := p.LiveSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if before < 40*40*1000 {
		t.Fatalf("live size %d, want at least the payload bytes %d", before, 40*40*1000)
	}
	if err := p.PruneBefore(ctx, 30); err != nil {
		t.Fatal(err)
	}
	after, err := p.LiveSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after >= before-29*40*1000 {
		t.Fatalf("live size %d after pruning 30 blocks of %d, want it below %d", after, before, before-29*40*1000)
	}
	t.Logf("live size %d -> %d bytes", before, after)
	if h, ok, err := p.PrunedHeight(ctx); err != nil || !ok || h != 30 {
		t.Fatalf("pruned height = %d, %v, %v; want 30", h, ok, err)
	}
	if h, err := p.FirstHeight(ctx); err != nil || h != 30 {
		t.Fatalf("first height = %d, %v; want 30", h, err)
	}
	if h, err := s.BlockHeight(ctx); err != nil || h != 40 {
		t.Fatalf("block height = %d, %v; want 40 (pruned blocks still count)", h, err)
	}
	// Pruned heights read as pruned; hashes of pruned blocks as missing.
	txs, _ := chain[10].Payload.Transactions()
	pruned := map[string]error{}
	_, pruned["BlockByHeight"] = s.BlockByHeight(ctx, 10)
	_, pruned["TransactionAt"] = s.TransactionAt(ctx, 10, 0)
	_, pruned["BlockRange"] = s.BlockRange(ctx, 29, 35, 10)
	for name, err := range pruned {
		if !errors.Is(err, storage.ErrPruned) {
			t.Errorf("%s of a pruned height: %v, want ErrPruned", name, err)
		}
	}
	missing := map[string]error{}
	_, missing["BlockByLeaf"] = s.BlockByLeaf(ctx, chain[10].Leaf.Commit())
	_, missing["BlockByHash"] = s.BlockByHash(ctx, chain[10].Leaf.Header.Commit())
	_, missing["TransactionByHash"] = s.TransactionByHash(ctx, txs[0].Commit())
	_, missing["BlockByPayloadHash"] = s.BlockByPayloadHash(ctx, chain[10].Leaf.Header.PayloadCommitment)
	for name, err := range missing {
		if !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s of a pruned block: %v, want ErrNotFound", name, err)
		}
	}
	// No row of a pruned block is left in any table.
	for _, table := range []string{"header", "leaf", "payload", "aggregate", "transactions", "namespace"} {
		var n int
		if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM `+table+` WHERE height < 30`).Scan(&n); err != nil || n != 0 {
			t.Errorf("table %s: %d rows below 30, %v; want none", table, n, err)
		}
	}
	if got, err := s.BlockRange(ctx, 30, 40, 100); err != nil || len(got) != 10 {
		t.Fatalf("range of the kept blocks: %d, %v; want 10", len(got), err)
	}
	// Pruning lower changes nothing; pruning past the end keeps the last block.
	if err := p.PruneBefore(ctx, 20); err != nil {
		t.Fatal(err)
	}
	if h, _, _ := p.PrunedHeight(ctx); h != 30 {
		t.Fatalf("pruned height after pruning lower = %d, want 30", h)
	}
	if err := p.PruneBefore(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	last, err := s.LastDecided(ctx)
	if err != nil || last.Height() != 39 {
		t.Fatalf("last decided after pruning everything = %d, %v; want 39", last.Height(), err)
	}
	if h, _, _ := p.PrunedHeight(ctx); h != 39 {
		t.Fatalf("pruned height = %d, want 39", h)
	}
	// New blocks continue the chain and the running totals.
	next := storagetest.Extend(&chain[39], 2, 5, 100)
	if err := s.SaveDecided(ctx, next); err != nil {
		t.Fatal(err)
	}
	if n, err := s.TransactionCount(ctx, 0, 100); err != nil || n != 40+10 {
		t.Fatalf("transaction count = %d, %v; want 50", n, err)
	}
	// Re-saving pruned blocks is a no-op.
	if err := s.SaveDecided(ctx, chain[5:]); err != nil {
		t.Fatalf("re-save from a pruned height: %v", err)
	}
	if h, err := p.FirstHeight(ctx); err != nil || h != 39 {
		t.Fatalf("first height after re-save = %d, %v; want 39", h, err)
	}
	// Archive mode: forgetting the pruned height makes the data missing.
	if err := p.ResetPrunedHeight(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := p.PrunedHeight(ctx); err != nil || ok {
		t.Fatalf("pruned height after reset: %v, %v; want none", ok, err)
	}
	if _, err := s.BlockByHeight(ctx, 10); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("block 10 after reset: %v, want ErrNotFound", err)
	}
	if got, err := s.BlockRange(ctx, 10, 45, 10); err != nil || len(got) != 0 {
		t.Fatalf("range from a missing height after reset: %d blocks, %v; want none", len(got), err)
	}
}

func TestPruneEmptyAndTimes(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	if err := s.PruneBefore(ctx, 10); err != nil {
		t.Fatalf("prune of an empty store: %v", err)
	}
	if _, ok, err := s.PrunedHeight(ctx); err != nil || ok {
		t.Fatalf("pruned height of an empty store: %v, %v; want none", ok, err)
	}
	if _, err := s.FirstHeight(ctx); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("first height of an empty store: %v, want ErrNotFound", err)
	}
	if _, err := s.HeightBefore(ctx, 1<<40); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("height before of an empty store: %v, want ErrNotFound", err)
	}
	if err := s.SaveDecided(ctx, storagetest.Chain(10, 1, 32)); err != nil {
		t.Fatal(err)
	}
	g := storagetest.GenesisTime
	tests := []struct {
		t    uint64
		want uint64
		err  error
	}{
		{0, 0, storage.ErrNotFound},
		{g, 0, storage.ErrNotFound},
		{g + 1, 0, nil},
		{g + 5, 4, nil},
		{g + 10, 9, nil},
		{g + 1000, 9, nil},
	}
	for _, tt := range tests {
		h, err := s.HeightBefore(ctx, tt.t)
		if !errors.Is(err, tt.err) || (err == nil && h != tt.want) {
			t.Errorf("HeightBefore(genesis%+d) = %d, %v; want %d, %v", int64(tt.t-g), h, err, tt.want, tt.err)
		}
	}
	if err := s.PruneBefore(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.PrunedHeight(ctx); ok {
		t.Fatal("PruneBefore(0) recorded a pruned height")
	}
}
