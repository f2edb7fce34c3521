package fs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/mem"
	"github.com/gospresso/gospresso/storage/storagetest"
	"github.com/gospresso/gospresso/types"
)

// lockChildEnv makes the test binary a child that tries to open the store
// named by its value and reports the outcome by exit code.
const lockChildEnv = "GOSPRESSO_FS_LOCK_CHILD"

// Exit codes of the lock child.
const (
	childLocked = 10
	childOpened = 11
	childFailed = 12
)

// lockChild is run by TestMain in the child process.
func lockChild(dir string) int {
	st, err := Open(context.Background(), dir)
	switch {
	case errors.Is(err, storage.ErrLocked):
		return childLocked
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		return childFailed
	}
	st.Close()
	return childOpened
}

// openT opens a store under dir and closes it when the test ends.
func openT(t testing.TB, dir string, opts ...Option) *Store {
	t.Helper()
	st, err := Open(t.Context(), dir, opts...)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// reopen closes st and opens its directory again.
func reopen(t testing.TB, st *Store, opts ...Option) *Store {
	t.Helper()
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return openT(t, st.dir, opts...)
}

// saveAll saves blocks in calls of batch blocks each.
func saveAll(t testing.TB, st storage.Store, blocks []types.Block, batch int) {
	t.Helper()
	for i := 0; i < len(blocks); i += batch {
		if err := st.SaveDecided(t.Context(), blocks[i:min(i+batch, len(blocks))]); err != nil {
			t.Fatalf("SaveDecided(%d..): %v", blocks[i].Height(), err)
		}
	}
}

// sameBlock reports why a and b differ, or "".
func sameBlock(a, b types.Block) string {
	switch {
	case a.Leaf.Commit() != b.Leaf.Commit():
		return "leaf commitment"
	case !reflect.DeepEqual(a.Leaf, b.Leaf):
		return "leaf fields"
	case !bytes.Equal(a.Payload.Raw, b.Payload.Raw):
		return "payload bytes"
	case !bytes.Equal(a.Payload.NsTable.Bytes, b.Payload.NsTable.Bytes):
		return "payload namespace table"
	case a.QC.Commit() != b.QC.Commit():
		return "certificate"
	}
	return ""
}

// compareWithMem checks every read of st against the in-memory reference
// holding the same blocks.
func compareWithMem(t *testing.T, st storage.Store, blocks []types.Block) {
	t.Helper()
	ctx := t.Context()
	ref := mem.New()
	if len(blocks) > 0 {
		if err := ref.SaveDecided(ctx, blocks); err != nil {
			t.Fatal(err)
		}
	}
	type result struct {
		v   any
		err error
	}
	errKind := func(err error) string {
		switch {
		case err == nil:
			return "ok"
		case errors.Is(err, storage.ErrNotFound):
			return "not found"
		case errors.Is(err, storage.ErrPruned):
			return "pruned"
		}
		return "error: " + err.Error()
	}
	check := func(what string, got, want result) {
		t.Helper()
		if errKind(got.err) != errKind(want.err) {
			t.Errorf("%s: error %v, reference %v", what, got.err, want.err)
			return
		}
		if got.err != nil {
			return
		}
		if gb, ok := got.v.(types.Block); ok {
			if d := sameBlock(gb, want.v.(types.Block)); d != "" {
				t.Errorf("%s: block differs from the reference in its %s", what, d)
			}
			return
		}
		if !reflect.DeepEqual(got.v, want.v) {
			t.Errorf("%s: got %v, reference %v", what, got.v, want.v)
		}
	}
	blockR := func(b types.Block, err error) result { return result{b, err} }
	n := uint64(len(blocks))
	gotH, err1 := st.BlockHeight(ctx)
	wantH, err2 := ref.BlockHeight(ctx)
	check("BlockHeight", result{gotH, err1}, result{wantH, err2})
	check("LastDecided", blockR(st.LastDecided(ctx)), blockR(ref.LastDecided(ctx)))
	for h := uint64(0); h <= n; h++ {
		check(fmt.Sprintf("BlockByHeight(%d)", h), blockR(st.BlockByHeight(ctx, h)), blockR(ref.BlockByHeight(ctx, h)))
	}
	var missing types.Commitment
	missing[0] = 0xee
	keys := []types.Commitment{missing}
	for i := range blocks {
		b := &blocks[i]
		keys = append(keys, b.Leaf.Commit(), b.Leaf.Header.Commit(), b.Leaf.Header.PayloadCommitment)
		if txs, err := b.Payload.Transactions(); err == nil {
			for _, tx := range txs {
				keys = append(keys, tx.Commit())
			}
		}
	}
	for _, k := range keys {
		check("BlockByLeaf("+k.Short()+")", blockR(st.BlockByLeaf(ctx, k)), blockR(ref.BlockByLeaf(ctx, k)))
		check("BlockByHash("+k.Short()+")", blockR(st.BlockByHash(ctx, k)), blockR(ref.BlockByHash(ctx, k)))
		check("BlockByPayloadHash("+k.Short()+")", blockR(st.BlockByPayloadHash(ctx, k)), blockR(ref.BlockByPayloadHash(ctx, k)))
		l1, e1 := st.TransactionByHash(ctx, k)
		l2, e2 := ref.TransactionByHash(ctx, k)
		check("TransactionByHash("+k.Short()+")", result{l1, e1}, result{l2, e2})
	}
	for h := uint64(0); h <= n; h++ {
		for i := uint64(0); i < 12; i++ {
			t1, e1 := st.TransactionAt(ctx, h, i)
			t2, e2 := ref.TransactionAt(ctx, h, i)
			check(fmt.Sprintf("TransactionAt(%d, %d)", h, i), result{t1, e1}, result{t2, e2})
		}
	}
	for _, ns := range []uint64{storagetest.NamespaceA, storagetest.NamespaceB, storagetest.NamespaceC, 7, 1 << 40} {
		for _, from := range []uint64{0, 1, 3, n / 2, n, n + 5} {
			for _, limit := range []int{-1, 0, 1, 2, 5, 1000} {
				h1, e1 := st.NamespaceHeights(ctx, ns, from, limit)
				h2, e2 := ref.NamespaceHeights(ctx, ns, from, limit)
				check(fmt.Sprintf("NamespaceHeights(%d, %d, %d)", ns, from, limit), result{h1, e1}, result{h2, e2})
			}
		}
	}
	bounds := []uint64{0, 1, 2, n / 3, n / 2, n - 1, n, n + 3}
	for _, from := range bounds {
		for _, until := range bounds {
			c1, e1 := st.TransactionCount(ctx, from, until)
			c2, e2 := ref.TransactionCount(ctx, from, until)
			check(fmt.Sprintf("TransactionCount(%d, %d)", from, until), result{c1, e1}, result{c2, e2})
			p1, e1 := st.PayloadBytes(ctx, from, until)
			p2, e2 := ref.PayloadBytes(ctx, from, until)
			check(fmt.Sprintf("PayloadBytes(%d, %d)", from, until), result{p1, e1}, result{p2, e2})
			for _, limit := range []int{0, 1, 3, 1000} {
				r1, e1 := st.BlockRange(ctx, from, until, limit)
				r2, e2 := ref.BlockRange(ctx, from, until, limit)
				what := fmt.Sprintf("BlockRange(%d, %d, %d)", from, until, limit)
				if errKind(e1) != errKind(e2) || len(r1) != len(r2) {
					t.Errorf("%s: %d blocks (%v), reference %d (%v)", what, len(r1), e1, len(r2), e2)
					continue
				}
				for i := range r1 {
					if d := sameBlock(r1[i], r2[i]); d != "" {
						t.Errorf("%s: block %d differs in its %s", what, i, d)
					}
				}
			}
		}
	}
	ts := []uint64{0, storagetest.GenesisTime - 1, storagetest.GenesisTime, storagetest.GenesisTime + 1,
		storagetest.GenesisTime + n/2, storagetest.GenesisTime + n - 1, storagetest.GenesisTime + n, storagetest.GenesisTime + n + 10}
	for _, start := range ts {
		for _, end := range ts {
			for _, limit := range []int{0, 1, 2, 1000} {
				w1, e1 := st.HeaderWindow(ctx, start, end, limit)
				w2, e2 := ref.HeaderWindow(ctx, start, end, limit)
				check(fmt.Sprintf("HeaderWindow(%d, %d, %d)", start, end, limit), result{w1, e1}, result{w2, e2})
			}
		}
	}
}

func TestMatchesMemory(t *testing.T) {
	blocks := storagetest.Chain(40, 7, 64)
	for _, tc := range []struct {
		name    string
		batch   int
		segment int64
	}{
		{"one block per call", 1, DefaultSegmentSize},
		{"batches of 7", 7, DefaultSegmentSize},
		{"one call", len(blocks), DefaultSegmentSize},
		{"small segments", 3, MinSegmentSize},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := openT(t, t.TempDir(), WithSegmentSize(tc.segment))
			compareWithMem(t, st, nil)
			saveAll(t, st, blocks, tc.batch)
			compareWithMem(t, st, blocks)
			st = reopen(t, st, WithSegmentSize(tc.segment))
			compareWithMem(t, st, blocks)
		})
	}
}

