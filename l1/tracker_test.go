package l1

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gospresso/gospresso/types"
)

var feeContract = &types.Address{0xfe, 0xe}

// gauges gathers the tracker's collectors through a registry and returns
// each metric's value by name.
func gauges(t *testing.T, tr *Tracker) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	for _, c := range tr.Collectors() {
		if err := reg.Register(c); err != nil {
			t.Fatal(err)
		}
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			out[mf.GetName()] = m.GetGauge().GetValue()
		}
	}
	return out
}

// TestTrackerPollsHeadAndFinalized: Run polls head and finalized, Snapshot
// and the gauges follow, and neither goes backwards when the provider lags.
func TestTrackerPollsHeadAndFinalized(t *testing.T) {
	f := newFakeClient(t)
	f.set(3, nil)
	tr := startTracker(t, f)

	waitFor(t, waitTimeout, "head 3", func() bool { h, _ := tr.Snapshot(); return h == 3 })
	if _, fin := tr.Snapshot(); fin != nil {
		t.Fatalf("finalized %+v before the L1 finalized anything", fin)
	}

	f.set(10, ptr(5))
	finalizedAt(t, tr, 5)
	head, fin := tr.Snapshot()
	if head != 10 || *fin != fakeBlock(5, 0) {
		t.Fatalf("Snapshot = %d, %+v; want 10, block 5", head, fin)
	}
	fin.Number = 999 // a copy: the tracker's block does not change
	if _, fin := tr.Snapshot(); fin.Number != 5 {
		t.Fatalf("Snapshot returned the tracker's own block, not a copy")
	}

	f.set(20, ptr(12))
	finalizedAt(t, tr, 12)
	waitFor(t, waitTimeout, "head 20", func() bool { h, _ := tr.Snapshot(); return h == 20 })
	g := gauges(t, tr)
	if g["consensus_l1_head"] != 20 || g["consensus_l1_finalized"] != 12 {
		t.Fatalf("gauges %v, want consensus_l1_head 20 and consensus_l1_finalized 12", g)
	}

	// A lagging provider: head and finalized stay where they were.
	f.set(15, ptr(8))
	polls := f.count("Finalized")
	waitFor(t, waitTimeout, "3 more polls", func() bool { return f.count("Finalized") >= polls+3 })
	if head, fin := tr.Snapshot(); head != 20 || fin.Number != 12 {
		t.Fatalf("after a lagging poll Snapshot = %d, %d; want 20, 12", head, fin.Number)
	}
	if v := testutil.ToFloat64(tr.Collectors()[0]); v != 20 {
		t.Errorf("consensus_l1_head = %v after a lagging poll, want 20", v)
	}
	if v := testutil.ToFloat64(tr.Collectors()[1]); v != 12 {
		t.Errorf("consensus_l1_finalized = %v after a lagging poll, want 12", v)
	}

	// A head below the finalized block is reported as the finalized block.
	f.set(25, ptr(30))
	finalizedAt(t, tr, 30)
	if head, _ := tr.Snapshot(); head != 30 {
		t.Errorf("head %d below finalized 30", head)
	}
	if g := gauges(t, tr); g["consensus_l1_head"] != 30 || g["consensus_l1_finalized"] != 30 {
		t.Errorf("gauges %v, want 30 and 30", g)
	}
}

// TestTrackerKeepsFirstFinalizedHash: a provider that reports another hash
// for the finalized block number already seen does not replace it, and it
// is logged as an error.
func TestTrackerKeepsFirstFinalizedHash(t *testing.T) {
	f := newFakeClient(t)
	f.set(10, ptr(5))
	logs := newLogSink()
	tr := startTracker(t, f, WithLogger(logs.logger()))
	finalizedAt(t, tr, 5)
	f.reorg(7)
	f.set(10, ptr(5)) // block 5 of fork 7
	waitFor(t, waitTimeout, "the error log", func() bool {
		return len(logs.find(slog.LevelError, "another hash for a finalized block")) > 0
	})
	if _, fin := tr.Snapshot(); *fin != fakeBlock(5, 0) {
		t.Errorf("finalized %+v, want the first one seen", fin)
	}
}

