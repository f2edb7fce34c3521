package pruner_test

import (
	"bytes"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gospresso/gospresso/internal/pgtest"

	"github.com/gospresso/gospresso/clock"
	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/mem"
	"github.com/gospresso/gospresso/storage/postgres"
	"github.com/gospresso/gospresso/storage/pruner"
	"github.com/gospresso/gospresso/storage/sqlite"
	"github.com/gospresso/gospresso/storage/storagetest"
)

// Chain of the backend tests: 200 blocks one second apart from
// storagetest.GenesisTime, 10 transactions of 1 KB each; the clock stands
// at the last block.
const (
	chainLen = 200
	txs      = 10
	txSize   = 1000
)

var chainEnd = time.Unix(int64(storagetest.GenesisTime)+chainLen-1, 0)

// fillChain stores the chain and, as a node does, a chain-state snapshot
// after its last block (without one the pruner deletes nothing).
func fillChain(t *testing.T, st storage.Store) {
	t.Helper()
	fillBlocks(t, st)
	saveSnapshot(t, st, chainLen-1)
}

func fillBlocks(t *testing.T, st storage.Store) {
	t.Helper()
	blocks := storagetest.Chain(chainLen, txs, txSize)
	for i := 0; i < len(blocks); i += 50 {
		if err := st.SaveDecided(t.Context(), blocks[i:min(i+50, len(blocks))]); err != nil {
			t.Fatal(err)
		}
	}
}

func saveSnapshot(t *testing.T, st storage.Store, h uint64) {
	t.Helper()
	ss, ok := st.(storage.StateStore)
	if !ok {
		t.Fatalf("%T does not implement storage.StateStore", st)
	}
	if err := ss.SaveState(t.Context(), h, storagetest.Snapshot(h, 1000)); err != nil {
		t.Fatal(err)
	}
}

// runBackend runs the pruner over a real store: the target retention step,
// then the threshold step against the store's own live size, which must
// shrink as blocks go.
func runBackend(t *testing.T, st storage.Store) {
	p, ok := st.(storage.Pruner)
	if !ok {
		t.Fatalf("%T does not implement storage.Pruner", st)
	}
	ctx := t.Context()
	fillChain(t, st)
	size0, err := p.LiveSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewManual(chainEnd)
	cfg := pruner.Config{
		Threshold:        1 << 62,
		MinimumRetention: 20 * time.Second,  // heights ≥ 179 are younger
		TargetRetention:  150 * time.Second, // heights < 49 are older
		BatchSize:        7,
		MaxUsage:         8000,
		Interval:         time.Hour,
	}
	pr, err := pruner.New(st, cfg, pruner.WithClock(clk), pruner.WithPause(0))
	if err != nil {
		t.Fatal(err)
	}

	// Step 1 only: the size is far below the threshold.
	r, err := pr.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// now − 150 s = GenesisTime + 49: heights 0..48 are strictly older.
	if r.PrunedHeight != 49 || r.Batches != 7 || r.OverThreshold {
		t.Fatalf("step 1: %+v", r)
	}
	if _, err := st.BlockByHeight(ctx, 48); !errors.Is(err, storage.ErrPruned) {
		t.Fatalf("height 48 after pruning: %v", err)
	}
	if _, err := st.BlockByHeight(ctx, 49); err != nil {
		t.Fatalf("height 49 after pruning: %v", err)
	}
	if h, ok, err := p.PrunedHeight(ctx); err != nil || !ok || h != 49 {
		t.Fatalf("pruned height %d, %t, %v", h, ok, err)
	}
	size1, err := p.LiveSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if size1 >= size0 {
		t.Fatalf("live size did not shrink: %d → %d", size0, size1)
	}
	t.Logf("live size %d bytes with %d blocks, %d after pruning %d", size0, chainLen, size1, r.Blocks)

	// Step 2: a threshold at half the live size; max usage 80 % of it.
	cfg.Threshold = size1 / 2
	pr, err = pruner.New(st, cfg, pruner.WithClock(clk), pruner.WithPause(0))
	if err != nil {
		t.Fatal(err)
	}
	r, err = pr.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	size2, err := p.LiveSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	limit := cfg.Threshold * uint64(cfg.MaxUsage) / 10000
	if !r.OverThreshold || r.ThresholdBlocks == 0 || r.SizeAfter != size2 {
		t.Fatalf("step 2: %+v (live size %d)", r, size2)
	}
	if r.PrunedHeight > 179 {
		t.Fatalf("pruned below %d: data younger than the minimum retention deleted", r.PrunedHeight)
	}
	if size2 > limit && r.PrunedHeight != 179 {
		t.Fatalf("stopped at height %d with live size %d above %d", r.PrunedHeight, size2, limit)
	}
	if size2 <= limit && r.AtMinimumRetention {
		t.Fatalf("report %+v", r)
	}
	for h := uint64(179); h < chainLen; h++ {
		if _, err := st.BlockByHeight(ctx, h); err != nil {
			t.Fatalf("height %d (younger than the minimum retention): %v", h, err)
		}
	}
	t.Logf("threshold %d: pruned to height %d, live size %d (limit %d)", cfg.Threshold, r.PrunedHeight, size2, limit)

	// A threshold no pruning can reach: stops at the minimum retention.
	cfg.Threshold = 1
	pr, err = pruner.New(st, cfg, pruner.WithClock(clk), pruner.WithPause(0))
	if err != nil {
		t.Fatal(err)
	}
	r, err = pr.RunOnce(ctx)
	if err != nil || r.PrunedHeight != 179 || !r.AtMinimumRetention {
		t.Fatalf("tiny threshold: %+v, %v", r, err)
	}
	if last, err := st.LastDecided(ctx); err != nil || last.Height() != chainLen-1 {
		t.Fatalf("last decided: %v", err)
	}
}

