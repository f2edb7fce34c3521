package nodetest_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/nodetest"
	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/sqlite"
)

// throughputTx is the transaction size of BenchmarkThroughput: 10 KB, so
// about a hundred fill a 1 MB block.
const throughputTx = 10_000

// BenchmarkThroughput measures 4 in-process nodes with memory stores (and
// with SQLite stores) fed
// with 10 KB transactions, so that every block fills to max_block_size
// (1 MB): decided payload MB/s at node 0 (`MB/s`; target ≥ 15), and the
// latency from submitting a transaction to its block being decided at
// node 0 (`p50-ms`, target ≤ 200; `p99-ms`). One iteration is one decided
// block.
func BenchmarkThroughput(b *testing.B) {
	b.Run("store=mem", func(b *testing.B) { throughput(b) })
	b.Run("store=sqlite", func(b *testing.B) {
		dir := b.TempDir()
		throughput(b, nodetest.Storage(func(i int) (storage.Store, error) {
			return sqlite.Open(context.Background(), filepath.Join(dir, fmt.Sprintf("node%d.db", i)))
		}))
	})
}

// throughput runs BenchmarkThroughput's load on a 4-node network made with
// opts.
func throughput(b *testing.B, opts ...nodetest.Option) {
	{
		net := nodetest.New(b, append([]nodetest.Option{nodetest.Consensus(consensus.Config{BuilderTimeout: 100 * time.Millisecond})}, opts...)...)
		net.WaitForHeight(2)
		ctx, cancel := context.WithCancel(b.Context())
		// Three blocks' worth waiting: a leader leaves out the
		// transactions of the two undecided blocks it extends.
		blockTxs := int(net.Genesis.ChainConfig.MaxBlockSize / throughputTx)
		ld := newLoad(throughputTx, 4, 3*blockTxs, time.Millisecond)
		defer ld.wait()
		defer cancel()
		ld.start(ctx, b, net)
		start := net.Node(0).BlockHeight()
		var latencies []time.Duration
		var bytes uint64
		b.ResetTimer()
		begin := time.Now()
		for blk, err := range net.Node(0).Decided(ctx, start) {
			if err != nil {
				b.Fatal(err)
			}
			now := time.Now()
			bytes += blk.Payload.Size()
			latencies = append(latencies, ld.decided(&blk, now)...)
			if blk.Height() >= start+uint64(b.N) {
				break
			}
		}
		elapsed := time.Since(begin)
		b.StopTimer()
		b.ReportMetric(float64(bytes)/1e6/elapsed.Seconds(), "MB/s")
		b.ReportMetric(float64(bytes)/1e6/float64(b.N), "MB/block")
		if len(latencies) > 0 {
			slices.Sort(latencies)
			b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
		}
	}
}
