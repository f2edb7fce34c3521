package replica_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gospresso/gospresso/node/replica"
	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/fs"
)

// runFS runs a one-member network of setup on the consensus-only fs store
// in dir until it decided height h, then closes the store: block 0 is gone
// from it.
func runFS(t *testing.T, setup *replica.Setup, key int, dir string, h uint64) {
	t.Helper()
	_, ks := testSetup(t, byte(key), 1)
	st, err := fs.Open(t.Context(), dir, fs.WithConsensusOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := start
	r, err := replica.Open(t.Context(), replica.Config{Setup: setup, Key: ks[0].Staking, Store: st, Sender: &recorder{}, Consensus: fast}, now)
	if err != nil {
		t.Fatal(err)
	}
	for range 1000 {
		if r.Height() >= h {
			break
		}
		now = now.Add(10 * time.Millisecond)
		if err := r.Tick(t.Context(), now); err != nil {
			t.Fatal(err)
		}
	}
	if r.Height() < h {
		t.Fatalf("height %d not reached; at %d", h, r.Height())
	}
	if _, err := st.BlockByHeight(t.Context(), 0); !errors.Is(err, storage.ErrPruned) && !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("block 0 of a consensus-only store at height %d: %v, want it gone", h, err)
	}
}

// openFS opens a replica of setup on the consensus-only fs store in dir.
func openFS(t *testing.T, setup *replica.Setup, seed byte, dir string) error {
	t.Helper()
	_, ks := testSetup(t, seed, 1)
	st, err := fs.Open(t.Context(), dir, fs.WithConsensusOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, err = replica.Open(t.Context(), replica.Config{Setup: setup, Key: ks[0].Staking, Store: st, Sender: &recorder{}, Consensus: fast}, start)
	return err
}

// wantForeign checks that err is ErrForeignStore and says which networks
// and what to do.
func wantForeign(t *testing.T, err error, stored, ours *replica.Setup) {
	t.Helper()
	if !errors.Is(err, replica.ErrForeignStore) {
		t.Fatalf("Open on another network's store: %v, want ErrForeignStore", err)
	}
	for _, want := range []string{fmt.Sprintf("%x", stored.Commitment), fmt.Sprintf("%x", ours.Commitment), "reset-storage", "fresh storage path"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("ErrForeignStore message %q does not say %q", err, want)
		}
	}
}

// A consensus-only store keeps only its last block, so block 0 cannot tell
// whose chain it holds: the genesis identity in its metadata does.
func TestOpenRefusesAnotherNetworksPrunedStore(t *testing.T) {
	a, _ := testSetup(t, 3, 1)
	b, _ := testSetup(t, 4, 1)
	if a.Commitment == b.Commitment {
		t.Fatal("two networks with one genesis commitment")
	}
	dir := t.TempDir()
	runFS(t, a, 3, dir, 3)
	wantForeign(t, openFS(t, b, 4, dir), a, b)
	// The refused open changed nothing: network A's node still opens it.
	if err := openFS(t, a, 3, dir); err != nil {
		t.Fatalf("Open of the store's own network after a refused one: %v", err)
	}
}

// A store written before the genesis identity existed is bound at its
// next open, and then refuses another network.
func TestOpenBindsAnUnboundStore(t *testing.T) {
	a, _ := testSetup(t, 3, 1)
	b, _ := testSetup(t, 4, 1)
	dir := t.TempDir()
	runFS(t, a, 3, dir, 3)
	if err := os.Remove(filepath.Join(dir, "genesis")); err != nil {
		t.Fatalf("remove the genesis identity (a store of an older build): %v", err)
	}
	if err := openFS(t, a, 3, dir); err != nil {
		t.Fatalf("Open of an unbound store: %v", err)
	}
	wantForeign(t, openFS(t, b, 4, dir), a, b)
}
