package sqlite

import (
	"context"
	"errors"
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

// A store that keeps history refuses consensus-only mode (dropping the
// query module would delete that history), and works again in full mode.
func TestConsensusOnlyRefusesFullStore(t *testing.T) {
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
	if _, err := Open(ctx, path, WithConsensusOnly()); !errors.Is(err, storage.ErrModeMismatch) {
		t.Fatalf("consensus-only open of a full store: %v, want ErrModeMismatch", err)
	}
	st, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if h, err := st.BlockHeight(ctx); err != nil || h != 10 {
		t.Fatalf("history after the refused open: height %d, %v; want 10", h, err)
	}
}