// TestTrackerRunTwice: a second Run while one runs fails at once; Run
// returns nil promptly when ctx ends.
func TestTrackerRunTwice(t *testing.T) {
	f := newFakeClient(t)
	f.set(1, ptr(1))
	tr := NewTracker(f, WithPollingInterval(time.Hour), WithRetryDelay(time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tr.Run(ctx) }()
	finalizedAt(t, tr, 1)
	if err := tr.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Errorf("second Run = %v, want an error", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Run did not return after ctx ended (polling interval 1h)")
	}
	// Once stopped, it may run again.
	ctx2, cancel2 := context.WithCancel(context.Background())
	polls := f.count("Head")
	go func() { done <- tr.Run(ctx2) }()
	waitFor(t, waitTimeout, "a poll of the second Run", func() bool { return f.count("Head") > polls })
	cancel2()
	select {
	case <-done:
	case <-time.After(waitTimeout):
		t.Fatal("second Run did not return")
	}
}

// TestTrackerBlockInfo: finalized blocks are cached as they are polled; a
// miss at or below the finalized block returns false and fetches it once,
// then answers from the cache; a miss above the finalized block fetches
// nothing; the cache keeps at most its size.
func TestTrackerBlockInfo(t *testing.T) {
	f := newFakeClient(t)
	f.set(60, ptr(50))
	tr := startTracker(t, f, WithBlocksCacheSize(3))
	finalizedAt(t, tr, 50)

	if b, ok := tr.BlockInfo(50); !ok || b != fakeBlock(50, 0) {
		t.Errorf("BlockInfo(50) of the polled finalized block = %+v, %v", b, ok)
	}
	if f.blockCalls(50) != 0 {
		t.Errorf("the polled finalized block was fetched again")
	}

	if _, ok := tr.BlockInfo(30); ok {
		t.Fatal("BlockInfo(30) answered before any fetch")
	}
	waitFor(t, waitTimeout, "block 30", func() bool { _, ok := tr.BlockInfo(30); return ok })
	if b, _ := tr.BlockInfo(30); b != fakeBlock(30, 0) {
		t.Errorf("BlockInfo(30) = %+v", b)
	}
	for i := 0; i < 10; i++ {
		tr.BlockInfo(30)
	}
	if n := f.blockCalls(30); n != 1 {
		t.Errorf("block 30 fetched %d times, want 1", n)
	}

	// Above the finalized block: never fetched.
	for i := 0; i < 5; i++ {
		if _, ok := tr.BlockInfo(55); ok {
			t.Fatal("BlockInfo(55) above the finalized block answered")
		}
	}
	polls := f.count("Head")
	waitFor(t, waitTimeout, "3 more polls", func() bool { return f.count("Head") >= polls+3 })
	if n := f.blockCalls(55); n != 0 {
		t.Errorf("block 55 above the finalized block 50 fetched %d times", n)
	}

	// Cache size 3: 30 and 50 are there, 30 used last; fetching 31 and 32
	// evicts the least recently used, 50.
	for _, n := range []uint64{31, 32} {
		tr.BlockInfo(n)
		waitFor(t, waitTimeout, fmt.Sprint("block ", n), func() bool { _, ok := tr.BlockInfo(n); return ok })
	}
	if _, ok := tr.BlockInfo(50); ok {
		t.Error("block 50 still cached in a cache of 3 after 3 newer blocks")
	}
	waitFor(t, waitTimeout, "block 50 again", func() bool { _, ok := tr.BlockInfo(50); return ok })
	if n := f.blockCalls(50); n != 1 {
		t.Errorf("block 50 fetched %d times after eviction, want 1", n)
	}
}

// TestTrackerBlockInfoRejectsWrongBlock: a client answering another block
// than the one asked for is not cached.
func TestTrackerBlockInfoRejectsWrongBlock(t *testing.T) {
	f := newFakeClient(t)
	f.set(60, ptr(50))
	f.blockOverride = func(n uint64) (types.L1BlockInfo, error) { return fakeBlock(n+1, 0), nil }
	logs := newLogSink()
	tr := startTracker(t, f, WithLogger(logs.logger()))
	finalizedAt(t, tr, 50)
	tr.BlockInfo(7)
	waitFor(t, waitTimeout, "the dropped fetch", func() bool {
		return len(logs.find(slog.LevelWarn, "fetch failed; dropped")) > 0
	})
	if _, ok := tr.BlockInfo(7); ok {
		t.Error("block 7 cached from an answer for block 8")
	}
	if _, ok := tr.BlockInfo(8); ok {
		t.Error("block 8 cached from an answer for block 7")
	}
	if r := logs.find(slog.LevelWarn, "fetch failed; dropped"); !strings.Contains(r[0].attrs, "asked for block 7, got block 8") {
		t.Errorf("log %q does not say what was wrong", r[0].attrs)
	}
}

// TestTrackerDeposits: Deposits answers false until the range is fetched,
// then exactly its deposits in (block, log) order; overlapping and repeated
// ranges give no duplicates and no new fetches.
func TestTrackerDeposits(t *testing.T) {
	f := newFakeClient(t)
	all := []Deposit{
		dep(3, 0, 1, 10), dep(10, 2, 2, 20), dep(10, 0, 3, 30), dep(10, 5, 1, 40),
		dep(15, 1, 4, 50), dep(20, 0, 5, 60), dep(21, 7, 6, 70), dep(40, 3, 7, 80), dep(99, 0, 8, 90),
	}
	f.addDeposits(all...)
	f.set(100, ptr(100))
	tr := startTracker(t, f, WithFeeContract(feeContract))
	finalizedAt(t, tr, 100)

	if deps, ok := tr.Deposits(11, 10); !ok || deps != nil {
		t.Errorf("Deposits(11, 10) = %v, %v; want none, true", deps, ok)
	}

	ask := func(from, to uint64) []Deposit {
		t.Helper()
		var deps []Deposit
		waitFor(t, waitTimeout, fmt.Sprintf("deposits [%d, %d]", from, to), func() bool {
			var ok bool
			deps, ok = tr.Deposits(from, to)
			return ok
		})
		if want := wantDeposits(all, from, to); !reflect.DeepEqual(deps, want) {
			t.Fatalf("Deposits(%d, %d) = %v\nwant %v", from, to, deps, want)
		}
		return deps
	}

	if _, ok := tr.Deposits(10, 20); ok {
		t.Fatal("Deposits(10, 20) answered before any fetch")
	}
	got := ask(10, 20)
	if len(got) != 5 || got[0].LogIndex != 0 || got[1].LogIndex != 2 || got[2].LogIndex != 5 {
		t.Errorf("block 10's deposits not in log order: %v", got)
	}
	calls := len(f.depositCalls())
	for i := 0; i < 5; i++ {
		ask(10, 20)
		ask(12, 15) // inside a fetched range
	}
	if n := len(f.depositCalls()); n != calls {
		t.Errorf("%d more Deposits calls for ranges already fetched", n-calls)
	}

	// Overlapping ranges, each asked twice.
	for _, r := range [][2]uint64{{15, 30}, {5, 25}, {0, 50}, {20, 21}, {40, 40}, {41, 98}, {0, 100}, {99, 100}} {
		ask(r[0], r[1])
		ask(r[0], r[1])
	}

	// The returned slice is the caller's.
	d := ask(10, 20)
	d[0].Amount = types.NewU256(1)
	ask(10, 20)

	for _, c := range f.depositCalls() {
		if c[1] > 100 {
			t.Errorf("Deposits asked for [%d, %d], above the finalized block 100", c[0], c[1])
		}
	}
}

// TestTrackerDepositsPrefetch: as finalization advances, the tracker
// fetches the new finalized blocks' deposits in ranges of at most the
// events max block range, without being asked; they then answer at once.
func TestTrackerDepositsPrefetch(t *testing.T) {
	f := newFakeClient(t)
	var all []Deposit
	for b := uint64(101); b <= 135; b += 3 {
		all = append(all, dep(b, 1, byte(b), b), dep(b, 0, byte(b+1), b+1))
	}
	f.addDeposits(all...)
	f.set(100, ptr(100))
	tr := startTracker(t, f, WithFeeContract(feeContract), WithEventsMaxBlockRange(10))
	finalizedAt(t, tr, 100)

	f.set(140, ptr(135))
	// Wait without asking: a miss would queue a fetch of its own.
	waitFor(t, waitTimeout, "the prefetch up to block 135", func() bool {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		return tr.window != nil && tr.window.to == 135
	})
	calls := f.depositCalls()
	want := [][2]uint64{{101, 110}, {111, 120}, {121, 130}, {131, 135}}
	if !reflect.DeepEqual(calls, want) {
		t.Errorf("prefetch calls %v, want %v", calls, want)
	}
	for _, r := range [][2]uint64{{101, 135}, {101, 101}, {104, 119}, {130, 135}} {
		deps, ok := tr.Deposits(r[0], r[1])
		if !ok || !reflect.DeepEqual(deps, wantDeposits(all, r[0], r[1])) {
			t.Errorf("Deposits(%d, %d) = %v, %v; want %v", r[0], r[1], deps, ok, wantDeposits(all, r[0], r[1]))
		}
	}
	if n := len(f.depositCalls()); n != len(want) {
		t.Errorf("%d Deposits calls after asking for prefetched ranges, want %d", n, len(want))
	}
}

// TestTrackerFetchesOnlyWhatItLacks: a queued deposits job whose range
// another job fetched in the meantime costs no call, and one whose bottom
// the window holds fetches only the blocks above it. A slow provider
// otherwise meets the same growing range again and again (a leader asking
// for [its parent's l1_finalized + 1, the finalized block] while
// finalization moves on), each a whole fetch queued behind the last.
func TestTrackerFetchesOnlyWhatItLacks(t *testing.T) {
	f := newFakeClient(t)
	all := []Deposit{dep(105, 0, 1, 1), dep(125, 0, 2, 2), dep(128, 1, 3, 3), dep(136, 0, 4, 4)}
	f.addDeposits(all...)
	// No Run: the test plays the poller (observe) and the worker (drain).
	tr := NewTracker(f, WithFeeContract(feeContract), WithEventsMaxBlockRange(10))
	ctx := t.Context()
	drain := func() {
		for {
			select {
			case j := <-tr.queue:
				tr.runJob(ctx, j)
			default:
				return
			}
		}
	}
	finalize := func(n uint64) {
		f.set(n, ptr(n))
		b := fakeBlock(n, 0)
		tr.observe(n, &b)
	}
	finalize(100) // the window starts empty above block 100
	finalize(120)
	drain()
	if got, want := f.depositCalls(), [][2]uint64{{101, 110}, {111, 120}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("prefetch calls %v, want %v", got, want)
	}

	// Block 130 is finalized, queueing the prefetch of [121, 130]; a miss
	// queues [101, 130] behind it, which the prefetch then holds.
	finalize(130)
	if _, ok := tr.Deposits(101, 130); ok {
		t.Fatal("Deposits(101, 130) answered before [121, 130] was fetched")
	}
	drain()
	if got, want := f.depositCalls(), [][2]uint64{{101, 110}, {111, 120}, {121, 130}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("calls %v, want %v: a job held by an earlier fetch was fetched again", got, want)
	}

	// A job for [115, 140] while the window holds [101, 130] fetches
	// [131, 140], and the queued prefetch of the same blocks is then held.
	finalize(140)
	if err := tr.fetch(ctx, job{kind: jobDeposits, a: 115, b: 140}); err != nil {
		t.Fatal(err)
	}
	drain()
	if got, want := f.depositCalls(), [][2]uint64{{101, 110}, {111, 120}, {121, 130}, {131, 140}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("calls %v, want %v", got, want)
	}
	for _, r := range [][2]uint64{{101, 140}, {115, 140}, {126, 136}} {
		deps, ok := tr.Deposits(r[0], r[1])
		if want := wantDeposits(all, r[0], r[1]); !ok || !reflect.DeepEqual(deps, want) {
			t.Errorf("Deposits(%d, %d) = %v, %v; want %v", r[0], r[1], deps, ok, want)
		}
	}
}

// TestTrackerDepositsLargeRange: a range that reaches below the deposit
// window and is larger than the window keeps is still answered once
// fetched (a node catching up, or a first block crediting from block 0).
func TestTrackerDepositsLargeRange(t *testing.T) {
	f := newFakeClient(t)
	all := []Deposit{dep(0, 0, 1, 1), dep(7, 0, 2, 2), dep(55, 1, 3, 3), dep(99, 0, 4, 4), dep(100, 0, 5, 5)}
	f.addDeposits(all...)
	f.set(100, ptr(100))
	tr := startTracker(t, f, WithFeeContract(feeContract), WithEventsMaxBlockRange(10))
	finalizedAt(t, tr, 100)

	for _, r := range [][2]uint64{{0, 100}, {50, 100}, {0, 49}} {
		var deps []Deposit
		waitFor(t, waitTimeout, fmt.Sprintf("deposits [%d, %d]", r[0], r[1]), func() bool {
			var ok bool
			deps, ok = tr.Deposits(r[0], r[1])
			return ok
		})
		if want := wantDeposits(all, r[0], r[1]); !reflect.DeepEqual(deps, want) {
			t.Errorf("Deposits(%d, %d) = %v, want %v", r[0], r[1], deps, want)
		}
	}

	// The window then grows on top, and a range across it answers.
	f.addDeposits(dep(105, 0, 6, 6))
	all = append(all, dep(105, 0, 6, 6))
	f.set(110, ptr(110))
	waitFor(t, waitTimeout, "deposits [95, 110]", func() bool { _, ok := tr.Deposits(95, 110); return ok })
	if deps, _ := tr.Deposits(95, 110); !reflect.DeepEqual(deps, wantDeposits(all, 95, 110)) {
		t.Errorf("Deposits(95, 110) = %v", deps)
	}
}

// TestTrackerDepositsOnlyFinalized: deposits above the finalized block are
// never fetched, so a deposit of a block that a reorg drops before it is
// finalized never appears.
func TestTrackerDepositsOnlyFinalized(t *testing.T) {
	f := newFakeClient(t)
	f.set(15, ptr(10))
	f.setDeposits(dep(5, 0, 1, 1), dep(12, 0, 2, 2), dep(14, 1, 3, 3))
	tr := startTracker(t, f, WithFeeContract(feeContract))
	finalizedAt(t, tr, 10)

	for i := 0; i < 5; i++ {
		if _, ok := tr.Deposits(11, 15); ok {
			t.Fatal("Deposits(11, 15) above the finalized block answered")
		}
		if _, ok := tr.Deposits(5, 12); ok {
			t.Fatal("Deposits(5, 12) reaching above the finalized block answered")
		}
	}
	polls := f.count("Finalized")
	waitFor(t, waitTimeout, "3 more polls", func() bool { return f.count("Finalized") >= polls+3 })
	for _, c := range f.depositCalls() {
		if c[1] > 10 {
			t.Fatalf("Deposits asked for [%d, %d] above the finalized block 10", c[0], c[1])
		}
	}

	// Reorg: blocks 12 and 14 are replaced; block 12's deposit is gone,
	// block 13 has one. Then the L1 finalizes 15.
	f.reorg(1)
	final := []Deposit{dep(5, 0, 1, 1), dep(13, 0, 4, 4), dep(14, 0, 3, 3)}
	f.setDeposits(final...)
	f.set(20, ptr(15))
	finalizedAt(t, tr, 15)
	var deps []Deposit
	waitFor(t, waitTimeout, "deposits [11, 15]", func() bool {
		var ok bool
		deps, ok = tr.Deposits(11, 15)
		return ok
	})
	if want := wantDeposits(final, 11, 15); !reflect.DeepEqual(deps, want) {
		t.Errorf("Deposits(11, 15) = %v, want %v (the reorged deposit of block 12 must not appear)", deps, want)
	}
	waitFor(t, waitTimeout, "deposits [5, 12]", func() bool { _, ok := tr.Deposits(5, 12); return ok })
	if deps, _ := tr.Deposits(5, 12); !reflect.DeepEqual(deps, wantDeposits(final, 5, 12)) {
		t.Errorf("Deposits(5, 12) = %v", deps)
	}
}

// TestTrackerRejectsBadDeposits: an answer with deposits outside the range
// asked for, out of (block, log) order or duplicated is logged and not
// stored; the range answers once the client behaves.
func TestTrackerRejectsBadDeposits(t *testing.T) {
	tests := []struct {
		name    string
		rewrite func(from, to uint64, deps []Deposit) []Deposit
		text    string
	}{
		{"below the range", func(from, to uint64, deps []Deposit) []Deposit {
			return append([]Deposit{dep(from-1, 0, 9, 9)}, deps...)
		}, "outside the range"},
		{"above the range", func(from, to uint64, deps []Deposit) []Deposit {
			return append(deps, dep(to+1, 0, 9, 9))
		}, "outside the range"},
		{"blocks out of order", func(from, to uint64, deps []Deposit) []Deposit {
			return []Deposit{deps[1], deps[0]}
		}, "out of (block, log) order"},
		{"logs out of order", func(from, to uint64, deps []Deposit) []Deposit {
			return []Deposit{dep(12, 3, 1, 1), dep(12, 1, 1, 1)}
		}, "out of (block, log) order"},
		{"duplicate", func(from, to uint64, deps []Deposit) []Deposit {
			return []Deposit{deps[0], deps[0], deps[1]}
		}, "out of (block, log) order"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeClient(t)
			all := []Deposit{dep(11, 0, 1, 1), dep(14, 2, 2, 2)}
			f.setDeposits(all...)
			f.set(30, ptr(30))
			f.rewrite = tt.rewrite
			logs := newLogSink()
			tr := startTracker(t, f, WithFeeContract(feeContract), WithLogger(logs.logger()))
			finalizedAt(t, tr, 30)
			if _, ok := tr.Deposits(10, 20); ok {
				t.Fatal("answered before a fetch")
			}
			waitFor(t, waitTimeout, "the dropped fetch", func() bool {
				return len(logs.find(slog.LevelWarn, "fetch failed; dropped")) > 0
			})
			recs := logs.find(slog.LevelWarn, "fetch failed; dropped")
			if !strings.Contains(recs[0].attrs, tt.text) || !strings.Contains(recs[0].attrs, ErrMalformed.Error()) {
				t.Errorf("log %q does not say %q", recs[0].attrs, tt.text)
			}
			if n := f.count("Deposits"); n != fetchAttempts {
				t.Errorf("%d Deposits calls, want %d attempts", n, fetchAttempts)
			}
			if _, ok := tr.Deposits(10, 20); ok {
				t.Fatal("a rejected answer was stored")
			}

			f.mu.Lock()
			f.rewrite = nil
			f.mu.Unlock()
			var deps []Deposit
			waitFor(t, waitTimeout, "deposits [10, 20]", func() bool {
				var ok bool
				deps, ok = tr.Deposits(10, 20)
				return ok
			})
			if !reflect.DeepEqual(deps, all) {
				t.Errorf("Deposits(10, 20) = %v, want %v", deps, all)
			}
		})
	}
}

