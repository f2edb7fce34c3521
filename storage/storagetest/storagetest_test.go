package storagetest_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/mem"
	"github.com/gospresso/gospresso/storage/storagetest"
	"github.com/gospresso/gospresso/types"
)

// envMutant selects a deliberately broken store in a subprocess, to show
// that the suite and the crash harness catch the bug.
const envMutant = "GOSPRESSO_STORAGETEST_MUTANT"

func TestMain(m *testing.M) {
	storagetest.CrashChild(func(ctx context.Context, target string) (storage.Store, error) {
		return openLogStore(ctx, target, os.Getenv(envMutant) == "lossy")
	})
	os.Exit(m.Run())
}

func TestChain(t *testing.T) {
	blocks := storagetest.Chain(30, 7, 40)
	if len(blocks) != 30 {
		t.Fatalf("Chain(30) has %d blocks", len(blocks))
	}
	if got := storagetest.Chain(0, 1, 1); got != nil {
		t.Errorf("Chain(0) = %d blocks, want none", len(got))
	}
	g := &blocks[0]
	if g.Height() != 0 || g.Leaf.View != 0 || g.Payload.Size() != 0 || !g.Leaf.Parent.IsZero() || !g.QC.IsGenesis() || g.QC.Leaf != g.Leaf.Commit() {
		t.Errorf("block 0 is not a genesis block")
	}
	seen := make(map[types.Commitment]bool)
	for i := 1; i < len(blocks); i++ {
		b, p := &blocks[i], &blocks[i-1]
		if b.Height() != uint64(i) || b.Leaf.Parent != p.Leaf.Commit() || b.Leaf.JustifyQC.Leaf != p.Leaf.Commit() {
			t.Fatalf("block %d does not follow block %d", i, i-1)
		}
		wantView := p.Leaf.View + 1
		if i%4 == 0 {
			wantView++
		}
		if b.Leaf.View != wantView || b.QC.View != b.Leaf.View || b.QC.Leaf != b.Leaf.Commit() || len(b.QC.Signature) != 96 {
			t.Errorf("block %d: view %d, QC view %d; want view %d and a certificate of the leaf", i, b.Leaf.View, b.QC.View, wantView)
		}
		if b.Leaf.Header.Timestamp != p.Leaf.Header.Timestamp+1 {
			t.Errorf("block %d: timestamp %d after %d", i, b.Leaf.Header.Timestamp, p.Leaf.Header.Timestamp)
		}
		if chain.BuilderCommitment(&b.Payload) != b.Leaf.Header.BuilderCommitment || !bytes.Equal(b.Payload.NsTable.Bytes, b.Leaf.Header.NsTable.Bytes) {
			t.Errorf("block %d: header does not commit to the payload", i)
		}
		txs, err := b.Payload.Transactions()
		if err != nil || len(txs) != 7 {
			t.Fatalf("block %d: %d transactions, %v", i, len(txs), err)
		}
		entries, _ := b.Leaf.Header.NsTable.Entries(len(b.Payload.Raw))
		var ns []uint64
		for _, e := range entries {
			ns = append(ns, uint64(e.Namespace))
		}
		if !slices.Equal(ns, storagetest.Namespaces(uint64(i))) {
			t.Errorf("block %d: namespaces %v, want %v", i, ns, storagetest.Namespaces(uint64(i)))
		}
		for _, tx := range txs {
			if seen[tx.Commit()] {
				t.Errorf("block %d repeats a transaction", i)
			}
			seen[tx.Commit()] = true
		}
	}
	again := storagetest.Chain(30, 7, 40)
	if again[29].Leaf.Commit() != blocks[29].Leaf.Commit() {
		t.Error("Chain is not deterministic")
	}
	ext := storagetest.Extend(&blocks[9], 20, 7, 40)
	if ext[19].Leaf.Commit() != blocks[29].Leaf.Commit() {
		t.Error("Extend from block 9 does not rebuild the same chain")
	}
	if _, err := storagetest.NextBlock(&blocks[29], 0, []types.Transaction{{Namespace: 1 << 40}}); err == nil {
		t.Error("NextBlock accepted a namespace above 2^32-1")
	}
}

