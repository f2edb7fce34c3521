package fs

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/storagetest"
	"github.com/gospresso/gospresso/types"
)

// logBuffer returns a logger writing to a buffer, to check recovery
// warnings.
func logBuffer() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&buf, nil)), &buf
}

// storeWith returns a closed store directory holding blocks saved in
// calls of batch blocks.
func storeWith(t *testing.T, blocks []types.Block, batch int, opts ...Option) string {
	t.Helper()
	dir := t.TempDir()
	st, err := Open(t.Context(), dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	saveAll(t, st, blocks, batch)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// checkConsistent runs the harness's consistency check on st.
func checkConsistent(t *testing.T, st storage.Store) {
	t.Helper()
	if err := storagetest.CheckStore(t.Context(), st); err != nil {
		t.Fatal(err)
	}
}

func appendFile(t *testing.T, path string, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestTornIndexTail covers what a crash during the index append leaves.
func TestTornIndexTail(t *testing.T) {
	blocks := storagetest.Chain(12, 3, 50)
	frame := appendFrame(nil, encodeIndexBatch([]indexEntry{{height: 12, seg: 1, off: 1, leafLen: 20, payLen: 20}}))
	tests := []struct {
		name string
		tail []byte
	}{
		{"header cut short", []byte{0, 0, 1}},
		{"body cut short", frame[:len(frame)-3]},
		{"zero bytes", make([]byte, 300)},
		{"complete frame with a bad checksum", append(frame[:len(frame)-1:len(frame)-1], frame[len(frame)-1]^1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := storeWith(t, blocks, 4)
			index := filepath.Join(dir, dataDir, indexName)
			good := fileSize(t, index)
			appendFile(t, index, tc.tail)
			log, buf := logBuffer()
			st := openT(t, dir, WithLogger(log))
			if !strings.Contains(buf.String(), "torn tail") {
				t.Errorf("no torn-tail warning logged: %q", buf.String())
			}
			if got := fileSize(t, index); got != good {
				t.Errorf("index is %d bytes after Open, want %d (torn tail truncated)", got, good)
			}
			checkConsistent(t, st)
			compareWithMem(t, st, blocks)
			more := storagetest.Extend(&blocks[len(blocks)-1], 3, 3, 50)
			saveAll(t, st, more, 3)
			st = reopen(t, st)
			compareWithMem(t, st, append(blocks, more...))
		})
	}
}

// TestUncommittedData covers a crash after the segment write but before
// the index frame: the data past the committed end is dropped, including
// a segment that was started for it.
func TestUncommittedData(t *testing.T) {
	blocks := storagetest.Chain(10, 3, 50)
	dir := storeWith(t, blocks, 5)
	data := filepath.Join(dir, dataDir)
	seg1 := filepath.Join(data, segmentName(1))
	good := fileSize(t, seg1)
	appendFile(t, seg1, bytes.Repeat([]byte{0xab}, 5000))
	appendFile(t, filepath.Join(data, segmentName(2)), []byte("a new segment that was never committed"))
	st := openT(t, dir)
	checkConsistent(t, st)
	if got := fileSize(t, seg1); got != good {
		t.Errorf("segment is %d bytes after Open, want %d", got, good)
	}
	if _, err := os.Stat(filepath.Join(data, segmentName(2))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("uncommitted segment 2 not removed: %v", err)
	}
	compareWithMem(t, st, blocks)
}

// TestTruncatedSegment cuts the last segment by hand, into committed
// blocks: the calls whose blocks were cut are dropped, the rest stays.
func TestTruncatedSegment(t *testing.T) {
	blocks := storagetest.Chain(20, 3, 50)
	tests := []struct {
		name    string
		batch   int
		cut     func(size int64, e []indexEntry) int64
		wantLen int
	}{
		{"inside the last payload", 1, func(size int64, e []indexEntry) int64 { return size - 10 }, 19},
		{"at the last block's start", 1, func(size int64, e []indexEntry) int64 { return int64(e[19].off) }, 19},
		{"into the last three blocks", 1, func(size int64, e []indexEntry) int64 { return int64(e[17].off) + 5 }, 17},
		{"a batch of five loses all five", 5, func(size int64, e []indexEntry) int64 { return size - 1 }, 15},
		{"to zero", 4, func(size int64, e []indexEntry) int64 { return 0 }, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := storeWith(t, blocks, tc.batch)
			seg := filepath.Join(dir, dataDir, segmentName(1))
			entries := loadEntries(t, dir)
			if err := os.Truncate(seg, tc.cut(fileSize(t, seg), entries)); err != nil {
				t.Fatal(err)
			}
			log, buf := logBuffer()
			st := openT(t, dir, WithLogger(log))
			if !strings.Contains(buf.String(), "dropped blocks") {
				t.Errorf("no warning logged: %q", buf.String())
			}
			checkConsistent(t, st)
			compareWithMem(t, st, blocks[:tc.wantLen])
			saveAll(t, st, blocks[tc.wantLen:], 3)
			st = reopen(t, st)
			compareWithMem(t, st, blocks)
		})
	}
}

// TestDamagedLastBlock overwrites the last block's payload: its call is
// dropped.
func TestDamagedLastBlock(t *testing.T) {
	blocks := storagetest.Chain(8, 3, 50)
	dir := storeWith(t, blocks, 2)
	seg := filepath.Join(dir, dataDir, segmentName(1))
	f, err := os.OpenFile(seg, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("XXXX"), fileSize(t, seg)-20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	st := openT(t, dir)
	checkConsistent(t, st)
	compareWithMem(t, st, blocks[:6])
}

// TestCorruptionIsReported checks damage a crash cannot cause is an error,
// not a silent repair.
func TestCorruptionIsReported(t *testing.T) {
	blocks := storagetest.Chain(12, 3, 50)
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
	}{
		{"bad index frame followed by data", func(t *testing.T, dir string) {
			index := filepath.Join(dir, dataDir, indexName)
			raw, err := os.ReadFile(index)
			if err != nil {
				t.Fatal(err)
			}
			raw[12] ^= 0xff // inside the first frame's body
			if err := os.WriteFile(index, raw, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"an earlier segment cut short", func(t *testing.T, dir string) {
			if err := os.Truncate(filepath.Join(dir, dataDir, segmentName(1)), 100); err != nil {
				t.Fatal(err)
			}
		}},
		{"an earlier segment missing", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, dataDir, segmentName(1))); err != nil {
				t.Fatal(err)
			}
		}},
		{"index entry out of place", func(t *testing.T, dir string) {
			e := loadEntries(t, dir)
			last := e[len(e)-1]
			last.height++
			last.off = last.end() + 100 // leaves a hole
			appendFile(t, filepath.Join(dir, dataDir, indexName), appendFrame(nil, encodeIndexBatch([]indexEntry{last})))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := storeWith(t, blocks, 1, WithSegmentSize(MinSegmentSize))
			tc.damage(t, dir)
			if st, err := Open(t.Context(), dir); !errors.Is(err, ErrCorrupt) {
				if err == nil {
					st.Close()
				}
				t.Fatalf("Open: %v, want ErrCorrupt", err)
			}
		})
	}
}

// TestDamagedBlockRead checks a block that fails its checksum on read is
// reported as corrupt.
func TestDamagedBlockRead(t *testing.T) {
	blocks := storagetest.Chain(8, 3, 50)
	dir := storeWith(t, blocks, 8)
	e := loadEntries(t, dir)
	seg := filepath.Join(dir, dataDir, segmentName(1))
	f, err := os.OpenFile(seg, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{0xff, 0xff}, int64(e[3].off)+30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	st := openT(t, dir)
	if _, err := st.BlockByHeight(t.Context(), 3); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("BlockByHeight(3): %v, want ErrCorrupt", err)
	}
	if _, err := st.HeaderWindow(t.Context(), 0, 1<<62, 100); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("HeaderWindow over the damaged header: %v, want ErrCorrupt", err)
	}
	if _, err := st.BlockByHeight(t.Context(), 4); err != nil {
		t.Fatalf("BlockByHeight(4): %v", err)
	}
}