// TestTrackerNoFeeContract: without a fee contract Deposits answers at once
// with none and the client is never asked.
func TestTrackerNoFeeContract(t *testing.T) {
	f := newFakeClient(t)
	f.addDeposits(dep(5, 0, 1, 1))
	f.set(10, ptr(10))
	tr := startTracker(t, f, WithFeeContract(feeContract), WithFeeContract(nil))
	finalizedAt(t, tr, 10)
	f.set(20, ptr(20))
	finalizedAt(t, tr, 20)
	if deps, ok := tr.Deposits(0, 10); !ok || deps != nil {
		t.Errorf("Deposits = %v, %v; want none, true", deps, ok)
	}
	if n := f.count("Deposits"); n != 0 {
		t.Errorf("%d Deposits calls without a fee contract", n)
	}
}

// TestWithFeeContractCopies: the option copies the address.
func TestWithFeeContractCopies(t *testing.T) {
	a := types.Address{1}
	tr := NewTracker(newFakeClient(t), WithFeeContract(&a))
	a[0] = 2
	if *tr.cfg.feeContract != (types.Address{1}) {
		t.Errorf("the tracker's fee contract changed with the caller's variable")
	}
}

// TestTrackerRetries: failed polls are retried after the retry delay (not
// the polling interval) and logged once; a failed fetch is retried after the
// retry delay, dropped after fetchAttempts and queued again by a later miss;
// the tracker keeps running throughout.
func TestTrackerRetries(t *testing.T) {
	f := newFakeClient(t)
	f.set(10, ptr(10))
	f.fail("Head", 3)
	logs := newLogSink()
	const retry = 20 * time.Millisecond
	start := time.Now()
	tr := startTracker(t, f, WithPollingInterval(time.Hour), WithRetryDelay(retry), WithLogger(logs.logger()))
	finalizedAt(t, tr, 10)
	if d := time.Since(start); d < 3*retry {
		t.Errorf("3 failed polls retried within %v, want at least 3 retry delays (%v)", d, 3*retry)
	}
	waitFor(t, waitTimeout, "the 'works again' line", func() bool {
		return len(logs.find(slog.LevelInfo, "polling the L1 works again")) > 0
	})
	if n := len(logs.find(slog.LevelWarn, "polling the L1 failed; retrying")); n != 1 {
		t.Errorf("%d warnings for 3 failed polls in a row, want 1", n)
	}
	if n := len(logs.find(slog.LevelInfo, "polling the L1 works again")); n != 1 {
		t.Errorf("%d 'works again' lines, want 1", n)
	}

	// A fetch that fails twice succeeds on the third attempt.
	f.fail("Block", 2)
	start = time.Now()
	tr.BlockInfo(4)
	waitFor(t, waitTimeout, "block 4", func() bool { _, ok := tr.BlockInfo(4); return ok })
	if d := time.Since(start); d < 2*retry {
		t.Errorf("two failed fetches retried within %v, want at least 2 retry delays", d)
	}
	if n := f.blockCalls(4); n != 3 {
		t.Errorf("block 4 asked %d times, want 3", n)
	}

	// A fetch that keeps failing is dropped after fetchAttempts...
	f.fail("Block", 1000)
	tr.BlockInfo(5)
	waitFor(t, waitTimeout, "the dropped fetch", func() bool {
		return len(logs.find(slog.LevelWarn, "fetch failed; dropped")) > 0
	})
	if n := f.blockCalls(5); n != fetchAttempts {
		t.Errorf("block 5 asked %d times, want %d", n, fetchAttempts)
	}
	// ... and queued again by the next miss once the L1 is back.
	f.fail("Block", 0)
	waitFor(t, waitTimeout, "block 5", func() bool { _, ok := tr.BlockInfo(5); return ok })
	if n := f.blockCalls(5); n != fetchAttempts+1 {
		t.Errorf("block 5 asked %d times in all, want %d", n, fetchAttempts+1)
	}
}

