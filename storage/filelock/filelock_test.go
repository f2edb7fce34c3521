package filelock

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/gospresso/gospresso/storage"
)

func TestLock(t *testing.T) {
	name := filepath.Join(t.TempDir(), "lock")
	f, err := Lock(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(name); !errors.Is(err, storage.ErrLocked) {
		t.Fatalf("second lock: %v, want ErrLocked", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	g, err := Lock(name)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	g.Close()
	if _, err := Lock(filepath.Join(t.TempDir(), "missing", "lock")); err == nil || errors.Is(err, storage.ErrLocked) {
		t.Fatalf("lock in a missing directory: %v", err)
	}
}
