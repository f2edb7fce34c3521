package sqlite

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/storagetest"
	"github.com/gospresso/gospresso/types"
)

func TestGenesisReopen(t *testing.T) {
	for _, mode := range []struct {
		name string
		opts []Option
	}{{"full", nil}, {"consensus-only", []Option{WithConsensusOnly()}}} {
		t.Run(mode.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "database")
			storagetest.RunGenesisReopen(t, func(ctx context.Context) (storage.Store, error) {
				return Open(ctx, path, mode.opts...)
			})
		})
	}
}

// A database deleted while the store is open (its directory removed, as an
// operator cleaning up might) fails the next write, naming the path: the
// node halts instead of writing into a file nobody will read again.
func TestDeletedDatabaseFailsWrites(t *testing.T) {
	for _, c := range []struct {
		name   string
		remove func(dir, path string) error
	}{
		{"directory", func(dir, _ string) error { return os.RemoveAll(dir) }},
		{"file", func(_, path string) error { return os.Remove(path) }},
		{"replaced", func(_, path string) error {
			if err := os.Rename(path, path+".old"); err != nil {
				return err
			}
			return os.WriteFile(path, nil, 0o644)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := t.Context()
			dir := filepath.Join(t.TempDir(), "sqlite")
			path := filepath.Join(dir, "database")
			s, err := Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			blocks := storagetest.Chain(3, 1, 16)
			if err := s.SaveDecided(ctx, blocks[:2]); err != nil {
				t.Fatal(err)
			}
			if err := s.SaveSafety(ctx, types.SafetyState{View: 1}); err != nil {
				t.Fatal(err)
			}
			if err := c.remove(dir, path); err != nil {
				t.Fatal(err)
			}
			for what, err := range map[string]error{
				"SaveSafety":  s.SaveSafety(ctx, types.SafetyState{View: 2}),
				"SaveDecided": s.SaveDecided(ctx, blocks[2:]),
				"SaveState":   s.SaveState(ctx, 2, []byte("state")),
			} {
				if !errors.Is(err, ErrDatabaseGone) || !strings.Contains(err.Error(), path) {
					t.Errorf("%s after the database was deleted: %v, want ErrDatabaseGone naming %s", what, err, path)
				}
			}
		})
	}
}

// Errors of SQLite's own, which name no file, come back with the database
// path.
func TestErrorsNamePath(t *testing.T) {
	ctx := t.Context()
	t.Run("failed write", func(t *testing.T) {
		s := openTemp(t)
		// The writer gone (as after an I/O error): the driver's error names
		// no file.
		if err := s.w.Close(); err != nil {
			t.Fatal(err)
		}
		err := s.SaveSafety(ctx, types.SafetyState{View: 1})
		if err == nil || !strings.Contains(err.Error(), s.Path()) {
			t.Fatalf("SaveSafety on a closed writer: %v, want an error naming %s", err, s.Path())
		}
	})
	t.Run("read-only database", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("running as root: file modes do not stop writes")
		}
		path := filepath.Join(t.TempDir(), "database")
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		if err := os.Chmod(path, 0o444); err != nil {
			t.Fatal(err)
		}
		s, err = Open(ctx, path)
		if err == nil {
			defer s.Close()
			err = s.SaveSafety(ctx, types.SafetyState{View: 1})
		}
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Fatalf("write to a read-only database: %v, want an error naming %s", err, path)
		}
	})
	t.Run("directory is a file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(file, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(file, "database")
		_, err := Open(ctx, path)
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Fatalf("Open under a file: %v, want an error naming %s", err, path)
		}
	})
}
