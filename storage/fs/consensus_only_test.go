package fs

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/storagetest"
	"github.com/gospresso/gospresso/types"
)

// dirSize is the total size of the regular files under dir.
func dirSize(dir string) (uint64, error) {
	var n uint64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			n += uint64(fi.Size())
		}
		return err
	})
	return n, err
}

func TestConsensusOnlySize(t *testing.T) {
	dir := t.TempDir()
	storagetest.RunConsensusOnly(t, storagetest.ConsensusOnlyConfig{
		Open: func(ctx context.Context) (storage.Store, error) { return Open(ctx, dir, WithConsensusOnly()) },
		Size: func(context.Context, storage.Store) (uint64, error) {
			n, err := dirSize(dir)
			if err == nil {
				ents, _ := os.ReadDir(dir)
				for _, e := range ents {
					if e.Name() == dataDir {
						return 0, errors.New("consensus-only store has a " + dataDir + " directory")
					}
				}
			}
			return n, err
		},
		MaxSize: 64 << 10,
	})
}

func TestConsensusOnlyCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the crash test starts and kills 8 processes")
	}
	storagetest.RunCrash(t, storagetest.CrashConfig{
		Target:            filepath.Join(t.TempDir(), consensusOnlyTarget),
		Open:              openTarget,
		Kills:             8,
		ChildFromTestMain: true,
		ConsensusOnly:     true,
	})
}

func TestConsensusOnlyModeMismatch(t *testing.T) {
	ctx := t.Context()
	tests := []struct {
		name          string
		create, reuse []Option
	}{
		{"full store opened consensus-only", nil, []Option{WithConsensusOnly()}},
		{"consensus-only store opened full", []Option{WithConsensusOnly()}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			st, err := Open(ctx, dir, tt.create...)
			if err != nil {
				t.Fatal(err)
			}
			if err := st.SaveDecided(ctx, storagetest.Chain(3, 2, 32)); err != nil {
				t.Fatal(err)
			}
			st.Close()
			if _, err := Open(ctx, dir, tt.reuse...); !errors.Is(err, ErrModeMismatch) {
				t.Fatalf("Open in the other mode: %v, want ErrModeMismatch", err)
			}
			st, err = Open(ctx, dir, tt.create...)
			if err != nil {
				t.Fatalf("reopen in the store's mode: %v", err)
			}
			if b, err := st.LastDecided(ctx); err != nil || b.Height() != 2 {
				t.Fatalf("LastDecided = %d, %v; want 2", b.Height(), err)
			}
			st.Close()
		})
	}
}

// A full store written before the mode file existed is still recognised.
func TestConsensusOnlyLegacyFullStore(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	st, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SaveDecided(ctx, storagetest.Chain(2, 1, 32)); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if err := os.Remove(filepath.Join(dir, modeName)); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, dir, WithConsensusOnly()); !errors.Is(err, ErrModeMismatch) {
		t.Fatalf("consensus-only Open of a legacy full store: %v, want ErrModeMismatch", err)
	}
	st, err = Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if b, err := os.ReadFile(filepath.Join(dir, modeName)); err != nil || string(b) != modeFull+"\n" {
		t.Fatalf("mode file = %q, %v; want %q", b, err, modeFull+"\n")
	}
	if err := os.WriteFile(filepath.Join(dir, modeName), []byte("half\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, dir); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open with a bad mode file: %v, want ErrCorrupt", err)
	}
}

