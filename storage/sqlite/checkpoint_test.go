package sqlite

import (
	"os"
	"testing"
	"time"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/storagetest"
	"github.com/gospresso/gospresso/types"
)

// TestBackgroundCheckpoint checks that committed data reaches the database
// file while the store stays open, copied by the checkpointer rather than
// by the writes themselves.
func TestBackgroundCheckpoint(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	if err := s.SaveDecided(ctx, storagetest.Chain(8, 100, 1000)); err != nil { // ~700 KB
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		fi, err := os.Stat(s.Path())
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > 700_000 && s.ck.rounds.Load() > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("database file is %d bytes after %d checkpoints, want the blocks copied into it", fi.Size(), s.ck.rounds.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Many writes in a burst are copied in few rounds.
	before := s.ck.rounds.Load()
	for i := range 20 {
		if err := s.SaveProposal(ctx, storage.StoredProposal{View: types.ViewNumber(100 + i), Data: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(3 * checkpointInterval)
	if n := s.ck.rounds.Load() - before; n < 1 || n > 10 {
		t.Fatalf("%d checkpoints for a burst of 20 writes, want between 1 and 10", n)
	}
	// Close stops the checkpointer even while it has work queued.
	s.ck.notify()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.ck.done:
	default:
		t.Fatal("checkpointer still running after Close")
	}
}
