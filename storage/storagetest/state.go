package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gospresso/gospresso/storage"
)

// LargeSnapshotSize is the size of the large snapshot the suite stores:
// 8 MiB, above the 5.2 MB of a chain state of 100,000 fee accounts.
const LargeSnapshotSize = 8 << 20

// Snapshot returns n deterministic, incompressible bytes standing in for an
// encoded chain state of height h (storage treats snapshots as opaque).
func Snapshot(h uint64, n int) []byte {
	var seed [32]byte
	copy(seed[:], fmt.Sprintf("snapshot %d %d", h, n))
	p := make([]byte, n)
	_, _ = rand.NewChaCha8(seed).Read(p)
	return p
}

// wantState checks that st holds the snapshot data at height h.
func wantState(t *testing.T, ss storage.StateStore, what string, h uint64, data []byte) {
	t.Helper()
	if err := checkState(t.Context(), ss, h, data); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func checkState(ctx context.Context, ss storage.StateStore, h uint64, data []byte) error {
	got, p, err := ss.LoadState(ctx)
	switch {
	case err != nil:
		return fmt.Errorf("LoadState: %w (want height %d)", err, h)
	case got != h:
		return fmt.Errorf("LoadState = height %d, want %d", got, h)
	case !bytes.Equal(p, data):
		return fmt.Errorf("LoadState at height %d: %d bytes that differ from the %d saved", h, len(p), len(data))
	}
	return nil
}

func saveState(t *testing.T, ss storage.StateStore, h uint64, data []byte) {
	t.Helper()
	if err := ss.SaveState(t.Context(), h, data); err != nil {
		t.Fatalf("SaveState(height %d, %d bytes): %v", h, len(data), err)
	}
}

// testStateSnapshots is the suite's check of storage.StateStore: one
// snapshot, the latest by height, opaque bytes of any size, kept apart
// from the blocks (pruning leaves it).
func testStateSnapshots(t *testing.T, st storage.Store, ss storage.StateStore) {
	ctx := t.Context()
	_, _, err := ss.LoadState(ctx)
	wantErr(t, "LoadState before any save", err, storage.ErrNotFound)

	blocks := Chain(12, 2, 64)
	save(t, st, blocks[:6]...)
	saveState(t, ss, 5, Snapshot(5, 1000))
	wantState(t, ss, "after the first save", 5, Snapshot(5, 1000))

	// A higher height replaces it, an equal one too.
	save(t, st, blocks[6:]...)
	saveState(t, ss, 9, Snapshot(9, 3000))
	wantState(t, ss, "after a save at a higher height", 9, Snapshot(9, 3000))
	saveState(t, ss, 9, Snapshot(9, 10))
	wantState(t, ss, "after a save at the same height", 9, Snapshot(9, 10))

	// A lower height is ignored, without an error.
	for _, h := range []uint64{8, 5, 0} {
		if err := ss.SaveState(ctx, h, Snapshot(h, 500)); err != nil {
			t.Fatalf("SaveState at height %d below the stored 9: %v, want nil (ignored)", h, err)
		}
		wantState(t, ss, fmt.Sprintf("after a save at height %d below the stored one", h), 9, Snapshot(9, 10))
	}

	// The stored bytes alias neither the caller's nor what LoadState
	// returned earlier.
	p := Snapshot(11, 64)
	saveState(t, ss, 11, p)
	p[0] ^= 0xff
	_, got, err := ss.LoadState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got[1] ^= 0xff
	wantState(t, ss, "after changing the saved and the loaded bytes", 11, Snapshot(11, 64))

	// Empty data is a snapshot like any other.
	saveState(t, ss, 11, nil)
	if h, got, err := ss.LoadState(ctx); err != nil || h != 11 || len(got) != 0 {
		t.Fatalf("LoadState after saving empty data = height %d, %d bytes, %v; want height 11, no bytes", h, len(got), err)
	}

	// A large snapshot, then a small one replacing it.
	big := Snapshot(11, LargeSnapshotSize)
	saveState(t, ss, 11, big)
	wantState(t, ss, "after a large save", 11, big)
	saveState(t, ss, 12, Snapshot(12, 100))
	wantState(t, ss, "after a small save replacing a large one", 12, Snapshot(12, 100))

	// Blocks are independent of it: pruning leaves it.
	if pr, ok := st.(storage.Pruner); ok {
		if err := pr.PruneBefore(ctx, 11); err != nil {
			t.Fatalf("PruneBefore(11): %v", err)
		}
		wantState(t, ss, "after pruning below 11", 12, Snapshot(12, 100))
	}
	wantHeight(t, st, 12)
}

// RunStateReopen checks that a storage.StateStore keeps its snapshot
// across Close and a new open, which the suite cannot do (Run opens fresh
// stores). open opens the same store every time (in either mode; the
// first open finds it empty). It stores a chain, saves snapshots (a large
// one among them), reopens, checks that the latest one is there and that
// the lower-height rule still holds, then decides more blocks, replaces
// the snapshot and reopens again.
func RunStateReopen(t *testing.T, open func(ctx context.Context) (storage.Store, error)) {
	t.Helper()
	ctx := t.Context()
	reopen := func(what string) (storage.Store, storage.StateStore) {
		t.Helper()
		st, err := open(ctx)
		if err != nil {
			t.Fatalf("%s: open: %v", what, err)
		}
		t.Cleanup(func() { _ = st.Close() })
		ss, ok := st.(storage.StateStore)
		if !ok {
			t.Fatalf("%T does not implement storage.StateStore", st)
		}
		return st, ss
	}
	closeStore := func(st storage.Store) {
		t.Helper()
		if err := st.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	st, ss := reopen("first open")
	if _, _, err := ss.LoadState(ctx); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("LoadState on a new store: %v, want ErrNotFound", err)
	}
	blocks := Chain(20, 2, 64)
	save(t, st, blocks[:11]...)
	saveState(t, ss, 4, Snapshot(4, 200))
	big := Snapshot(10, LargeSnapshotSize)
	saveState(t, ss, 10, big)
	saveState(t, ss, 7, Snapshot(7, 300)) // ignored
	closeStore(st)

	st, ss = reopen("reopen")
	wantState(t, ss, "after reopen", 10, big)
	if err := ss.SaveState(ctx, 9, Snapshot(9, 100)); err != nil {
		t.Fatalf("SaveState below the stored height after reopen: %v, want nil (ignored)", err)
	}
	wantState(t, ss, "after reopen and a lower save", 10, big)
	last, err := st.LastDecided(ctx)
	if err != nil || last.Leaf.Commit() != blocks[10].Leaf.Commit() {
		t.Fatalf("after reopen: LastDecided = block %d, %v; want block 10", last.Height(), err)
	}
	save(t, st, blocks[11:]...)
	saveState(t, ss, 19, Snapshot(19, 5000))
	closeStore(st)
	if _, _, err := ss.LoadState(ctx); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("LoadState after Close: %v, want ErrClosed", err)
	}
	if err := ss.SaveState(ctx, 20, nil); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("SaveState after Close: %v, want ErrClosed", err)
	}

	st, ss = reopen("second reopen")
	wantState(t, ss, "after the second reopen", 19, Snapshot(19, 5000))
	wantHeight(t, st, 20)
	closeStore(st)
}
