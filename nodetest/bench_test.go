package nodetest_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/nodetest"
	"github.com/gospresso/gospresso/types"
)

// BenchmarkNetwork measures an in-process network under a load that always
// keeps transactions waiting: decided views per second, the latency from
// submitting a transaction to its block being decided at the submitting
// node, and the CPU the whole process (every node, and the load) spent per
// decided view (`cpu-ms/view`). One iteration is one decided block.
func BenchmarkNetwork(b *testing.B) {
	for _, n := range []int{4, 10} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) { benchNetwork(b, nodetest.Nodes(n)) })
	}
}

// BenchmarkNetworkWorkers is BenchmarkNetwork/nodes=4 with each node's
// verification workers set (node.WithVerifyWorkers): 0 checks signatures
// on the consensus goroutine, as without a pool.
func BenchmarkNetworkWorkers(b *testing.B) {
	for _, w := range []int{0, 1, 2} {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) { benchNetwork(b, nodetest.Nodes(4), nodetest.VerifyWorkers(w)) })
	}
}

func benchNetwork(b *testing.B, opts ...nodetest.Option) {
	// The production view timeout, so the figures show the
	// protocol's pace, not timeouts.
	net := nodetest.New(b, append(opts, nodetest.Consensus(consensus.Config{BuilderTimeout: 100 * time.Millisecond}))...)
	net.WaitForHeight(2)
	ctx, cancel := context.WithCancel(b.Context())
	ld := newLoad(100, 1, 64, 200*time.Microsecond)
	defer ld.wait()
	defer cancel()
	ld.start(ctx, b, net)
	var latencies []time.Duration
	start0 := net.Node(0).BlockHeight()
	startView := net.Node(0).Stats().LastDecidedView
	b.ResetTimer()
	begin := time.Now()
	cpu0 := processCPU()
	for blk, err := range net.Node(0).Decided(ctx, start0) {
		if err != nil {
			b.Fatal(err)
		}
		now := time.Now()
		latencies = append(latencies, ld.decided(&blk, now)...)
		if blk.Height() >= start0+uint64(b.N) {
			break
		}
	}
	elapsed := time.Since(begin)
	cpu := processCPU() - cpu0
	b.StopTimer()
	views := net.Node(0).Stats().LastDecidedView - startView
	b.ReportMetric(float64(views)/elapsed.Seconds(), "views/s")
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(max(views, 1)), "cpu-ms/view")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "blocks/s")
	if len(latencies) > 0 {
		slices.Sort(latencies)
		b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
	}
}

func pending(net *nodetest.Network) int {
	nd := net.Node(0)
	if nd == nil {
		return 0
	}
	return nd.PendingTransactions()
}

// BenchmarkFloodVotes runs four nodes fault-free, then with node 3 sending
// 1,000 votes for made-up leaves with each of its votes, and reports the
// flooded network's decided views/s as a share of the fault-free one
// (`ratio`; target ≥ 0.5), with both rates and the Go heap of the
// process after the flood. One iteration is one decided block.
func BenchmarkFloodVotes(b *testing.B) {
	measure := func(flood bool) (viewsPerSec float64) {
		net := nodetest.New(b, nodetest.Consensus(consensus.Config{BuilderTimeout: 10 * time.Millisecond}), nodetest.Timeout(5*time.Minute))
		defer net.Stop()
		if flood {
			net.Crash(3)
			net.MakeByzantine(3, nodetest.VoteFlood{Votes: 1000})
			net.Restart(3)
		}
		net.WaitForHeight(2)
		h, v := net.Node(0).BlockHeight(), net.Node(0).Stats().LastDecidedView
		begin := time.Now()
		net.WaitForHeight(h+uint64(b.N), 0, 1, 2)
		elapsed := time.Since(begin)
		return float64(net.Node(0).Stats().LastDecidedView-v) / elapsed.Seconds()
	}
	b.ResetTimer()
	clean := measure(false)
	flooded := measure(true)
	b.StopTimer()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(flooded/clean, "ratio")
	b.ReportMetric(clean, "clean-views/s")
	b.ReportMetric(flooded, "flood-views/s")
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MB")
}