// TestTrackerRetriesWhilePolling: with the polling itself failing now and
// then, Run keeps going and the tracker keeps answering.
func TestTrackerRetriesWhilePolling(t *testing.T) {
	f := newFakeClient(t)
	f.set(10, ptr(10))
	tr := startTracker(t, f, WithFeeContract(feeContract))
	finalizedAt(t, tr, 10)
	for i := uint64(1); i <= 5; i++ {
		f.fail("Finalized", 2)
		f.fail("Deposits", 1)
		f.set(10+10*i, ptr(10+10*i))
		finalizedAt(t, tr, 10+10*i)
		waitFor(t, waitTimeout, "deposits", func() bool { _, ok := tr.Deposits(1, 10+10*i); return ok })
	}
}

// TestTrackerQueueBounded: misses while the worker is stuck queue at most
// the queue size (deduplicated); the rest are queued again by later misses.
func TestTrackerQueueBounded(t *testing.T) {
	f := newFakeClient(t)
	f.set(1000, ptr(1000))
	gate := make(chan struct{})
	f.gate = gate
	const size = 4
	tr := startTracker(t, f, WithQueueSize(size), WithFeeContract(feeContract))
	finalizedAt(t, tr, 1000)

	tr.BlockInfo(1)
	waitFor(t, waitTimeout, "the worker stuck on block 1", func() bool { return f.blockCalls(1) == 1 })
	for i := 0; i < 3; i++ {
		for n := uint64(1); n <= 500; n++ {
			tr.BlockInfo(n)
			tr.Deposits(n, n+10)
		}
	}
	tr.mu.Lock()
	queued, pending := len(tr.queue), len(tr.pending)
	tr.mu.Unlock()
	if queued > size {
		t.Errorf("%d jobs queued, want at most %d", queued, size)
	}
	if pending > size+1 {
		t.Errorf("%d jobs pending, want at most %d (queued) + 1 (running)", pending, size+1)
	}
	close(gate)
	waitFor(t, waitTimeout, "the queue drained", func() bool {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		return len(tr.pending) == 0
	})
	if n, d := f.count("Block"), f.count("Deposits"); n+d > size+1 {
		t.Errorf("%d Block and %d Deposits calls for a queue of %d, want at most %d", n, d, size, size+1)
	}
	// Later misses still get answered.
	waitFor(t, waitTimeout, "block 400", func() bool { _, ok := tr.BlockInfo(400); return ok })
	waitFor(t, waitTimeout, "deposits [400, 410]", func() bool { _, ok := tr.Deposits(400, 410); return ok })
}