func openLog(t *testing.T) storage.Store {
	st, err := openLogStore(t.Context(), t.TempDir(), false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// The file-backed fake passes the suite, as any backend must.
func TestLogStoreConformance(t *testing.T) {
	storagetest.Run(t, openLog)
}

func TestCheckStoreAfterReopen(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	st, err := openLogStore(ctx, dir, false)
	if err != nil {
		t.Fatal(err)
	}
	blocks := storagetest.Chain(120, 5, 60)
	for i := 0; i < len(blocks); i += 7 {
		if err := st.SaveDecided(ctx, blocks[i:min(i+7, len(blocks))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.PruneBefore(ctx, 50); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveProposal(ctx, storage.StoredProposal{View: blocks[119].Leaf.View + 1, Data: []byte("next")}); err != nil {
		t.Fatal(err)
	}
	if err := storagetest.CheckStore(ctx, st); err != nil {
		t.Fatalf("CheckStore: %v", err)
	}
	st.Close()
	// Tear the last record, as a kill in the middle of a write would.
	path := filepath.Join(dir, "log")
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, info.Size()-3); err != nil {
		t.Fatal(err)
	}
	st, err = openLogStore(ctx, dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := storagetest.CheckStore(ctx, st); err != nil {
		t.Fatalf("CheckStore after reopen: %v", err)
	}
	if ps, _ := st.LoadProposals(ctx); len(ps) != 0 {
		t.Errorf("the torn proposal record survived: %d proposals", len(ps))
	}
	if n, _ := st.BlockHeight(ctx); n != 120 {
		t.Errorf("BlockHeight after reopen = %d, want 120", n)
	}
}

// CheckStore notices the inconsistencies a crash could leave.
func TestCheckStoreFindsDamage(t *testing.T) {
	ctx := t.Context()
	blocks := storagetest.Chain(12, 3, 40)
	tests := []struct {
		name string
		st   func(*mem.Store) storage.Store
		want string
	}{
		{"lost tx index", func(s *mem.Store) storage.Store { return noTxIndex{s} }, "TransactionByHash"},
		{"proposal of a decided view", func(s *mem.Store) storage.Store {
			_ = s.SaveProposal(ctx, storage.StoredProposal{View: 3, Data: []byte("old")})
			return s
		}, "is decided"},
		{"wrong count", func(s *mem.Store) storage.Store { return countOffByOne{s} }, "TransactionCount"},
		{"hole", func(s *mem.Store) storage.Store { return hole{s} }, "hole"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mem.New()
			if err := s.SaveDecided(ctx, blocks); err != nil {
				t.Fatal(err)
			}
			err := storagetest.CheckStore(ctx, tt.st(s))
			if !errors.Is(err, storagetest.ErrInconsistent) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("CheckStore = %v, want an error about %q", err, tt.want)
			}
		})
	}
	if err := storagetest.CheckStore(ctx, mem.New()); err != nil {
		t.Errorf("CheckStore(empty store) = %v", err)
	}
}

func TestCrashHarness(t *testing.T) {
	if os.Getenv(envMutant) == "" && testing.Short() {
		t.Skip("crash harness: skipped in -short mode")
	}
	storagetest.RunCrash(t, storagetest.CrashConfig{
		Target: t.TempDir(),
		Open: func(ctx context.Context, target string) (storage.Store, error) {
			return openLogStore(ctx, target, os.Getenv(envMutant) == "lossy")
		},
		Kills:             8,
		MaxDelay:          300 * time.Millisecond,
		Timeout:           2 * time.Minute,
		ChildFromTestMain: true,
	})
}

// runMutant runs the tests matching run in a subprocess with the mutant
// selected and returns the output; the subprocess must fail.
func runMutant(t *testing.T, mutant, run string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run="+run, "-test.count=1")
	cmd.Env = append(os.Environ(), envMutant+"="+mutant)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("mutant %s: the tests did not fail (err %v); output:\n%s", mutant, err, out)
	}
	return string(out)
}

func TestCrashHarnessDetectsLostWrites(t *testing.T) {
	if os.Getenv(envMutant) != "" {
		t.Skip("inside a mutant run")
	}
	if testing.Short() {
		t.Skip("crash harness: skipped in -short mode")
	}
	out := runMutant(t, "lossy", "^TestCrashHarness$")
	if !strings.Contains(out, "lost") {
		t.Errorf("the crash harness failed on a store that loses acknowledged writes, but not for that reason:\n%s", out)
	}
}

// TestMutant runs the suite over the store selected by envMutant; it only
// runs in the subprocesses of TestSuiteCatchesMutants.
func TestMutant(t *testing.T) {
	name := os.Getenv(envMutant)
	if name == "" || name == "lossy" {
		t.Skip("runs only as a mutant subprocess")
	}
	wrap, ok := mutants[name]
	if !ok {
		t.Fatalf("unknown mutant %q", name)
	}
	storagetest.Run(t, func(t *testing.T) storage.Store { return wrap(mem.New()) })
}

func TestSuiteCatchesMutants(t *testing.T) {
	if os.Getenv(envMutant) != "" {
		t.Skip("inside a mutant run")
	}
	cases := []struct{ mutant, subtest string }{
		{"proposals-kept", "ProposalsDroppedByDecide"},
		{"window-next", "HeaderWindow"},
		{"ignores-ctx", "Canceled"},
		{"ignores-closed", "Closed"},
		{"non-atomic", "SaveDecidedAtomic"},
		{"range-no-limit", "BlockRange"},
		{"ns-from-zero", "NamespaceHeights"},
		{"count-inclusive", "Sums"},
		{"latest-tx", "Transactions"},
		{"no-gap-check", "SaveDecidedGap"},
		{"not-found-for-pruned", "Pruner/PruneBefore"},
		{"accepts-conflict", "SaveDecidedConflict"},
		{"no-tx-index", "Transactions"},
		{"state-moves-back", "StateSnapshots"},
		{"state-aliased", "StateSnapshots"},
	}
	for _, c := range cases {
		t.Run(c.mutant, func(t *testing.T) {
			parts := strings.Split(c.subtest, "/")
			run := "^TestMutant$/^" + strings.Join(parts, "$/^") + "$"
			out := runMutant(t, c.mutant, run)
			if !strings.Contains(out, "--- FAIL: TestMutant/"+c.subtest) {
				t.Errorf("mutant %s: subtest %s did not fail; output:\n%s", c.mutant, c.subtest, out)
			}
		})
	}
}

// ---- mutants: plausible backend bugs the suite must catch ----

var mutants = map[string]func(*mem.Store) storage.Store{
	"proposals-kept":       func(s *mem.Store) storage.Store { return proposalsKept{Store: s} },
	"window-next":          func(s *mem.Store) storage.Store { return windowNext{s} },
	"ignores-ctx":          func(s *mem.Store) storage.Store { return ignoresCtx{s} },
	"ignores-closed":       func(s *mem.Store) storage.Store { return &ignoresClosed{Store: s} },
	"non-atomic":           func(s *mem.Store) storage.Store { return nonAtomic{s} },
	"range-no-limit":       func(s *mem.Store) storage.Store { return rangeNoLimit{s} },
	"ns-from-zero":         func(s *mem.Store) storage.Store { return nsFromZero{s} },
	"count-inclusive":      func(s *mem.Store) storage.Store { return countOffByOne{s} },
	"latest-tx":            func(s *mem.Store) storage.Store { return latestTx{s} },
	"no-gap-check":         func(s *mem.Store) storage.Store { return noGapCheck{s} },
	"not-found-for-pruned": func(s *mem.Store) storage.Store { return notFoundForPruned{s} },
	"accepts-conflict":     func(s *mem.Store) storage.Store { return acceptsConflict{s} },
	"no-tx-index":          func(s *mem.Store) storage.Store { return noTxIndex{s} },
	"state-moves-back":     func(s *mem.Store) storage.Store { return &fakeState{Store: s, movesBack: true} },
	"state-aliased":        func(s *mem.Store) storage.Store { return &fakeState{Store: s, aliased: true} },
}

// proposalsKept does not drop proposals when blocks are decided.
type proposalsKept struct{ *mem.Store }

func (s proposalsKept) SaveDecided(ctx context.Context, blocks []types.Block) error {
	ps, err := s.Store.LoadProposals(ctx)
	if err != nil {
		return err
	}
	if err := s.Store.SaveDecided(ctx, blocks); err != nil {
		return err
	}
	for _, p := range ps {
		_ = s.Store.SaveProposal(ctx, p)
	}
	return nil
}

// windowNext reports Next even when the limit cut the window.
type windowNext struct{ *mem.Store }

func (s windowNext) HeaderWindow(ctx context.Context, start, end uint64, limit int) (storage.HeaderWindow, error) {
	w, err := s.Store.HeaderWindow(ctx, start, end, limit)
	if err != nil || w.Next != nil {
		return w, err
	}
	all, err := s.Store.HeaderWindow(ctx, start, end, 1<<30)
	if err == nil && len(all.Window) > len(w.Window) {
		w.Next = &all.Window[len(w.Window)]
	}
	return w, err
}

// ignoresCtx loads the safety state even with a cancelled context.
type ignoresCtx struct{ *mem.Store }

func (s ignoresCtx) LoadSafety(context.Context) (types.SafetyState, error) {
	return s.Store.LoadSafety(context.Background())
}

// ignoresClosed keeps serving lookups by height after Close.
type ignoresClosed struct {
	*mem.Store
	closed bool
}

func (s *ignoresClosed) Close() error { s.closed = true; return nil }

func (s *ignoresClosed) SaveProposal(ctx context.Context, p storage.StoredProposal) error {
	if s.closed {
		return storage.ErrClosed
	}
	return s.Store.SaveProposal(ctx, p)
}

// nonAtomic stores the good prefix of a batch that fails.
type nonAtomic struct{ *mem.Store }

func (s nonAtomic) SaveDecided(ctx context.Context, blocks []types.Block) error {
	err := s.Store.SaveDecided(ctx, blocks)
	if err != nil {
		for i := range blocks {
			if s.Store.SaveDecided(ctx, blocks[i:i+1]) != nil {
				break
			}
		}
	}
	return err
}

// rangeNoLimit ignores the limit of BlockRange.
type rangeNoLimit struct{ *mem.Store }

func (s rangeNoLimit) BlockRange(ctx context.Context, from, until uint64, _ int) ([]types.Block, error) {
	return s.Store.BlockRange(ctx, from, until, 1<<30)
}

// nsFromZero ignores from in NamespaceHeights.
type nsFromZero struct{ *mem.Store }

func (s nsFromZero) NamespaceHeights(ctx context.Context, ns, _ uint64, limit int) ([]uint64, error) {
	return s.Store.NamespaceHeights(ctx, ns, 0, limit)
}

// countOffByOne counts [from, until] instead of [from, until).
type countOffByOne struct{ *mem.Store }

func (s countOffByOne) TransactionCount(ctx context.Context, from, until uint64) (uint64, error) {
	return s.Store.TransactionCount(ctx, from, until+1)
}

// latestTx reports the latest inclusion of a transaction.
type latestTx struct{ *mem.Store }

func (s latestTx) TransactionByHash(ctx context.Context, c types.Commitment) (storage.TxLocation, error) {
	loc, err := s.Store.TransactionByHash(ctx, c)
	if err != nil {
		return loc, err
	}
	n, _ := s.Store.BlockHeight(ctx)
	for h := n; h > loc.Height; h-- {
		b, err := s.Store.BlockByHeight(ctx, h-1)
		if err != nil {
			continue
		}
		txs, _ := b.Payload.Transactions()
		for i := len(txs) - 1; i >= 0; i-- {
			if txs[i].Commit() == c {
				return storage.TxLocation{Height: h - 1, Index: uint64(i)}, nil
			}
		}
	}
	return loc, nil
}

// noGapCheck silently drops a batch that would leave a gap.
type noGapCheck struct{ *mem.Store }

func (s noGapCheck) SaveDecided(ctx context.Context, blocks []types.Block) error {
	n, err := s.Store.BlockHeight(ctx)
	if err != nil {
		return err
	}
	if len(blocks) > 0 && blocks[0].Height() > n {
		return nil
	}
	return s.Store.SaveDecided(ctx, blocks)
}

// notFoundForPruned reports pruned heights as missing.
type notFoundForPruned struct{ *mem.Store }

func (s notFoundForPruned) BlockByHeight(ctx context.Context, h uint64) (types.Block, error) {
	b, err := s.Store.BlockByHeight(ctx, h)
	if errors.Is(err, storage.ErrPruned) {
		return b, storage.ErrNotFound
	}
	return b, err
}

// acceptsConflict ignores a batch conflicting with stored blocks.
type acceptsConflict struct{ *mem.Store }

func (s acceptsConflict) SaveDecided(ctx context.Context, blocks []types.Block) error {
	err := s.Store.SaveDecided(ctx, blocks)
	if errors.Is(err, storage.ErrConflict) && len(blocks) == 1 {
		return nil
	}
	return err
}

// noTxIndex loses the transaction index.
type noTxIndex struct{ *mem.Store }

func (s noTxIndex) TransactionByHash(context.Context, types.Commitment) (storage.TxLocation, error) {
	return storage.TxLocation{}, storage.ErrNotFound
}

// hole hides a block in the middle of the chain from ranges.
type hole struct{ *mem.Store }

func (s hole) BlockRange(ctx context.Context, from, until uint64, limit int) ([]types.Block, error) {
	return s.Store.BlockRange(ctx, from, min(until, 5), limit)
}

// fakeState keeps the snapshot itself, with one of two bugs: movesBack
// lets a lower height replace it, aliased keeps the caller's bytes.
type fakeState struct {
	*mem.Store
	movesBack, aliased bool

	mu     sync.Mutex
	height uint64
	data   []byte
	saved  bool
}

// checkOpen returns the error the store gives for ctx (cancelled, closed).
func (s *fakeState) checkOpen(ctx context.Context) error {
	if _, err := s.Store.BlockHeight(ctx); err != nil {
		return err
	}
	return nil
}

func (s *fakeState) SaveState(ctx context.Context, h uint64, data []byte) error {
	if err := s.checkOpen(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.saved && h < s.height && !s.movesBack {
		return nil
	}
	if !s.aliased {
		data = bytes.Clone(data)
	}
	s.height, s.data, s.saved = h, data, true
	return nil
}

func (s *fakeState) LoadState(ctx context.Context) (uint64, []byte, error) {
	if err := s.checkOpen(ctx); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.saved {
		return 0, nil, storage.ErrNotFound
	}
	if s.aliased {
		return s.height, s.data, nil
	}
	return s.height, bytes.Clone(s.data), nil
}

// The file-backed fake keeps its snapshot across a reopen.
func TestLogStoreStateReopen(t *testing.T) {
	dir := t.TempDir()
	storagetest.RunStateReopen(t, func(ctx context.Context) (storage.Store, error) {
		return openLogStore(ctx, dir, false)
	})
}