func TestMemBackend(t *testing.T) {
	runBackend(t, mem.New())
}

func TestSQLiteBackend(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runBackend(t, st)
}

func TestPostgresBackend(t *testing.T) {
	uri, schema := pgtest.Schema(t, "gospresso_test_pruner_")
	st, err := postgres.Open(t.Context(), postgres.Config{URI: uri, Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runBackend(t, st)
}

// The pruner deletes batches while the node keeps saving decided blocks:
// neither blocks the other for long, and the chain stays whole above the
// pruned height.
func TestPruneWhileWriting(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) storage.Store
	}{
		{"mem", func(t *testing.T) storage.Store { return mem.New() }},
		{"sqlite", func(t *testing.T) storage.Store {
			st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			st := tc.open(t)
			fillChain(t, st)
			last, err := st.LastDecided(ctx)
			if err != nil {
				t.Fatal(err)
			}
			more := storagetest.Extend(&last, 100, txs, txSize)
			done := make(chan error, 1)
			go func() {
				for i := range more {
					if err := st.SaveDecided(ctx, more[i:i+1]); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
			cfg := pruner.DefaultConfig()
			cfg.BatchSize = 3
			cfg.TargetRetention, cfg.MinimumRetention = 100*time.Second, 10*time.Second
			// The clock is at the end of the new blocks: every old block is
			// past the target retention.
			pr, err := pruner.New(st, cfg, pruner.WithClock(clock.NewManual(chainEnd.Add(100*time.Second))), pruner.WithPause(0))
			if err != nil {
				t.Fatal(err)
			}
			r, err := pr.RunOnce(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatalf("writer: %v", err)
			}
			if r.PrunedHeight == 0 || r.PrunedHeight > 200 {
				t.Fatalf("report %+v", r)
			}
			h, err := st.BlockHeight(ctx)
			if err != nil || h != chainLen+100 {
				t.Fatalf("height %d, %v", h, err)
			}
			blocks, err := st.BlockRange(ctx, r.PrunedHeight, h, int(h))
			if err != nil || uint64(len(blocks)) != h-r.PrunedHeight {
				t.Fatalf("range from %d: %d blocks, %v", r.PrunedHeight, len(blocks), err)
			}
			for i := 1; i < len(blocks); i++ {
				if blocks[i].Leaf.Parent != blocks[i-1].Leaf.Commit() {
					t.Fatalf("chain broken at height %d", blocks[i].Height())
				}
			}
		})
	}
}

// The pruner keeps every block after the chain-state snapshot (so a
// restart can replay them), and prunes nothing while the store holds no
// snapshot (a restart would replay every block).
func TestSnapshotLimit(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) storage.Store
	}{
		{"mem", func(t *testing.T) storage.Store { return mem.New() }},
		{"sqlite", func(t *testing.T) storage.Store {
			st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}},
		{"postgres", func(t *testing.T) storage.Store {
			uri, schema := pgtest.Schema(t, "gospresso_test_pruner_")
			st, err := postgres.Open(t.Context(), postgres.Config{URI: uri, Schema: schema})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			st := tc.open(t)
			fillBlocks(t, st)
			var logs bytes.Buffer
			cfg := pruner.Config{
				Threshold:        1 << 62,
				MinimumRetention: 20 * time.Second,  // heights ≥ 179 are younger
				TargetRetention:  150 * time.Second, // heights < 49 are older
				BatchSize:        7,
				MaxUsage:         8000,
				Interval:         time.Hour,
			}
			run := func(cfg pruner.Config) pruner.Report {
				t.Helper()
				pr, err := pruner.New(st, cfg, pruner.WithClock(clock.NewManual(chainEnd)), pruner.WithPause(0),
					pruner.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
				if err != nil {
					t.Fatal(err)
				}
				r, err := pr.RunOnce(ctx)
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			wantFirst := func(want uint64) {
				t.Helper()
				if first, err := st.(storage.Pruner).FirstHeight(ctx); err != nil || first != want {
					t.Fatalf("FirstHeight = %d, %v; want %d", first, err, want)
				}
			}

			// No snapshot: nothing is pruned, and the run says why.
			r := run(cfg)
			if r.Blocks != 0 || r.PrunedHeight != 0 || !r.LimitedBySnapshot || r.Snapshot {
				t.Fatalf("without a snapshot: %+v", r)
			}
			if !strings.Contains(logs.String(), "no chain-state snapshot") {
				t.Errorf("without a snapshot: no warning logged:\n%s", logs.String())
			}
			wantFirst(0)

			// A snapshot at 20, below the target (49): blocks 21.. stay.
			saveSnapshot(t, st, 20)
			r = run(cfg)
			if r.PrunedHeight != 21 || !r.Snapshot || r.SnapshotHeight != 20 || !r.LimitedBySnapshot {
				t.Fatalf("snapshot at 20: %+v", r)
			}
			wantFirst(21)

			// A snapshot at 100, above the target: the target applies.
			saveSnapshot(t, st, 100)
			r = run(cfg)
			if r.PrunedHeight != 49 || r.SnapshotHeight != 100 || r.LimitedBySnapshot {
				t.Fatalf("snapshot at 100: %+v", r)
			}
			wantFirst(49)

			// Over the threshold, the threshold step stops at the snapshot
			// too (below the minimum retention's 179), and does not claim
			// to have reached the minimum retention.
			cfg.Threshold = 1
			r = run(cfg)
			if r.PrunedHeight != 101 || !r.OverThreshold || !r.LimitedBySnapshot || r.AtMinimumRetention {
				t.Fatalf("snapshot at 100, tiny threshold: %+v", r)
			}
			wantFirst(101)
			for h := uint64(101); h < chainLen; h++ {
				if _, err := st.BlockByHeight(ctx, h); err != nil {
					t.Fatalf("height %d after the snapshot: %v", h, err)
				}
			}
			// A snapshot of the last block lifts the limit.
			saveSnapshot(t, st, chainLen-1)
			if r = run(cfg); r.PrunedHeight != 179 || !r.AtMinimumRetention || r.LimitedBySnapshot {
				t.Fatalf("snapshot at the last block, tiny threshold: %+v", r)
			}
		})
	}
}
