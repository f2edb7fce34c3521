package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/storagetest"
)

// openTarget opens the store of a crash test; target is its database path.
func openTarget(ctx context.Context, target string) (storage.Store, error) {
	return Open(ctx, target)
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		// A small reader pool so that concurrent reads also queue.
		s, err := Open(t.Context(), filepath.Join(t.TempDir(), "database"), WithMaxReaders(4))
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		return s
	})
}

// TestCrash kills a writing child process at random points (at least 10
// times) and checks after each kill that the store opens and is
// consistent, and holds every write the child saw return.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	storagetest.RunCrash(t, storagetest.CrashConfig{
		Target:            filepath.Join(t.TempDir(), "sqlite", "database"),
		Open:              openTarget,
		Kills:             12,
		Timeout:           3 * time.Minute,
		ChildFromTestMain: true,
	})
}
