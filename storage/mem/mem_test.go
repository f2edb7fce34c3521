package mem_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/mem"
	"github.com/gospresso/gospresso/storage/storagecodec"
	"github.com/gospresso/gospresso/storage/storagetest"
	"github.com/gospresso/gospresso/types"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store { return mem.New() })
}

func TestFailWrites(t *testing.T) {
	ctx := t.Context()
	st := mem.New()
	blocks := storagetest.Chain(4, 2, 32)
	if err := st.SaveDecided(ctx, blocks[:2]); err != nil {
		t.Fatal(err)
	}
	disk := errors.New("disk on fire")
	st.FailWrites(disk)
	writes := map[string]error{
		"SaveDecided":       st.SaveDecided(ctx, blocks[2:]),
		"SaveSafety":        st.SaveSafety(ctx, types.SafetyState{View: 3}),
		"SaveProposal":      st.SaveProposal(ctx, storage.StoredProposal{View: 3}),
		"PruneBefore":       st.PruneBefore(ctx, 1),
		"ResetPrunedHeight": st.ResetPrunedHeight(ctx),
		"SaveState":         st.SaveState(ctx, 1, []byte("state")),
	}
	for name, err := range writes {
		if !errors.Is(err, disk) {
			t.Errorf("%s with failing writes: err = %v, want the injected error", name, err)
		}
	}
	if n, err := st.BlockHeight(ctx); err != nil || n != 2 {
		t.Errorf("BlockHeight after failed writes = %d, %v; want 2 (reads still work)", n, err)
	}
	if _, _, err := st.LoadState(ctx); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("LoadState after a failed SaveState: %v, want ErrNotFound", err)
	}
	st.FailWrites(nil)
	if err := st.SaveDecided(ctx, blocks[2:]); err != nil {
		t.Errorf("SaveDecided after writes are restored: %v", err)
	}
}

func TestReopen(t *testing.T) {
	ctx := t.Context()
	st := mem.New()
	blocks := storagetest.Chain(3, 2, 32)
	if err := st.SaveDecided(ctx, blocks); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if _, err := st.LastDecided(ctx); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("LastDecided after Close: err = %v, want ErrClosed", err)
	}
	st.Reopen()
	if err := storagetest.CheckStore(ctx, st); err != nil {
		t.Fatalf("after Reopen: %v", err)
	}
}

func TestLiveSize(t *testing.T) {
	ctx := t.Context()
	st := mem.New()
	blocks := storagetest.Chain(10, 5, 100)
	if err := st.SaveDecided(ctx, blocks); err != nil {
		t.Fatal(err)
	}
	size := func(from int) uint64 {
		var n uint64
		for i := from; i < len(blocks); i++ {
			h, err := storagecodec.EncodeHeader(&blocks[i].Leaf.Header)
			if err != nil {
				t.Fatal(err)
			}
			n += blocks[i].Payload.Size() + uint64(len(h))
		}
		return n
	}
	if got, err := st.LiveSize(ctx); err != nil || got != size(0) {
		t.Errorf("LiveSize = %d, %v; want %d (payload and header bytes)", got, err, size(0))
	}
	if err := st.PruneBefore(ctx, 6); err != nil {
		t.Fatal(err)
	}
	if got, err := st.LiveSize(ctx); err != nil || got != size(6) {
		t.Errorf("LiveSize after pruning below 6 = %d, %v; want %d", got, err, size(6))
	}
}

func BenchmarkInsert(b *testing.B) {
	storagetest.BenchInsert(b, func(b *testing.B) storage.Store { return mem.New() })
}

func BenchmarkLookups(b *testing.B) {
	storagetest.BenchLookups(b, func(b *testing.B) storage.Store { return mem.New() })
}

// The snapshot stays with the value across Close and Reopen, as the rest
// of the store does.
func TestStateReopen(t *testing.T) {
	var st *mem.Store
	storagetest.RunStateReopen(t, func(context.Context) (storage.Store, error) {
		if st == nil {
			st = mem.New()
		} else {
			st.Reopen()
		}
		return st, nil
	})
}

// The genesis identity stays with the value across Close and Reopen.
func TestGenesisReopen(t *testing.T) {
	var st *mem.Store
	storagetest.RunGenesisReopen(t, func(context.Context) (storage.Store, error) {
		if st == nil {
			st = mem.New()
		} else {
			st.Reopen()
		}
		return st, nil
	})
}
