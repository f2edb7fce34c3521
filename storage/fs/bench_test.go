package fs

import (
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/storagetest"
	"github.com/gospresso/gospresso/types"
)

// benchOpen opens a store in a fresh directory for a benchmark.
func benchOpen(b *testing.B) storage.Store {
	st, err := Open(b.Context(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// BenchmarkInsert: go test -run=^$ -bench=Insert -benchtime=1000x ./storage/fs/
func BenchmarkInsert(b *testing.B) { storagetest.BenchInsert(b, benchOpen) }

// BenchmarkLookups: go test -run=^$ -bench=Lookups ./storage/fs/
// (GOSPRESSO_BENCH_BLOCKS sets the store size; default 100,000).
func BenchmarkLookups(b *testing.B) { storagetest.BenchLookups(b, benchOpen) }

// BenchmarkOpen measures Open of a store of GOSPRESSO_BENCH_BLOCKS blocks
// (default 100,000) of 10 transactions of 1 KB, which replays the index.
func BenchmarkOpen(b *testing.B) {
	n := storagetest.DefaultBenchBlocks
	if s := os.Getenv(storagetest.EnvBenchBlocks); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 2 {
			b.Fatalf("%s: %q: want an integer >= 2", storagetest.EnvBenchBlocks, s)
		}
		n = v
	}
	dir := b.TempDir()
	st, err := Open(b.Context(), dir)
	if err != nil {
		b.Fatal(err)
	}
	last := storagetest.Genesis(storagetest.GenesisTime)
	if err := st.SaveDecided(b.Context(), []types.Block{last}); err != nil {
		b.Fatal(err)
	}
	for stored := 1; stored < n; {
		batch := storagetest.Extend(&last, min(100, n-stored), 10, 1000)
		if err := st.SaveDecided(b.Context(), batch); err != nil {
			b.Fatal(err)
		}
		stored += len(batch)
		last = batch[len(batch)-1]
	}
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(dir + "/" + dataDir + "/" + indexName)
	if err != nil {
		b.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	held, err := Open(b.Context(), dir)
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	held.Close()
	b.ResetTimer()
	var total time.Duration
	for range b.N {
		t0 := time.Now()
		st, err := Open(b.Context(), dir)
		total += time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		if h, err := st.BlockHeight(b.Context()); err != nil || h != uint64(n) {
			b.Fatalf("BlockHeight after Open: %d, %v; want %d", h, err, n)
		}
		st.Close()
	}
	b.ReportMetric(float64(total)/float64(b.N)/float64(time.Millisecond), "open-ms")
	b.ReportMetric(float64(fi.Size())/1e6, "index-MB")
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/1e6, "heap-MB")
}