func TestSegmentRollover(t *testing.T) {
	blocks := storagetest.Chain(30, 4, 300)
	st := openT(t, t.TempDir(), WithSegmentSize(MinSegmentSize))
	saveAll(t, st, blocks, 2)
	sizes, err := listSegments(filepath.Join(st.dir, dataDir))
	if err != nil {
		t.Fatal(err)
	}
	if len(sizes) < 5 {
		t.Fatalf("%d segments for 30 blocks of ~1.3 KB with 1 KiB segments, want many", len(sizes))
	}
	st = reopen(t, st, WithSegmentSize(MinSegmentSize))
	got, err := st.BlockRange(t.Context(), 0, 100, 100)
	if err != nil || len(got) != len(blocks) {
		t.Fatalf("BlockRange across segments: %d blocks, %v", len(got), err)
	}
	// A larger segment size on reopen keeps appending to the last segment.
	st = reopen(t, st)
	more := storagetest.Extend(&blocks[len(blocks)-1], 5, 4, 300)
	saveAll(t, st, more, 5)
	compareWithMem(t, st, append(slices.Clone(blocks), more...))
}

func TestOptions(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		dir  string
		opts []Option
		want string
	}{
		{"empty dir", "", nil, "dir: empty path"},
		{"nil option", dir, []Option{nil}, "option 0 is nil"},
		{"zero retention", dir, []Option{WithViewRetention(0)}, "view retention: 0"},
		{"retention twice", dir, []Option{WithViewRetention(5), WithViewRetention(6)}, "view retention given twice"},
		{"tiny segments", dir, []Option{WithSegmentSize(100)}, "segment size: 100 bytes"},
		{"segments twice", dir, []Option{WithSegmentSize(1 << 20), WithSegmentSize(1 << 20)}, "segment size given twice"},
		{"nil logger", dir, []Option{WithLogger(nil)}, "logger: nil"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := Open(t.Context(), tc.dir, tc.opts...)
			if err == nil {
				st.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, ErrInvalidOption) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open: %v, want ErrInvalidOption mentioning %q", err, tc.want)
			}
		})
	}
}

