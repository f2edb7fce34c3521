package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/storagetest"
)

// openBench opens a store in a fresh directory for a benchmark.
func openBench(b *testing.B) storage.Store {
	s, err := Open(b.Context(), filepath.Join(b.TempDir(), "sqlite", "database"))
	if err != nil {
		b.Fatalf("open: %v", err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkInsert reports blocks/s and MB/s for blocks of about 1 MB with
// 1,000 transactions, one SaveDecided each (run with -benchtime=1000x for
// the figure).
func BenchmarkInsert(b *testing.B) { storagetest.BenchInsert(b, openBench) }

// BenchmarkLookups reports p50/p99 latencies of header-by-height,
// transaction-by-hash and namespace lookups in a store of 100,000 blocks
// (GOSPRESSO_BENCH_BLOCKS=n for a smaller store).
func BenchmarkLookups(b *testing.B) { storagetest.BenchLookups(b, openBench) }
