package storagetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gospresso/gospresso/storage"
)

// GenesisA and GenesisB are two genesis identities (storage.GenesisBinder)
// of two networks.
var (
	GenesisA = [32]byte{0: 0xa1, 31: 0x0a}
	GenesisB = [32]byte{0: 0xb2, 31: 0x0b}
)

// wantMismatch checks that err is the error of a bind of want on a store
// bound to stored: it wraps storage.ErrGenesisMismatch and names both in hex.
func wantMismatch(t *testing.T, what string, err error, stored, want [32]byte) {
	t.Helper()
	if !errors.Is(err, storage.ErrGenesisMismatch) {
		t.Fatalf("%s: %v, want ErrGenesisMismatch", what, err)
	}
	for _, c := range [][32]byte{stored, want} {
		if h := fmt.Sprintf("%x", c); !strings.Contains(err.Error(), h) {
			t.Errorf("%s: %q does not name genesis %s", what, err, h)
		}
	}
	var me *storage.GenesisMismatchError
	if !errors.As(err, &me) || me.Stored != stored || me.Want != want {
		t.Errorf("%s: %v: want a *storage.GenesisMismatchError with Stored %x, Want %x", what, err, stored, want)
	}
}

func bindGenesis(t *testing.T, g storage.GenesisBinder, c [32]byte, what string) {
	t.Helper()
	if err := g.BindGenesis(t.Context(), c); err != nil {
		t.Fatalf("%s: BindGenesis(%x): %v", what, c[:4], err)
	}
}

// testGenesisBinding is the suite's check of storage.GenesisBinder: the
// first bind records the identity, the same one binds again, another one
// is refused and changes nothing, whatever blocks are stored or pruned.
func testGenesisBinding(t *testing.T, st storage.Store, g storage.GenesisBinder) {
	blocks := Chain(6, 1, 16)
	save(t, st, blocks[:3]...)
	bindGenesis(t, g, GenesisA, "first bind")
	bindGenesis(t, g, GenesisA, "bind of the same genesis")
	wantMismatch(t, "bind of another genesis", g.BindGenesis(t.Context(), GenesisB), GenesisA, GenesisB)
	bindGenesis(t, g, GenesisA, "bind of the same genesis after a refused one")
	save(t, st, blocks[3:]...)
	if p, ok := st.(storage.Pruner); ok {
		if err := p.PruneBefore(t.Context(), 5); err != nil {
			t.Fatalf("PruneBefore(5): %v", err)
		}
	}
	wantMismatch(t, "bind of another genesis after pruning", g.BindGenesis(t.Context(), GenesisB), GenesisA, GenesisB)
	bindGenesis(t, g, GenesisA, "bind of the same genesis after pruning")
	wantHeight(t, st, 6)
}

// RunGenesisReopen checks that a storage.GenesisBinder keeps its genesis
// identity across Close and a new open, which the suite cannot do. open
// opens the same store every time; the first open finds it empty.
func RunGenesisReopen(t *testing.T, open func(ctx context.Context) (storage.Store, error)) {
	t.Helper()
	ctx := t.Context()
	reopen := func(what string) (storage.Store, storage.GenesisBinder) {
		t.Helper()
		st, err := open(ctx)
		if err != nil {
			t.Fatalf("%s: open: %v", what, err)
		}
		t.Cleanup(func() { _ = st.Close() })
		g, ok := st.(storage.GenesisBinder)
		if !ok {
			t.Fatalf("%T does not implement storage.GenesisBinder", st)
		}
		return st, g
	}
	closeStore := func(st storage.Store) {
		t.Helper()
		if err := st.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	st, g := reopen("first open")
	blocks := Chain(4, 1, 16)
	save(t, st, blocks[:2]...)
	bindGenesis(t, g, GenesisA, "first bind")
	closeStore(st)
	if err := g.BindGenesis(ctx, GenesisA); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("BindGenesis after Close: %v, want ErrClosed", err)
	}

	st, g = reopen("reopen")
	wantMismatch(t, "bind of another genesis after reopen", g.BindGenesis(ctx, GenesisB), GenesisA, GenesisB)
	bindGenesis(t, g, GenesisA, "bind of the same genesis after reopen")
	save(t, st, blocks[2:]...)
	closeStore(st)

	st, g = reopen("second reopen")
	wantMismatch(t, "bind of another genesis after the second reopen", g.BindGenesis(ctx, GenesisB), GenesisA, GenesisB)
	wantHeight(t, st, 4)
	closeStore(st)
}