func TestConsensusOnlySemantics(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	st, err := Open(ctx, dir, WithConsensusOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	blocks := storagetest.Chain(6, 4, 64)

	// Empty store.
	if _, err := st.LastDecided(ctx); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("LastDecided of an empty store: %v, want ErrNotFound", err)
	}
	if n, err := st.BlockHeight(ctx); err != nil || n != 0 {
		t.Fatalf("BlockHeight of an empty store = %d, %v", n, err)
	}
	if err := st.SaveDecided(ctx, blocks[1:2]); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("first block at height 1: %v, want ErrConflict", err)
	}
	if err := st.SaveDecided(ctx, blocks[:4]); err != nil {
		t.Fatal(err)
	}
	other := storagetest.Extend(&blocks[2], 1, 1, 40)[0] // a different block 3
	writes := []struct {
		name   string
		blocks []types.Block
		want   error
	}{
		{"re-save the anchor", blocks[3:4], nil},
		{"re-save below the anchor", blocks[1:4], nil},
		{"different block at the anchor", []types.Block{other}, storage.ErrConflict},
		{"gap", blocks[5:6], storage.ErrConflict},
		{"not consecutive", []types.Block{blocks[3], blocks[5]}, storage.ErrConflict},
	}
	for _, w := range writes {
		if err := st.SaveDecided(ctx, w.blocks); !errors.Is(err, w.want) || (w.want == nil && err != nil) {
			t.Errorf("%s: SaveDecided = %v, want %v", w.name, err, w.want)
		}
	}
	if err := st.SaveProposal(ctx, storage.StoredProposal{View: blocks[4].Leaf.View, Data: []byte("p4")}); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveProposal(ctx, storage.StoredProposal{View: blocks[4].Leaf.View + 1, Data: []byte("p5")}); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveDecided(ctx, blocks[3:5]); err != nil {
		t.Fatal(err)
	}
	if ps, err := st.LoadProposals(ctx); err != nil || len(ps) != 1 || string(ps[0].Data) != "p5" {
		t.Fatalf("LoadProposals after deciding view %d = %v, %v; want the later one only", blocks[4].Leaf.View, ps, err)
	}

	anchor := &blocks[4]
	txs, err := anchor.Payload.Transactions()
	if err != nil || len(txs) != 4 {
		t.Fatalf("anchor transactions: %d, %v", len(txs), err)
	}
	ts := anchor.Leaf.Header.Timestamp
	isAnchor := func(b types.Block, err error) error {
		if err != nil {
			return err
		}
		if b.Leaf.Commit() != anchor.Leaf.Commit() {
			return errors.New("not the anchor")
		}
		return nil
	}
	var zero types.Commitment
	reads := []struct {
		name string
		got  func() error
		want error
	}{
		{"LastDecided", func() error { return isAnchor(st.LastDecided(ctx)) }, nil},
		{"BlockByHeight anchor", func() error { return isAnchor(st.BlockByHeight(ctx, 4)) }, nil},
		{"BlockByHeight below", func() error { _, err := st.BlockByHeight(ctx, 3); return err }, storage.ErrPruned},
		{"BlockByHeight genesis", func() error { _, err := st.BlockByHeight(ctx, 0); return err }, storage.ErrPruned},
		{"BlockByHeight above", func() error { _, err := st.BlockByHeight(ctx, 5); return err }, storage.ErrNotFound},
		{"BlockByLeaf", func() error { return isAnchor(st.BlockByLeaf(ctx, anchor.Leaf.Commit())) }, nil},
		{"BlockByLeaf pruned", func() error { _, err := st.BlockByLeaf(ctx, blocks[3].Leaf.Commit()); return err }, storage.ErrNotFound},
		{"BlockByHash", func() error { return isAnchor(st.BlockByHash(ctx, anchor.Leaf.Header.Commit())) }, nil},
		{"BlockByHash other", func() error { _, err := st.BlockByHash(ctx, zero); return err }, storage.ErrNotFound},
		{"BlockByPayloadHash", func() error { return isAnchor(st.BlockByPayloadHash(ctx, anchor.Leaf.Header.PayloadCommitment)) }, nil},
		{"TransactionByHash", func() error {
			loc, err := st.TransactionByHash(ctx, txs[2].Commit())
			if err == nil && loc != (storage.TxLocation{Height: 4, Index: 2}) {
				return errors.New("wrong location")
			}
			return err
		}, nil},
		{"TransactionAt", func() error {
			tx, err := st.TransactionAt(ctx, 4, 3)
			if err == nil && tx.Commit() != txs[3].Commit() {
				return errors.New("wrong transaction")
			}
			return err
		}, nil},
		{"TransactionAt below", func() error { _, err := st.TransactionAt(ctx, 3, 0); return err }, storage.ErrPruned},
		{"BlockRange anchor", func() error {
			bs, err := st.BlockRange(ctx, 4, 100, 10)
			if err == nil && len(bs) != 1 {
				return errors.New("want one block")
			}
			if err == nil {
				return isAnchor(bs[0], nil)
			}
			return err
		}, nil},
		{"BlockRange below", func() error { _, err := st.BlockRange(ctx, 2, 5, 10); return err }, storage.ErrPruned},
		{"BlockRange above", func() error {
			if bs, err := st.BlockRange(ctx, 5, 9, 10); err != nil || len(bs) != 0 {
				return errors.New("want none")
			}
			return nil
		}, nil},
		{"TransactionCount", func() error {
			if n, err := st.TransactionCount(ctx, 4, 9); err != nil || n != 4 {
				return errors.New("want 4")
			}
			return nil
		}, nil},
		{"TransactionCount below", func() error { _, err := st.TransactionCount(ctx, 0, 9); return err }, storage.ErrPruned},
		{"PayloadBytes", func() error {
			if n, err := st.PayloadBytes(ctx, 4, 5); err != nil || n != anchor.Payload.Size() {
				return errors.New("want the anchor's size")
			}
			return nil
		}, nil},
		{"PayloadBytes below", func() error { _, err := st.PayloadBytes(ctx, 3, 5); return err }, storage.ErrPruned},
		{"NamespaceHeights", func() error {
			if hs, err := st.NamespaceHeights(ctx, storagetest.NamespaceB, 0, 10); err != nil || len(hs) != 1 || hs[0] != 4 {
				return errors.New("want [4]")
			}
			if hs, err := st.NamespaceHeights(ctx, storagetest.NamespaceC, 0, 10); err != nil || len(hs) != 0 {
				return errors.New("want none for a namespace the anchor lacks")
			}
			return nil
		}, nil},
		{"HeaderWindow", func() error {
			w, err := st.HeaderWindow(ctx, ts, ts+1, 10)
			if err != nil || len(w.Window) != 1 || w.Window[0].Height != 4 || w.Prev != nil || w.Next != nil {
				return errors.New("want the anchor in the window")
			}
			w, err = st.HeaderWindow(ctx, ts+1, ts+9, 10)
			if err != nil || len(w.Window) != 0 || w.Prev == nil || w.Prev.Height != 4 || w.Next != nil {
				return errors.New("want the anchor before the window")
			}
			w, err = st.HeaderWindow(ctx, 0, ts, 10)
			if err != nil || len(w.Window) != 0 || w.Next == nil || w.Next.Height != 4 {
				return errors.New("want the anchor after the window")
			}
			return nil
		}, nil},
	}
	for _, r := range reads {
		err := r.got()
		if (r.want == nil && err != nil) || (r.want != nil && !errors.Is(err, r.want)) {
			t.Errorf("%s: %v, want %v", r.name, err, r.want)
		}
	}
	if n, err := st.BlockHeight(ctx); err != nil || n != 5 {
		t.Errorf("BlockHeight = %d, %v; want 5", n, err)
	}
	if err := storagetest.CheckConsensusOnlyStore(ctx, st); err != nil {
		t.Error(err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		switch e.Name() {
		case lockName, modeName, safetyName, proposalsDir, anchorName:
		default:
			t.Errorf("unexpected file %s in a consensus-only store", e.Name())
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.LastDecided(ctx); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("LastDecided after Close: %v, want ErrClosed", err)
	}
}

// A damaged anchor_leaf is reported, not repaired by dropping the chain.
func TestConsensusOnlyCorruptAnchor(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	st, err := Open(ctx, dir, WithConsensusOnly())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SaveDecided(ctx, storagetest.Chain(3, 2, 32)); err != nil {
		t.Fatal(err)
	}
	st.Close()
	p := filepath.Join(dir, anchorName)
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 0xff
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p+swpSuffix, []byte("leftover"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, dir, WithConsensusOnly()); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open with a damaged anchor: %v, want ErrCorrupt", err)
	}
	if _, err := os.Stat(p + swpSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("leftover %s%s not removed: %v", anchorName, swpSuffix, err)
	}
}