// BenchmarkCatchUp measures how fast a node whose store was wiped catches
// up the b.N blocks its peers decided (`blocks/s`, target ≥ 1,000 for a gap
// of 10,000), and the Go heap of the process once it has (`heap-MB`). One
// iteration is one block of the gap.
func BenchmarkCatchUp(b *testing.B) {
	// A short view timeout: while node 3 is down, the views it leads
	// time out quickly instead of stalling the network for 12 s.
	net := nodetest.New(b, nodetest.Consensus(consensus.Config{BuilderTimeout: time.Millisecond, NextViewTimeout: 200 * time.Millisecond}),
		nodetest.Timeout(30*time.Minute))
	net.WaitForHeight(uint64(b.N))
	net.Crash(3)
	net.WipeStore(3)
	target := net.Node(0).BlockHeight() - 1
	b.ResetTimer()
	begin := time.Now()
	net.Restart(3)
	net.WaitForHeight(target, 3)
	elapsed := time.Since(begin)
	b.StopTimer()
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(target)/elapsed.Seconds(), "blocks/s")
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MB")
}

// processCPU is the CPU time (user and system) the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// load keeps an in-process network busy: while node 0 has fewer than low
// transactions pending, it submits transactions of size bytes round-robin
// to the nodes (peers receive them by gossip), in namespaces 1 to
// namespaces, and remembers when it submitted each for latencies, by the
// sequence number its payload starts with (a commitment would cost the
// process CPU that BenchmarkNetwork charges to the nodes).
type load struct {
	size, namespaces, low int
	pause                 time.Duration
	done                  sync.WaitGroup

	mu        sync.Mutex
	submitted map[uint64]time.Time
}

func newLoad(size, namespaces, low int, pause time.Duration) *load {
	return &load{size: max(size, 8), namespaces: namespaces, low: low, pause: pause, submitted: make(map[uint64]time.Time)}
}

// start runs the load until ctx ends. A mempool that gossip filled refuses
// a submission: the load is then ahead of the network, as intended; any
// other refusal fails the benchmark.
func (l *load) start(ctx context.Context, b *testing.B, net *nodetest.Network) {
	l.done.Add(1)
	go func() {
		defer l.done.Done()
		for seq := uint64(0); ctx.Err() == nil; {
			for pending(net) < l.low && ctx.Err() == nil {
				payload := make([]byte, l.size)
				binary.BigEndian.PutUint64(payload, seq)
				i := int(seq) % net.Len()
				seq++
				tx := types.Transaction{Namespace: 1 + seq%uint64(l.namespaces), Payload: payload}
				l.mu.Lock()
				l.submitted[seq-1] = time.Now()
				l.mu.Unlock()
				if _, err := net.Node(i).SubmitTransaction(ctx, tx); err != nil && !errors.Is(err, chain.ErrMempoolFull) {
					if ctx.Err() == nil {
						b.Errorf("submit to node %d: %v", i, err)
					}
					return
				}
			}
			time.Sleep(l.pause)
		}
	}()
}

// wait waits for the load to stop (after its context ended).
func (l *load) wait() { l.done.Wait() }

// decided returns the submit-to-decide latencies of blk's transactions
// that the load submitted, decided at now, and forgets them.
func (l *load) decided(blk *types.Block, now time.Time) []time.Duration {
	txs, _ := blk.Payload.Transactions()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []time.Duration
	for _, tx := range txs {
		if len(tx.Payload) < 8 {
			continue
		}
		seq := binary.BigEndian.Uint64(tx.Payload)
		if at, ok := l.submitted[seq]; ok {
			out = append(out, now.Sub(at))
			delete(l.submitted, seq)
		}
	}
	return out
}