// TestWaitFinalized: WaitFinalized returns a block already finalized at
// once; otherwise it logs that it waits, polls by itself (no Run), and
// returns the block once the L1 finalizes it.
func TestWaitFinalized(t *testing.T) {
	f := newFakeClient(t)
	f.set(12, ptr(5))
	logs := newLogSink()
	tr := NewTracker(f, WithPollingInterval(2*time.Millisecond), WithRetryDelay(2*time.Millisecond),
		WithLogger(logs.logger()))
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()

	b, err := tr.WaitFinalized(ctx, 3)
	if err != nil || b != fakeBlock(3, 0) {
		t.Fatalf("WaitFinalized(3) = %+v, %v; want block 3", b, err)
	}
	if n := len(logs.find(slog.LevelInfo, "waiting for L1 block")); n != 0 {
		t.Errorf("%d waiting lines for a block already finalized", n)
	}

	type result struct {
		b   types.L1BlockInfo
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := tr.WaitFinalized(ctx, 8)
		done <- result{b, err}
	}()
	waitFor(t, waitTimeout, "the waiting log", func() bool {
		return len(logs.find(slog.LevelInfo, "waiting for L1 block 8 to be finalized")) > 0
	})
	if r := logs.find(slog.LevelInfo, "waiting for L1 block 8 to be finalized")[0]; !strings.Contains(r.attrs, "finalized=5") ||
		!strings.Contains(r.attrs, "head=12") {
		t.Errorf("waiting log %q does not show the finalized block and head", r.attrs)
	}
	select {
	case r := <-done:
		t.Fatalf("WaitFinalized(8) returned %+v, %v with block 5 finalized", r.b, r.err)
	default:
	}
	f.set(12, ptr(9))
	select {
	case r := <-done:
		if r.err != nil || r.b != fakeBlock(8, 0) {
			t.Fatalf("WaitFinalized(8) = %+v, %v; want block 8", r.b, r.err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("WaitFinalized(8) did not return once block 9 was finalized")
	}
	if _, ok := tr.BlockInfo(8); !ok {
		t.Error("the block WaitFinalized fetched is not cached")
	}
}

// TestWaitFinalizedCancel: WaitFinalized returns ctx's error when ctx ends,
// even with an hour's polling interval, and with no finalized block at all.
func TestWaitFinalizedCancel(t *testing.T) {
	f := newFakeClient(t)
	f.set(3, nil)
	tr := NewTracker(f, WithPollingInterval(time.Hour), WithRetryDelay(time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := tr.WaitFinalized(ctx, 100)
		done <- err
	}()
	waitFor(t, waitTimeout, "a poll", func() bool { return f.count("Finalized") > 0 })
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "block 100") {
			t.Errorf("WaitFinalized = %v, want an error naming block 100 and wrapping context.Canceled", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("WaitFinalized did not return after ctx ended")
	}

	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := tr.WaitFinalized(ctx, 100); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitFinalized = %v, want context.DeadlineExceeded", err)
	}
}

// TestWaitFinalizedRetries: a failed poll, or a failed fetch of the
// finalized block, is retried after the retry delay, not the polling
// interval.
func TestWaitFinalizedRetries(t *testing.T) {
	f := newFakeClient(t)
	f.set(10, ptr(10))
	f.fail("Finalized", 2)
	logs := newLogSink()
	tr := NewTracker(f, WithPollingInterval(time.Hour), WithRetryDelay(2*time.Millisecond), WithLogger(logs.logger()))
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if b, err := tr.WaitFinalized(ctx, 10); err != nil || b != fakeBlock(10, 0) {
		t.Fatalf("WaitFinalized(10) = %+v, %v", b, err)
	}
	if n := len(logs.find(slog.LevelWarn, "polling the L1 failed while waiting")); n != 2 {
		t.Errorf("%d warnings for 2 failed polls, want 2", n)
	}

	f.fail("Block", 2)
	if b, err := tr.WaitFinalized(ctx, 7); err != nil || b != fakeBlock(7, 0) {
		t.Fatalf("WaitFinalized(7) = %+v, %v", b, err)
	}
	if n := len(logs.find(slog.LevelWarn, "fetching a finalized block failed")); n != 2 {
		t.Errorf("%d warnings for 2 failed fetches, want 2", n)
	}
}

// TestWaitFinalizedWithRun: WaitFinalized and Run side by side (run with
// -race): the waiter returns once the L1 finalizes the block.
func TestWaitFinalizedWithRun(t *testing.T) {
	f := newFakeClient(t)
	f.set(5, ptr(5))
	tr := startTracker(t, f)
	finalizedAt(t, tr, 5)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := tr.WaitFinalized(ctx, 20)
		done <- err
	}()
	f.set(25, ptr(20))
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("WaitFinalized did not return")
	}
}

