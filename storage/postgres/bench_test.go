package postgres

import (
	"testing"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/storagetest"
	"github.com/gospresso/gospresso/types"
)

// BenchmarkInsert is the insert figure: run it with
// -bench=Insert -benchtime=1000x (blocks of about 1 MB, 1,000 transactions).
func BenchmarkInsert(b *testing.B) {
	storagetest.BenchInsert(b, func(b *testing.B) storage.Store { return openStore(b, testConfig(b)) })
}

// BenchmarkLookups is the lookup figure: p50/p99 of point lookups
// in a store of 100,000 small blocks (GOSPRESSO_BENCH_BLOCKS for fewer).
func BenchmarkLookups(b *testing.B) {
	storagetest.BenchLookups(b, func(b *testing.B) storage.Store { return openStore(b, testConfig(b)) })
}

// BenchmarkSaveSafety measures the consensus write that precedes every
// vote: one durable (synchronously committed) statement.
func BenchmarkSaveSafety(b *testing.B) {
	s := openStore(b, testConfig(b))
	qc := storagetest.Chain(1, 0, 0)[0].QC
	b.ResetTimer()
	for i := range b.N {
		if err := s.SaveSafety(b.Context(), types.SafetyState{View: types.ViewNumber(i), LastVotedView: types.ViewNumber(i), HighQC: qc}); err != nil {
			b.Fatal(err)
		}
	}
}
