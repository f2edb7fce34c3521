package nodetest_test

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/nodetest"
)

// storedHeight is the highest block height any node's store holds.
func storedHeight(tb testing.TB, net *nodetest.Network) uint64 {
	tb.Helper()
	var h uint64
	for i := range net.Len() {
		n, err := net.Store(i).BlockHeight(context.Background())
		if err != nil {
			tb.Fatal(err)
		}
		h = max(h, n-1)
	}
	return h
}

// restartAll stops every node of net and starts them all again from their
// stores, one after another. It returns the highest height decided before
// the stop, when the first node started again and how long it took until
// the last one had.
func restartAll(tb testing.TB, net *nodetest.Network) (before uint64, begin time.Time, up time.Duration) {
	tb.Helper()
	for i := range net.Len() {
		net.Crash(i)
	}
	before = storedHeight(tb, net)
	begin = time.Now()
	for i := range net.Len() {
		net.Restart(i)
	}
	return before, begin, time.Since(begin)
}

// awaitNewBlock waits until every node has decided a block above height
// before, and returns how long after begin the first node and the last
// node did.
func awaitNewBlock(tb testing.TB, net *nodetest.Network, before uint64, begin time.Time, limit time.Duration) (first, all time.Duration) {
	tb.Helper()
	for {
		done := true
		for i := range net.Len() {
			if net.Node(i).BlockHeight()-1 > before {
				if first == 0 {
					first = time.Since(begin)
				}
			} else {
				done = false
			}
		}
		if done {
			return first, time.Since(begin)
		}
		if time.Since(begin) > limit {
			tb.Fatalf("no new block above height %d at every node within %v of the restart", before, limit)
		}
		time.Sleep(time.Millisecond)
	}
}

// BenchmarkRestartToFirstDecide runs four nodes with the production
// consensus parameters and no load, lets them decide a few blocks, stops
// them all and starts them all again from their stores, and measures the
// time from the restart (the first node starting) until every node has
// decided a block above the highest one decided before the stop: the
// median (`p50-ms`) and maximum (`max-ms`) over the iterations, and the
// median until the first node has (`first-p50-ms`) and until the last node
// has started (`up-p50-ms`, the part no protocol can save), and the view
// timeouts the nodes counted until then (`timeouts/restart`). One iteration
// is one restart of the whole network (docs/protocol.md, "Restarts").
func BenchmarkRestartToFirstDecide(b *testing.B) {
	net := nodetest.New(b, nodetest.Consensus(consensus.Config{}), nodetest.Timeout(2*time.Minute))
	net.WaitForHeight(2)
	var all, first, ups []time.Duration
	var timeouts uint64
	for range b.N {
		b.StopTimer()
		net.WaitForHeight(net.Node(0).BlockHeight() + 1)
		b.StartTimer()
		before, begin, up := restartAll(b, net)
		f, a := awaitNewBlock(b, net, before, begin, 2*time.Minute)
		first, all, ups = append(first, f), append(all, a), append(ups, up)
		for i := range net.Len() {
			timeouts += net.Node(i).Stats().Timeouts // counted since the restart
		}
		if a > time.Second {
			b.Logf("restart %d: every node decided after %v (first after %v, all up after %v)", len(all), a, f, up)
		}
	}
	b.StopTimer()
	slices.Sort(all)
	slices.Sort(first)
	slices.Sort(ups)
	b.ReportMetric(ms(all[len(all)/2]), "p50-ms")
	b.ReportMetric(ms(all[len(all)-1]), "max-ms")
	b.ReportMetric(ms(first[len(first)/2]), "first-p50-ms")
	b.ReportMetric(ms(ups[len(ups)/2]), "up-p50-ms")
	b.ReportMetric(float64(timeouts)/float64(len(all)), "timeouts/restart")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// After a restart of the whole network, with the production consensus
// parameters, every node decides a new block long before a view timer
// could fire and before a leader's builder timeout could have passed
// (docs/protocol.md, "Restarts"): the restarted nodes greet those that
// start after them, a restarted leader proposes at once, and a node that
// can only time out of its view does so at once (at most one timeout, when
// the network stopped after the votes of a view were lost). It runs in a
// synctest bubble, so the time is the bubble's and the test costs no
// waiting.
func TestFullNetworkRestartDecidesWithoutATimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := nodetest.New(t, nodetest.Consensus(consensus.Config{}), nodetest.Timeout(time.Minute))
		for range 3 {
			net.WaitForHeight(net.Node(0).BlockHeight() + 1)
			before, begin, _ := restartAll(t, net)
			_, all := awaitNewBlock(t, net, before, begin, time.Minute)
			for i := range net.Len() {
				if n := net.Node(i).Stats().Timeouts; n > 1 {
					t.Errorf("node %d timed out %d times before every node decided a new block, want at most 1", i, n)
				}
			}
			if all >= consensus.DefaultConfig().BuilderTimeout {
				t.Errorf("every node decided a new block %v after the restart, want less than the builder timeout (a leader waited for transactions)", all)
			}
		}
	})
}
