package fs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
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
			dir := t.TempDir()
			storagetest.RunGenesisReopen(t, func(ctx context.Context) (storage.Store, error) {
				return Open(ctx, dir, mode.opts...)
			})
			if _, err := os.Stat(filepath.Join(dir, genesisName)); err != nil {
				t.Errorf("no %s file: %v", genesisName, err)
			}
		})
	}
}

// A damaged genesis file is reported, naming it, and not overwritten.
func TestGenesisFileDamaged(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, genesisName)
	s, err := Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := os.WriteFile(p, []byte("not hex\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = s.BindGenesis(t.Context(), storagetest.GenesisA)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), p) {
		t.Fatalf("BindGenesis on a damaged file: %v, want ErrCorrupt naming %s", err, p)
	}
	if raw, _ := os.ReadFile(p); string(raw) != "not hex\n" {
		t.Errorf("damaged genesis file overwritten: %q", raw)
	}
}