func TestLock(t *testing.T) {
	dir := t.TempDir()
	st := openT(t, dir)
	if _, err := Open(t.Context(), dir); !errors.Is(err, storage.ErrLocked) {
		t.Fatalf("second Open in the same process: %v, want ErrLocked", err)
	}
	runChild := func() int {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), lockChildEnv+"="+dir)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		return 0
	}
	if code := runChild(); code != childLocked {
		t.Fatalf("Open from another process while open: exit %d, want %d (locked)", code, childLocked)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if code := runChild(); code != childOpened {
		t.Fatalf("Open from another process after Close: exit %d, want %d (opened)", code, childOpened)
	}
	openT(t, dir)
}

func TestClosed(t *testing.T) {
	st := openT(t, t.TempDir())
	blocks := storagetest.Chain(3, 2, 32)
	saveAll(t, st, blocks, 3)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	ctx := t.Context()
	calls := map[string]error{}
	_, calls["LoadSafety"] = st.LoadSafety(ctx)
	calls["SaveSafety"] = st.SaveSafety(ctx, types.SafetyState{View: 1})
	calls["SaveProposal"] = st.SaveProposal(ctx, storage.StoredProposal{View: 9, Data: []byte("x")})
	_, calls["LoadProposals"] = st.LoadProposals(ctx)
	calls["SaveDecided"] = st.SaveDecided(ctx, blocks)
	_, calls["LastDecided"] = st.LastDecided(ctx)
	_, calls["BlockByHeight"] = st.BlockByHeight(ctx, 0)
	_, calls["BlockByLeaf"] = st.BlockByLeaf(ctx, blocks[0].Leaf.Commit())
	_, calls["BlockByHash"] = st.BlockByHash(ctx, blocks[0].Leaf.Header.Commit())
	_, calls["TransactionByHash"] = st.TransactionByHash(ctx, types.Commitment{})
	_, calls["BlockHeight"] = st.BlockHeight(ctx)
	_, calls["BlockRange"] = st.BlockRange(ctx, 0, 3, 3)
	_, calls["BlockByPayloadHash"] = st.BlockByPayloadHash(ctx, types.Commitment{})
	_, calls["TransactionAt"] = st.TransactionAt(ctx, 1, 0)
	_, calls["NamespaceHeights"] = st.NamespaceHeights(ctx, storagetest.NamespaceA, 0, 5)
	_, calls["TransactionCount"] = st.TransactionCount(ctx, 0, 3)
	_, calls["PayloadBytes"] = st.PayloadBytes(ctx, 0, 3)
	_, calls["HeaderWindow"] = st.HeaderWindow(ctx, 0, 1<<62, 5)
	for name, err := range calls {
		if !errors.Is(err, storage.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}

func TestCanceledContext(t *testing.T) {
	st := openT(t, t.TempDir())
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	blocks := storagetest.Chain(2, 1, 32)
	if err := st.SaveDecided(ctx, blocks); !errors.Is(err, context.Canceled) {
		t.Fatalf("SaveDecided with a canceled context: %v", err)
	}
	if err := st.SaveSafety(ctx, types.SafetyState{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("SaveSafety with a canceled context: %v", err)
	}
	if _, err := st.BlockRange(ctx, 0, 2, 2); !errors.Is(err, context.Canceled) {
		t.Fatalf("BlockRange with a canceled context: %v", err)
	}
	if _, err := Open(ctx, t.TempDir()); !errors.Is(err, context.Canceled) {
		t.Fatalf("Open with a canceled context: %v", err)
	}
	if h, err := st.BlockHeight(t.Context()); err != nil || h != 0 {
		t.Fatalf("BlockHeight after canceled writes: %d, %v; want 0", h, err)
	}
}

func TestConflicts(t *testing.T) {
	st := openT(t, t.TempDir())
	blocks := storagetest.Chain(10, 2, 32)
	saveAll(t, st, blocks[:6], 3)
	other := storagetest.Extend(&blocks[3], 3, 5, 40) // heights 4..6, different content
	tests := []struct {
		name   string
		blocks []types.Block
	}{
		{"different block at a stored height", other[:1]},
		{"stored prefix then a different block", append(slices.Clone(blocks[4:5]), other[1])},
		{"gap", blocks[7:9]},
		{"non-consecutive heights", []types.Block{blocks[6], blocks[8]}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := st.SaveDecided(t.Context(), tc.blocks); !errors.Is(err, storage.ErrConflict) {
				t.Fatalf("SaveDecided: %v, want ErrConflict", err)
			}
			compareWithMem(t, st, blocks[:6])
		})
	}
	// Re-saving stored blocks, alone or before new ones, is accepted.
	saveAll(t, st, blocks[2:6], 4)
	saveAll(t, st, blocks[4:10], 6)
	st = reopen(t, st)
	compareWithMem(t, st, blocks)
}

func TestFirstBlockIsGenesis(t *testing.T) {
	blocks := storagetest.Chain(12, 2, 32)
	st := openT(t, t.TempDir())
	if err := st.SaveDecided(t.Context(), blocks[5:]); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("a first block of height 5: %v, want ErrConflict", err)
	}
	compareWithMem(t, st, nil)
	saveAll(t, st, blocks, 12)
	compareWithMem(t, st, blocks)
}

func TestSafety(t *testing.T) {
	st := openT(t, t.TempDir())
	ctx := t.Context()
	if _, err := st.LoadSafety(ctx); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("LoadSafety on a new store: %v, want ErrNotFound", err)
	}
	blocks := storagetest.Chain(3, 1, 32)
	for v := range 3 {
		s := types.SafetyState{View: types.ViewNumber(10 + v), LastVotedView: types.ViewNumber(9 + v), HighQC: blocks[v].QC}
		if err := st.SaveSafety(ctx, s); err != nil {
			t.Fatal(err)
		}
		st = reopen(t, st)
		got, err := st.LoadSafety(ctx)
		if err != nil || !reflect.DeepEqual(got, s) {
			t.Fatalf("after reopen: %+v, %v; want %+v", got, err, s)
		}
	}
	// A damaged safety file is reported, not ignored (it guards double votes).
	dir := st.dir
	st.Close()
	p := filepath.Join(dir, safetyName)
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 0x40
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, dir); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open with a damaged safety file: %v, want ErrCorrupt", err)
	}
	// A leftover temporary file from a crash is removed.
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p+swpSuffix, []byte("half a"), 0o644); err != nil {
		t.Fatal(err)
	}
	st = openT(t, dir)
	if _, err := st.LoadSafety(ctx); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("LoadSafety: %v, want ErrNotFound", err)
	}
	if _, err := os.Stat(p + swpSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("leftover %s not removed: %v", swpSuffix, err)
	}
}

