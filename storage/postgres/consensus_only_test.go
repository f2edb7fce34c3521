package postgres

import (
	"context"
	"errors"
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

// A store that keeps history refuses consensus-only mode (dropping the
// query module would delete that history), and works again in full mode.
func TestConsensusOnlyRefusesFullStore(t *testing.T) {
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
	if _, err := Open(ctx, cfg, WithConsensusOnly()); !errors.Is(err, storage.ErrModeMismatch) {
		t.Fatalf("consensus-only open of a full store: %v, want ErrModeMismatch", err)
	}
	st = openStore(t, cfg)
	if h, err := st.BlockHeight(ctx); err != nil || h != 10 {
		t.Fatalf("history after the refused open: height %d, %v; want 10", h, err)
	}
}
