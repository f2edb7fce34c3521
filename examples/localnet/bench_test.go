package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gospresso/gospresso/api/client"
	"github.com/gospresso/gospresso/types"
)

// benchTxSize is the size of the transactions the load generator submits.
const benchTxSize = 10 << 10

// load is a load generator against a local network: it submits 10 KB
// transactions to every node in turn at a fixed rate and watches node 0's
// decided blocks to time each one from submission to decision.
type load struct {
	clients []*client.Client

	mu        sync.Mutex
	submitted map[types.Commitment]time.Time
	latencies []time.Duration
	bytes     uint64 // decided payload bytes of our transactions
	shed      atomic.Uint64
	failed    atomic.Uint64
	lastErr   atomic.Value
}

// run offers rate bytes/s for d, then waits up to drain for what was
// accepted to be decided. It reports what was decided within the window.
type phase struct {
	offered, decidedMBps, viewsPerSec float64
	p50, p99                          time.Duration
	accepted, shed, failed, decided   uint64
}

func (l *load) run(ctx context.Context, rate float64, d time.Duration) (phase, error) {
	l.drain(ctx, 30*time.Second)
	start := time.Now()
	h0, err := l.clients[0].BlockHeight(ctx)
	if err != nil {
		return phase{}, err
	}
	leaf0, err := l.clients[0].Leaf(ctx, h0-1)
	if err != nil {
		return phase{}, err
	}
	l.mu.Lock()
	l.submitted = make(map[types.Commitment]time.Time)
	l.latencies, l.bytes = nil, 0
	l.mu.Unlock()
	l.shed.Store(0)
	l.failed.Store(0)

	sctx, stop := context.WithCancel(ctx)
	defer stop()
	stream, err := l.clients[0].StreamBlocks(sctx, h0)
	if err != nil {
		return phase{}, err
	}
	defer stream.Close()
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			b, err := stream.Next(sctx)
			if err != nil {
				return
			}
			now := time.Now()
			txs, err := b.Payload.Transactions()
			if err != nil {
				continue
			}
			l.mu.Lock()
			for _, tx := range txs {
				if t0, ok := l.submitted[tx.Commit()]; ok {
					l.latencies = append(l.latencies, now.Sub(t0))
					l.bytes += uint64(len(tx.Payload))
				}
			}
			l.mu.Unlock()
		}
	}()

	// Open loop: every 10 ms the transactions due are handed to 32
	// senders; transactions the senders cannot take are counted as the
	// generator's own limit (failed), never queued without bound.
	work := make(chan types.Transaction, 256)
	var wg sync.WaitGroup
	var next atomic.Uint64
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for tx := range work {
				c := l.clients[int(next.Add(1))%len(l.clients)]
				t0 := time.Now()
				l.mu.Lock()
				l.submitted[tx.Commit()] = t0
				l.mu.Unlock()
				_, err := c.Submit(sctx, tx)
				switch {
				case err == nil:
				case errors.Is(err, client.ErrUnavailable) && strings.Contains(err.Error(), "mempool full"):
					l.shed.Add(1)
				default:
					l.failed.Add(1)
					l.lastErr.Store(err.Error())
				}
			}
		}()
	}
	var sent, seq uint64
	tick := time.NewTicker(10 * time.Millisecond)
	deadline := start.Add(d)
	for now := range tick.C {
		if now.After(deadline) {
			break
		}
		due := uint64(rate * now.Sub(start).Seconds() / benchTxSize)
		for ; sent < due; sent++ {
			payload := make([]byte, benchTxSize)
			_, _ = rand.Read(payload[16:])
			copy(payload, fmt.Appendf(nil, "bench %010d", seq))
			seq++
			select {
			case work <- types.Transaction{Namespace: 4242, Payload: payload}:
			default:
				l.failed.Add(1)
			}
		}
	}
	tick.Stop()
	close(work)
	wg.Wait()
	end := time.Now()
	time.Sleep(3 * time.Second) // let accepted transactions be decided
	stop()
	<-watched

	h1, err := l.clients[0].BlockHeight(ctx)
	if err != nil {
		return phase{}, err
	}
	leaf1, err := l.clients[0].Leaf(ctx, h1-1)
	if err != nil {
		return phase{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	lat := slices.Clone(l.latencies)
	slices.Sort(lat)
	p := phase{
		offered:     rate / 1e6,
		decidedMBps: float64(l.bytes) / 1e6 / end.Sub(start).Seconds(),
		viewsPerSec: float64(leaf1.Leaf.View-leaf0.Leaf.View) / time.Since(start).Seconds(),
		accepted:    uint64(len(l.submitted)) - l.shed.Load() - l.failed.Load(),
		shed:        l.shed.Load(), failed: l.failed.Load(), decided: uint64(len(lat)),
	}
	if len(lat) > 0 {
		p.p50, p.p99 = lat[len(lat)/2], lat[len(lat)*99/100]
	}
	return p, nil
}

// drain waits, at most d, until no node holds pending transactions, so a
// phase does not start behind the previous one's backlog.
func (l *load) drain(ctx context.Context, d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		busy := false
		for _, c := range l.clients {
			m, err := c.Metrics(ctx)
			if err != nil {
				continue
			}
			for _, line := range strings.Split(m, "\n") {
				if strings.HasPrefix(line, "consensus_outstanding_transactions ") && strings.TrimSpace(strings.TrimPrefix(line, "consensus_outstanding_transactions ")) != "0" {
					busy = true
				}
			}
		}
		if !busy {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// BenchmarkLocalnet runs four sequencer processes on 127.0.0.1 and a load
// generator of 10 KB transactions: first a search that finds the
// decided throughput S the network sustains (stepping the offered rate up
// by 2 MB/s until it is no longer all decided), then S (saturation) and 2S
// (overload, which must be shed with "mempool full" while latency stays
// bounded and blocks keep being decided). It reports MB/s decided,
// decided views/s and the p50/p99 submit-to-decide latency of each.
//
//	go test ./examples/localnet -run XXX -bench Localnet -benchtime 1x
func BenchmarkLocalnet(b *testing.B) {
	ctx, cancel := context.WithTimeout(b.Context(), 10*time.Minute)
	defer cancel()
	// Every node keeps query data in file-system storage, so any of them
	// can be asked, and takes submissions.
	fsNodes := func(int, int) []string { return []string{"storage-fs", "http", "query", "submit", "status"} }
	n, err := Start(ctx, Config{Nodes: 4, Dir: b.TempDir(), ViewTimeout: 5 * time.Second, Seed: strings.Repeat("0", 63) + "9", Modules: fsNodes})
	if err != nil {
		b.Fatal(err)
	}
	defer n.Stop()
	l := &load{}
	for _, u := range n.APIURLs {
		c, err := client.New(u)
		if err != nil {
			b.Fatal(err)
		}
		l.clients = append(l.clients, c)
	}
	for {
		if h, _ := l.clients[0].BlockHeight(ctx); h >= 3 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	report := func(b *testing.B, p phase) {
		b.ReportMetric(p.decidedMBps, "MB/s")
		b.ReportMetric(p.viewsPerSec, "views/s")
		b.ReportMetric(float64(p.p50)/1e6, "p50-ms")
		b.ReportMetric(float64(p.p99)/1e6, "p99-ms")
		b.ReportMetric(float64(p.shed), "shed")
		b.ReportMetric(0, "ns/op")
		b.Logf("offered %.2f MB/s: decided %.2f MB/s, %.2f views/s, p50 %v, p99 %v; accepted %d, decided %d, shed %d (mempool full), generator-limited or failed %d %v",
			p.offered, p.decidedMBps, p.viewsPerSec, p.p50, p.p99, p.accepted, p.decided, p.shed, p.failed, l.lastErr.Load())
	}
	// Find the saturating load: step the offered rate up until the network
	// no longer decides (nearly) all of it; S is the highest rate decided.
	var sat float64
	for rate := 2e6; rate <= 20e6; rate += 2e6 {
		p, err := l.run(ctx, rate, 8*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("step: offered %.1f MB/s, decided %.2f MB/s, p50 %v", rate/1e6, p.decidedMBps, p.p50)
		sat = max(sat, p.decidedMBps*1e6)
		if p.decidedMBps*1e6 < 0.9*rate {
			break
		}
	}
	for _, c := range []struct {
		name string
		rate float64
	}{{"load=saturation", sat}, {"load=2x", 2 * sat}} {
		b.Run(c.name, func(b *testing.B) {
			p, err := l.run(ctx, c.rate, 20*time.Second)
			if err != nil {
				b.Fatal(err)
			}
			report(b, p)
		})
	}
}