func TestProposals(t *testing.T) {
	st := openT(t, t.TempDir())
	ctx := t.Context()
	props := []storage.StoredProposal{
		{View: 7, Data: []byte("seven")},
		{View: 3, Data: []byte("three")},
		{View: 5, Data: []byte("five a")},
		{View: 5, Data: []byte("five b")},
		{View: 5, Data: []byte("five a")}, // identical: kept once
		{View: 9, Data: nil},
		{View: 12, Data: []byte("twelve")},
	}
	for _, p := range props {
		if err := st.SaveProposal(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	want := []storage.StoredProposal{
		{View: 3, Data: []byte("three")},
		{View: 5, Data: []byte("five a")},
		{View: 5, Data: []byte("five b")},
		{View: 7, Data: []byte("seven")},
		{View: 9},
		{View: 12, Data: []byte("twelve")},
	}
	load := func(want []storage.StoredProposal) {
		t.Helper()
		got, err := st.LoadProposals(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("LoadProposals:\n got %q\nwant %q", got, want)
		}
	}
	load(want)
	st = reopen(t, st)
	load(want)

	// Deciding a block of view 7 drops the proposals of views up to 7.
	blocks := storagetest.Chain(6, 1, 32) // views 0,1,2,3,5,6
	chainTo7 := append(slices.Clone(blocks), storagetest.Extend(&blocks[5], 1, 1, 32)...)
	if v := chainTo7[len(chainTo7)-1].Leaf.View; v != 7 {
		t.Fatalf("test chain ends at view %d, want 7", v)
	}
	saveAll(t, st, chainTo7, len(chainTo7))
	load(want[4:])
	files, _ := os.ReadDir(filepath.Join(st.dir, proposalsDir))
	if len(files) != 2 {
		t.Fatalf("%d proposal files after the decide, want 2", len(files))
	}
	st = reopen(t, st)
	load(want[4:])

	// A crash after the commit but before the files were removed: Open
	// removes proposals of decided views, and leftover temporary files.
	pdir := filepath.Join(st.dir, proposalsDir)
	st.Close()
	for name, data := range map[string][]byte{
		"6-0.txt":       encodeProposalFile([]byte("decided")),
		"7-3.txt":       encodeProposalFile([]byte("decided")),
		"13-0.txt.swp":  []byte("torn"),
		"not-a-file.md": []byte("kept"),
	} {
		if err := os.WriteFile(filepath.Join(pdir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	st = openT(t, st.dir)
	load(want[4:])
	for _, name := range []string{"6-0.txt", "7-3.txt", "13-0.txt.swp"} {
		if _, err := os.Stat(filepath.Join(pdir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s not removed at Open: %v", name, err)
		}
	}

	// A damaged proposal file is reported.
	st.Close()
	if err := os.WriteFile(filepath.Join(pdir, "20-0.txt"), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, st.dir); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open with a damaged proposal: %v, want ErrCorrupt", err)
	}
}

func TestViewRetention(t *testing.T) {
	blocks := storagetest.Chain(30, 1, 32)
	last := uint64(blocks[len(blocks)-1].Leaf.View)
	tests := []struct {
		retention uint64
		view      uint64
		kept      bool
	}{
		{10, last - 10, true},
		{10, last - 11, false},
		{10, last + 1, true},
		{1000, 1, true},
		{DefaultViewRetention, 0, true},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("retention %d view %d", tc.retention, tc.view), func(t *testing.T) {
			st := openT(t, t.TempDir(), WithViewRetention(tc.retention))
			saveAll(t, st, blocks, 10)
			if err := st.SaveProposal(t.Context(), storage.StoredProposal{View: types.ViewNumber(tc.view), Data: []byte("p")}); err != nil {
				t.Fatal(err)
			}
			got, err := st.LoadProposals(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if (len(got) == 1) != tc.kept {
				t.Fatalf("last decided view %d: proposal kept = %v, want %v", last, len(got) == 1, tc.kept)
			}
		})
	}
}

func TestPruningUnsupported(t *testing.T) {
	if !errors.Is(ErrPruningUnsupported, storage.ErrNotSupported) {
		t.Fatal("ErrPruningUnsupported does not wrap storage.ErrNotSupported")
	}
	var st storage.Store = openT(t, t.TempDir())
	if _, ok := st.(storage.Pruner); ok {
		t.Fatal("the file-system store implements storage.Pruner")
	}
}

func TestConcurrentReaders(t *testing.T) {
	blocks := storagetest.Chain(60, 5, 100)
	st := openT(t, t.TempDir(), WithSegmentSize(8<<10))
	saveAll(t, st, blocks[:1], 1)
	var wg sync.WaitGroup
	done := make(chan struct{})
	ctx := t.Context()
	for r := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				h, err := st.BlockHeight(ctx)
				if err != nil || h == 0 {
					t.Errorf("reader %d: BlockHeight %d, %v", r, h, err)
					return
				}
				b, err := st.BlockByHeight(ctx, uint64(i)%h)
				if err != nil {
					t.Errorf("reader %d: BlockByHeight: %v", r, err)
					return
				}
				if d := sameBlock(b, blocks[b.Height()]); d != "" {
					t.Errorf("reader %d: block %d differs in its %s", r, b.Height(), d)
					return
				}
				if _, err := st.BlockRange(ctx, 0, h, int(h)); err != nil {
					t.Errorf("reader %d: BlockRange: %v", r, err)
					return
				}
				if _, err := st.HeaderWindow(ctx, 0, 1<<62, 10); err != nil {
					t.Errorf("reader %d: HeaderWindow: %v", r, err)
					return
				}
			}
		})
	}
	for i := 1; i < len(blocks); i += 3 {
		saveAll(t, st, blocks[i:min(i+3, len(blocks))], 3)
		if err := st.SaveProposal(ctx, storage.StoredProposal{View: blocks[i].Leaf.View + 10, Data: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	compareWithMem(t, st, blocks)
}