// TestDepositWindow: fetched ranges merge into the window when they
// overlap or touch it (replacing what they overlap, never duplicating),
// stay separate otherwise, and the window keeps only its newest blocks.
func TestDepositWindow(t *testing.T) {
	tr := NewTracker(newFakeClient(t), WithFeeContract(feeContract), WithEventsMaxBlockRange(10))
	tr.window = &depositRange{from: 21, to: 20}
	store := func(from, to uint64, deps ...Deposit) {
		tr.mu.Lock()
		tr.storeLocked(&depositRange{from: from, to: to, deps: deps})
		tr.mu.Unlock()
	}
	check := func(from, to uint64, want ...Deposit) {
		t.Helper()
		got, ok := tr.Deposits(from, to)
		if !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("Deposits(%d, %d) = %v, %v; want %v", from, to, got, ok, want)
		}
	}
	store(21, 30, dep(21, 0, 1, 1), dep(30, 4, 2, 2))
	store(31, 40, dep(31, 0, 3, 3))
	store(25, 35, dep(25, 0, 4, 4), dep(30, 4, 2, 2), dep(31, 0, 3, 3)) // overlaps: same deposits of 30, 31
	check(21, 40, dep(21, 0, 1, 1), dep(25, 0, 4, 4), dep(30, 4, 2, 2), dep(31, 0, 3, 3))
	store(15, 20, dep(15, 0, 5, 5)) // touches below
	check(15, 40, dep(15, 0, 5, 5), dep(21, 0, 1, 1), dep(25, 0, 4, 4), dep(30, 4, 2, 2), dep(31, 0, 3, 3))
	store(2, 5, dep(3, 0, 6, 6)) // apart
	if len(tr.ranges) != 1 {
		t.Errorf("%d separate ranges, want 1", len(tr.ranges))
	}
	check(2, 5, dep(3, 0, 6, 6))
	check(3, 3, dep(3, 0, 6, 6))
	check(4, 5)
	if _, ok := tr.Deposits(2, 6); ok {
		t.Error("Deposits(2, 6) answered from a range that ends at 5")
	}
	if _, ok := tr.Deposits(5, 15); ok {
		t.Error("Deposits(5, 15) answered across a gap")
	}
	// Growing on top past 4 × 10 blocks drops the oldest.
	store(41, 60, dep(60, 0, 7, 7))
	tr.mu.Lock()
	from, to := tr.window.from, tr.window.to
	tr.mu.Unlock()
	if from != 21 || to != 60 {
		t.Errorf("window [%d, %d], want [21, 60]", from, to)
	}
	check(21, 60, dep(21, 0, 1, 1), dep(25, 0, 4, 4), dep(30, 4, 2, 2), dep(31, 0, 3, 3), dep(60, 0, 7, 7))
	if _, ok := tr.Deposits(20, 60); ok {
		t.Error("Deposits(20, 60) answered below the pruned window")
	}

	// A window from block 0 and a range up to the last block number.
	tr.window = &depositRange{from: 0, to: 0}
	tr.ranges = nil
	store(0, 5, dep(0, 0, 1, 1))
	check(0, 0, dep(0, 0, 1, 1))
	top := ^uint64(0)
	store(top-3, top, dep(top, 2, 1, 1))
	check(top-3, top, dep(top, 2, 1, 1))
	check(top, top, dep(top, 2, 1, 1))
}

