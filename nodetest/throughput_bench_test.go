package nodetest_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/nodetest"
	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/sqlite"
	"github.com/gospresso/gospresso/types"
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
		var load sync.WaitGroup
		defer load.Wait()
		defer cancel()

		var mu sync.Mutex
		submitted := make(map[types.Commitment]time.Time)
		blockTxs := int(net.Genesis.ChainConfig.MaxBlockSize / throughputTx)
		load.Add(1)
		go func() { // load: keep three blocks' worth of transactions waiting (submitted round-robin; peers receive them by gossip)
			defer load.Done()
			for seq := uint64(0); ctx.Err() == nil; {
				for pending(net) < 3*blockTxs && ctx.Err() == nil {
					payload := make([]byte, throughputTx)
					binary.BigEndian.PutUint64(payload, seq)
					i := int(seq) % net.Len()
					seq++
					tx := types.Transaction{Namespace: 1 + seq%4, Payload: payload}
					mu.Lock()
					submitted[tx.Commit()] = time.Now()
					mu.Unlock()
					// A mempool that gossip filled refuses it: the
					// load is then ahead of the network, as intended.
					if _, err := net.Node(i).SubmitTransaction(ctx, tx); err != nil && !errors.Is(err, chain.ErrMempoolFull) {
						if ctx.Err() == nil {
							b.Errorf("submit to node %d: %v", i, err)
						}
						return
					}
				}
				time.Sleep(time.Millisecond)
			}
		}()
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
			txs, _ := blk.Payload.Transactions()
			mu.Lock()
			for _, tx := range txs {
				if at, ok := submitted[tx.Commit()]; ok {
					latencies = append(latencies, now.Sub(at))
					delete(submitted, tx.Commit())
				}
			}
			mu.Unlock()
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
