package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/storagetest"
)

func TestConsensusOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "database")
	storagetest.RunConsensusOnly(t, storagetest.ConsensusOnlyConfig{
		Open: func(ctx context.Context) (storage.Store, error) { return Open(ctx, path, WithConsensusOnly()) },
		Size: func(ctx context.Context, st storage.Store) (uint64, error) {
			// The files stay small too: the database (freed pages are
			// reused) and the WAL, cut back to 1 MiB.
			for _, f := range []struct {
				suffix string
				max    int64
			}{{"", 512 << 10}, {"-wal", 2 << 20}} {
				if fi, err := os.Stat(path + f.suffix); err == nil && fi.Size() > f.max {
					return 0, fmt.Errorf("%s%s is %d bytes, want at most %d", path, f.suffix, fi.Size(), f.max)
				}
			}
			return st.(*Store).LiveSize(ctx)
		},
		MaxSize: 256 << 10,
	})
}

// A full store opened in consensus-only mode is pruned down to its last
// block by the next SaveDecided, and the pruned height is recorded.
func TestConsensusOnlyOnFullStore(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "database")
	blocks := storagetest.Chain(12, 3, 64)
	st, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SaveDecided(ctx, blocks[:10]); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if st, err = Open(ctx, path, WithConsensusOnly()); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
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
