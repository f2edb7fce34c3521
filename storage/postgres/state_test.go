package postgres

import (
	"context"
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
			cfg := testConfig(t)
			storagetest.RunStateReopen(t, func(ctx context.Context) (storage.Store, error) {
				return Open(ctx, cfg, mode.opts...)
			})
		})
	}
}
