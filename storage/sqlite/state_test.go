package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/storagetest"
)

func TestStateReopen(t *testing.T) {
	for _, mode := range []struct {
		name string
		opts []Option
	}{{"full", nil}, {"consensus-only", []Option{WithConsensusOnly()}}} {
		t.Run(mode.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "database")
			storagetest.RunStateReopen(t, func(ctx context.Context) (storage.Store, error) {
				return Open(ctx, path, mode.opts...)
			})
		})
	}
}
