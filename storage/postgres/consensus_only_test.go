package postgres

import (
	"context"
	"testing"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/storagetest"
)

func TestConsensusOnly(t *testing.T) {
	cfg := testConfig(t)
	storagetest.RunConsensusOnly(t, storagetest.ConsensusOnlyConfig{
		Open: func(ctx context.Context) (storage.Store, error) { return Open(ctx, cfg, WithConsensusOnly()) },
		Size: func(ctx context.Context, st storage.Store) (uint64, error) {
			return st.(*Store).LiveSize(ctx)
		},
		MaxSize: 64 << 10,
	})
}

// A full store opened in consensus-only mode is pruned down to its last
// block by the next SaveDecided, and the pruned height is recorded.
func TestConsensusOnlyOnFullStore(t *testing.T) {
	ctx := t.Context()
	cfg := testConfig(t)
	blocks := storagetest.Chain(12, 3, 64)
	st, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SaveDecided(ctx, blocks[:10]); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st = openStore(t, cfg, WithConsensusOnly())
	if err := st.SaveDecided(ctx, blocks[9:]); err != nil {
		t.Fatal(err)
	}
	if h, ok, err := st.PrunedHeight(ctx); err != nil || !ok || h != 11 {
		t.Fatalf("PrunedHeight = %d, %v, %v; want 11", h, ok, err)
	}
	if err := storagetest.CheckConsensusOnlyStore(ctx, st); err != nil {
		t.Fatal(err)
	}
}
