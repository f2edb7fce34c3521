package postgres

import (
	"context"
	"testing"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/storagetest"
)

func TestGenesisReopen(t *testing.T) {
	for _, mode := range []struct {
		name string
		opts []Option
	}{{"full", nil}, {"consensus-only", []Option{WithConsensusOnly()}}} {
		t.Run(mode.name, func(t *testing.T) {
			cfg := testConfig(t)
			storagetest.RunGenesisReopen(t, func(ctx context.Context) (storage.Store, error) {
				return Open(ctx, cfg, mode.opts...)
			})
		})
	}
}

// Reset wipes the genesis identity with the rest: the store can be bound
// to another network afterwards.
func TestResetWipesGenesis(t *testing.T) {
	cfg := testConfig(t)
	ctx := t.Context()
	s := openStore(t, cfg)
	if err := s.BindGenesis(ctx, storagetest.GenesisA); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := Reset(ctx, cfg); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	s = openStore(t, cfg)
	if err := s.BindGenesis(ctx, storagetest.GenesisB); err != nil {
		t.Fatalf("BindGenesis of another genesis after Reset: %v, want nil", err)
	}
}