// loadEntries reads the index entries of a closed store.
func loadEntries(t *testing.T, dir string) []indexEntry {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, dataDir, indexName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	batches, _, err := readIndex(t.Context(), f, f.Name(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var out []indexEntry
	for _, b := range batches {
		out = append(out, b.entries...)
	}
	return out
}

// cancelAfter is a context whose Err reports cancellation from its n-th
// call on, to stop SaveDecided at each of its checks in turn.
type cancelAfter struct {
	context.Context
	mu    sync.Mutex
	calls int
	n     int
}

func (c *cancelAfter) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.calls >= c.n {
		return context.Canceled
	}
	return nil
}

// TestCanceledMidway cancels SaveDecided at each point where it checks its
// context, including after the segment is written but before the commit:
// the call either fully happens or leaves the store as it was.
func TestCanceledMidway(t *testing.T) {
	blocks := storagetest.Chain(40, 3, 100)
	st := openT(t, t.TempDir(), WithSegmentSize(4<<10))
	saveAll(t, st, blocks[:1], 1)
	next := 1
	sawAbort := false
	for n := 1; next < len(blocks); n = n%6 + 1 {
		batch := blocks[next:min(next+3, len(blocks))]
		err := st.SaveDecided(&cancelAfter{Context: t.Context(), n: n}, batch)
		h, herr := st.BlockHeight(t.Context())
		if herr != nil {
			t.Fatal(herr)
		}
		switch {
		case err == nil:
			next += len(batch)
		case errors.Is(err, context.Canceled):
			sawAbort = sawAbort || n > 2
		default:
			t.Fatalf("SaveDecided: %v", err)
		}
		if h != uint64(next) {
			t.Fatalf("after SaveDecided (%v): BlockHeight %d, want %d", err, h, next)
		}
	}
	if !sawAbort {
		t.Fatal("no call was canceled after its first context checks")
	}
	compareWithMem(t, st, blocks)
	st = reopen(t, st)
	checkConsistent(t, st)
	compareWithMem(t, st, blocks)
}

// TestUnusableAfterIndexFailure makes the index write fail: the store
// refuses writes until reopened, and reopening shows a consistent chain.
func TestUnusableAfterIndexFailure(t *testing.T) {
	blocks := storagetest.Chain(10, 3, 100)
	dir := t.TempDir()
	st, err := Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	saveAll(t, st, blocks[:5], 5)
	st.index.Close() // the next index write fails
	if err := st.SaveDecided(t.Context(), blocks[5:7]); err == nil {
		t.Fatal("SaveDecided succeeded with a closed index")
	}
	if err := st.SaveDecided(t.Context(), blocks[5:7]); !errors.Is(err, ErrUnusable) {
		t.Fatalf("SaveDecided after a failed index write: %v, want ErrUnusable", err)
	}
	if b, err := st.LastDecided(t.Context()); err != nil || b.Height() != 4 {
		t.Fatalf("LastDecided after the failure: %d, %v; want block 4", b.Height(), err)
	}
	st.Close() // reports the index closed twice; the lock is released anyway
	st = openT(t, dir)
	checkConsistent(t, st)
	compareWithMem(t, st, blocks[:5])
	saveAll(t, st, blocks[5:], 5)
	compareWithMem(t, st, blocks)
}