// TestDepositWindowMaxDeposits: the window holds at most maxWindowDeposits
// deposits, dropping whole blocks from the bottom.
func TestDepositWindowMaxDeposits(t *testing.T) {
	tr := NewTracker(newFakeClient(t), WithFeeContract(feeContract))
	tr.window = &depositRange{from: 1, to: 0}
	deps := make([]Deposit, 0, maxWindowDeposits+10)
	for i := 0; i < maxWindowDeposits+10; i++ {
		deps = append(deps, dep(1+uint64(i)/10, uint64(i%10), 1, 1)) // 10 a block
	}
	last := deps[len(deps)-1].Block
	tr.mu.Lock()
	tr.storeLocked(&depositRange{from: 1, to: last, deps: deps})
	w := *tr.window
	tr.mu.Unlock()
	if len(w.deps) > maxWindowDeposits {
		t.Errorf("window holds %d deposits, want at most %d", len(w.deps), maxWindowDeposits)
	}
	if w.deps[0].Block != w.from || w.deps[0].LogIndex != 0 {
		t.Errorf("window [%d, %d] starts with deposit %+v: not a whole block", w.from, w.to, w.deps[0])
	}
	// The whole range asked for still answers (kept apart).
	if got, ok := tr.Deposits(1, last); !ok || len(got) != len(deps) {
		t.Errorf("Deposits(1, %d) = %d deposits, %v; want %d", last, len(got), ok, len(deps))
	}
}
