package storagetest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/types"
)

// EnvBenchBlocks overrides the number of blocks BenchLookups stores
// (DefaultBenchBlocks), for quick runs.
const EnvBenchBlocks = "GOSPRESSO_BENCH_BLOCKS"

// DefaultBenchBlocks is the size of BenchLookups' store.
const DefaultBenchBlocks = 100_000

// The block shapes of the benchmarks.
const (
	insertTxs, insertTxSize = 1000, 1000 // about 1 MB per block
	lookupTxs, lookupTxSize = 10, 1000   // about 10 KB per block
	lookupBatch             = 100        // blocks per SaveDecided while building
)

// BenchInsert measures SaveDecided of blocks of about 1 MB holding 1,000
// transactions of 1,000 bytes, one block per call as consensus decides
// them, b.N blocks after a genesis block. Building the blocks is not timed.
// It reports blocks/s and MB/s (payload megabytes, 10^6 bytes). Run it
// with -benchtime=1000x for the figure.
func BenchInsert(b *testing.B, open func(b *testing.B) storage.Store) {
	ctx := b.Context()
	st := open(b)
	parent := Genesis(GenesisTime)
	if err := st.SaveDecided(ctx, []types.Block{parent}); err != nil {
		b.Fatalf("save genesis: %v", err)
	}
	var payload int64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		blk := Extend(&parent, 1, insertTxs, insertTxSize)
		b.StartTimer()
		if err := st.SaveDecided(ctx, blk); err != nil {
			b.Fatalf("save block %d: %v", blk[0].Height(), err)
		}
		payload += int64(blk[0].Payload.Size())
		parent = blk[0]
	}
	b.StopTimer()
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "blocks/s")
		b.ReportMetric(float64(payload)/1e6/s, "MB/s")
	}
}

// benchBlocks reads EnvBenchBlocks.
func benchBlocks(b *testing.B) int {
	s := os.Getenv(EnvBenchBlocks)
	if s == "" {
		return DefaultBenchBlocks
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 2 {
		b.Fatalf("storagetest: %s: %q: want an integer >= 2 (the number of blocks)", EnvBenchBlocks, s)
	}
	return n
}

// BenchLookups builds, once, a store of DefaultBenchBlocks blocks (or
// GOSPRESSO_BENCH_BLOCKS) of 10 transactions of 1 KB, saved 100 blocks per
// SaveDecided, then measures three point lookups as sub-benchmarks, each
// reporting its p50 and p99 latency in milliseconds:
//
//   - header-by-height: BlockByHeight of a random height (the interface
//     has no header-only read);
//   - tx-by-hash: TransactionByHash of a random stored transaction;
//   - namespace: NamespaceHeights of a random namespace from a random
//     height, limit 10.
func BenchLookups(b *testing.B, open func(b *testing.B) storage.Store) {
	ctx := b.Context()
	n := benchBlocks(b)
	st := open(b)
	start := time.Now()
	last := Genesis(GenesisTime)
	if err := st.SaveDecided(ctx, []types.Block{last}); err != nil {
		b.Fatalf("save genesis: %v", err)
	}
	var txHashes []types.Commitment
	for stored := 1; stored < n; {
		batch := Extend(&last, min(lookupBatch, n-stored), lookupTxs, lookupTxSize)
		if err := st.SaveDecided(ctx, batch); err != nil {
			b.Fatalf("save blocks %s: %v", heightsOf(batch), err)
		}
		// Remember one transaction of every tenth block.
		for i := range batch {
			if h := batch[i].Height(); h%10 == 0 {
				txs, err := batch[i].Payload.Transactions()
				if err != nil {
					b.Fatal(err)
				}
				txHashes = append(txHashes, txs[h%uint64(len(txs))].Commit())
			}
		}
		stored += len(batch)
		last = batch[len(batch)-1]
	}
	if len(txHashes) == 0 {
		txs, _ := last.Payload.Transactions()
		txHashes = append(txHashes, txs[0].Commit())
	}
	b.Logf("built a store of %d blocks (%d transactions of %d bytes each) in %v", n, lookupTxs, lookupTxSize, time.Since(start).Round(time.Millisecond))
	top := uint64(n)
	namespaces := []uint64{NamespaceA, NamespaceB, NamespaceC}

	b.Run("header-by-height", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(1, 2))
		measure(b, func() error {
			h := rng.Uint64N(top)
			blk, err := st.BlockByHeight(ctx, h)
			if err == nil && blk.Height() != h {
				err = fmt.Errorf("BlockByHeight(%d) returned block %d", h, blk.Height())
			}
			return err
		})
	})
	b.Run("tx-by-hash", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(3, 4))
		measure(b, func() error {
			_, err := st.TransactionByHash(ctx, txHashes[rng.IntN(len(txHashes))])
			return err
		})
	})
	b.Run("namespace", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(5, 6))
		measure(b, func() error {
			ns := namespaces[rng.IntN(len(namespaces))]
			hs, err := st.NamespaceHeights(ctx, ns, rng.Uint64N(top), 10)
			if err == nil && len(hs) > 10 {
				err = fmt.Errorf("NamespaceHeights returned %d heights, limit 10", len(hs))
			}
			return err
		})
	})
}

// measure runs op b.N times and reports the p50 and p99 latency in ms.
func measure(b *testing.B, op func() error) {
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		err := op()
		lat = append(lat, time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		i := min(len(lat)-1, int(p*float64(len(lat))))
		return float64(lat[i]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
