package pruner

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gospresso/gospresso/clock"
	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/mem"
)

// fakeStore is a storage.Store + storage.Pruner over a list of block
// timestamps; only the methods the pruner uses are implemented (the
// embedded nil Store panics on anything else). Each stored block counts
// blockSize bytes of live size.
type fakeStore struct {
	storage.Store
	mu        sync.Mutex
	ts        []uint64 // ts[h] is the timestamp of height h
	first     uint64   // lowest stored height
	blockSize uint64
	calls     []uint64 // PruneBefore arguments
	// onPrune runs after each PruneBefore (under no lock).
	onPrune  func(height uint64)
	pruneErr error
	attempts int // PruneBefore calls, failed ones included
	closed   bool
}

// newFake stores n blocks, one every step, the last at last.
func newFake(n int, last time.Time, step time.Duration) *fakeStore {
	f := &fakeStore{blockSize: 100}
	for i := range n {
		f.ts = append(f.ts, uint64(last.Add(-time.Duration(n-1-i)*step).Unix()))
	}
	return f
}

func (f *fakeStore) add(ts uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ts = append(f.ts, ts)
}

func (f *fakeStore) BlockHeight(ctx context.Context) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, storage.ErrClosed
	}
	return uint64(len(f.ts)), nil
}

func (f *fakeStore) PruneBefore(ctx context.Context, h uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	f.attempts++
	if err := f.pruneErr; err != nil {
		f.mu.Unlock()
		return err
	}
	if h >= uint64(len(f.ts)) {
		f.mu.Unlock()
		return fmt.Errorf("fake: prune below %d would delete the last block %d", h, len(f.ts)-1)
	}
	f.calls = append(f.calls, h)
	if h > f.first {
		f.first = h
	}
	hook := f.onPrune
	f.mu.Unlock()
	if hook != nil {
		hook(h)
	}
	return nil
}

func (f *fakeStore) PrunedHeight(ctx context.Context) (uint64, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.first, f.first > 0, nil
}

func (f *fakeStore) ResetPrunedHeight(ctx context.Context) error { return nil }

func (f *fakeStore) LiveSize(ctx context.Context) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return (uint64(len(f.ts)) - f.first) * f.blockSize, nil
}

func (f *fakeStore) HeightBefore(ctx context.Context, t uint64) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for h := len(f.ts) - 1; h >= int(f.first); h-- {
		if f.ts[h] < t {
			return uint64(h), nil
		}
	}
	return 0, fmt.Errorf("fake: no block before %d: %w", t, storage.ErrNotFound)
}

func (f *fakeStore) FirstHeight(ctx context.Context) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.ts) == 0 {
		return 0, storage.ErrNotFound
	}
	return f.first, nil
}

func (f *fakeStore) state() (first uint64, calls []uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.first, append([]uint64(nil), f.calls...)
}

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func testConfig() Config {
	c := DefaultConfig()
	c.BatchSize = 10
	c.Threshold = math.MaxUint64
	return c
}

func newPruner(t *testing.T, st storage.Store, cfg Config, clk clock.Clock, opts ...Option) *Pruner {
	t.Helper()
	p, err := New(st, cfg, append([]Option{WithClock(clk), WithPause(0)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultConfig(t *testing.T) {
	c := DefaultConfig()
	want := Config{Threshold: 3e12, MinimumRetention: 24 * time.Hour, TargetRetention: 168 * time.Hour,
		BatchSize: 30000, MaxUsage: 8000, Interval: 90 * time.Minute}
	if c != want {
		t.Fatalf("DefaultConfig() = %+v, want %+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"zero batch", func(c *Config) { c.BatchSize = 0 }, "pruner: invalid config: BatchSize: 0: want at least 1 block per batch"},
		{"max usage", func(c *Config) { c.MaxUsage = 10001 }, "pruner: invalid config: MaxUsage: 10001: want basis points 0..10000"},
		{"negative minimum", func(c *Config) { c.MinimumRetention = -time.Second }, "pruner: invalid config: MinimumRetention: -1s: want a duration ≥ 0"},
		{"target below minimum", func(c *Config) { c.TargetRetention = time.Hour },
			"pruner: invalid config: TargetRetention: 1h0m0s: want at least MinimumRetention (24h0m0s)"},
		{"zero interval", func(c *Config) { c.Interval = 0 }, "pruner: invalid config: Interval: 0s: want a duration > 0"},
		{"ok: zero threshold and max usage", func(c *Config) { c.Threshold, c.MaxUsage = 0, 0 }, ""},
		{"ok: equal retentions", func(c *Config) { c.TargetRetention = c.MinimumRetention }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.change(&c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || err.Error() != tc.want || !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if _, err := New(newFake(1, t0, time.Hour), c); !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("New: %v", err)
			}
		})
	}
}

// storeOnly hides every method but those of storage.Store, as the
// file-system backend has.
type storeOnly struct{ storage.Store }

func TestNewErrors(t *testing.T) {
	_, err := New(storeOnly{mem.New()}, DefaultConfig())
	if !errors.Is(err, storage.ErrNotSupported) || !strings.Contains(err.Error(), "does not implement storage.Pruner") {
		t.Fatalf("non-pruner store: %v", err)
	}
	if _, err := New(nil, DefaultConfig()); !errors.Is(err, storage.ErrNotSupported) {
		t.Fatalf("nil store: %v", err)
	}
	f := newFake(1, t0, time.Hour)
	for _, o := range []Option{WithClock(nil), WithLogger(nil), WithSizeFunc(nil), WithPause(-1)} {
		if _, err := New(f, DefaultConfig(), o); !errors.Is(err, ErrInvalidOption) {
			t.Errorf("bad option: %v", err)
		}
	}
	p, err := New(f, DefaultConfig())
	if err != nil || p.Config() != DefaultConfig() {
		t.Fatalf("New: %v", err)
	}
}

// checkBatches asserts that calls go up from start in steps of at most
// batch.
func checkBatches(t *testing.T, start uint64, calls []uint64, batch uint64) {
	t.Helper()
	prev := start
	for _, c := range calls {
		if c <= prev || c-prev > batch {
			t.Fatalf("batch %d→%d breaks the batch size %d (calls %v)", prev, c, batch, calls)
		}
		prev = c
	}
}

func TestTargetRetention(t *testing.T) {
	// 10 days of hourly blocks, heights 0..240, the last one now.
	f := newFake(241, t0, time.Hour)
	clk := clock.NewManual(t0)
	p := newPruner(t, f, testConfig(), clk)
	r, err := p.RunOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// Blocks older than 7 days: timestamp < now − 168h, i.e. heights 0..71
	// (height 72 is exactly 168 h old, not older).
	if r.PrunedHeight != 72 || r.Blocks != 72 || r.TargetBlocks != 72 || r.ThresholdBlocks != 0 || r.OverThreshold {
		t.Fatalf("report %+v", r)
	}
	first, calls := f.state()
	if first != 72 || len(calls) != 8 || r.Batches != 8 {
		t.Fatalf("first %d, calls %v", first, calls)
	}
	checkBatches(t, 0, calls, 10)
	if !r.Now.Equal(t0) || r.SizeBefore != (241-72)*100 || r.SizeAfter != r.SizeBefore {
		t.Fatalf("report %+v", r)
	}

	// A second run at the same time does nothing.
	if r, err := p.RunOnce(t.Context()); err != nil || r.Blocks != 0 || r.FirstHeight != 72 || r.PrunedHeight != 72 {
		t.Fatalf("second run: %+v, %v", r, err)
	}
	// Half a day later, 12 more hourly blocks are past the target.
	clk.Advance(12*time.Hour + time.Second)
	if r, err := p.RunOnce(t.Context()); err != nil || r.Blocks != 13 || r.PrunedHeight != 85 {
		t.Fatalf("later run: %+v, %v", r, err)
	}
}

func TestThreshold(t *testing.T) {
	// 241 hourly blocks of 100 bytes; after step 1, 169 blocks (16900
	// bytes) are left, heights 72..240. Threshold 10000 bytes, max usage
	// 50 % → prune until the size is at most 5000 bytes = 50 blocks, i.e.
	// up to height 191; the minimum retention (1 day) protects heights
	// 217..240 only, so the usage rule stops first.
	f := newFake(241, t0, time.Hour)
	cfg := testConfig()
	cfg.Threshold, cfg.MaxUsage = 10000, 5000
	p := newPruner(t, f, cfg, clock.NewManual(t0))
	r, err := p.RunOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !r.OverThreshold || r.AtMinimumRetention || r.TargetBlocks != 72 || r.PrunedHeight < 191 {
		t.Fatalf("report %+v", r)
	}
	// Batches of 10 from 72: 82, 92, ..., 192; after 192 the size is
	// 49 blocks = 4900 ≤ 5000, so it stops there, re-measuring after each.
	if r.PrunedHeight != 192 || r.ThresholdBlocks != 120 || r.SizeBefore != 16900 || r.SizeAfter != 4900 {
		t.Fatalf("report %+v", r)
	}
	_, calls := f.state()
	checkBatches(t, 0, calls, 10)
}

func TestMinimumRetentionAlwaysKept(t *testing.T) {
	for _, tc := range []struct {
		name      string
		threshold uint64
		maxUsage  uint16
	}{
		{"threshold zero", 0, 0},
		{"tiny threshold", 1, 10000},
		{"max usage zero", 1000, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(241, t0, time.Hour)
			cfg := testConfig()
			cfg.Threshold, cfg.MaxUsage = tc.threshold, tc.maxUsage
			sizeCalls := 0
			p := newPruner(t, f, cfg, clock.NewManual(t0), WithSizeFunc(func(ctx context.Context) (uint64, error) {
				sizeCalls++
				return math.MaxUint64, nil // always far above
			}))
			r, err := p.RunOnce(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			// Older than 24 h: timestamps < now − 24 h, heights 0..215;
			// height 216 is exactly 24 h old and is kept.
			if !r.OverThreshold || !r.AtMinimumRetention || r.PrunedHeight != 216 || r.SizeAfter != math.MaxUint64 {
				t.Fatalf("report %+v", r)
			}
			first, _ := f.state()
			for h := first; h < uint64(len(f.ts)); h++ {
				if age := t0.Sub(time.Unix(int64(f.ts[h]), 0)); age > 24*time.Hour {
					t.Fatalf("height %d (age %v) survived", h, age)
				}
			}
			if first != 216 {
				t.Fatalf("first stored height %d, want 216 (younger than the minimum retention)", first)
			}
			// Measured once after step 1 and after every step-2 batch.
			if want := 1 + int(r.ThresholdBlocks+9)/10; sizeCalls != want {
				t.Fatalf("size measured %d times, want %d", sizeCalls, want)
			}
		})
	}
}

func TestBelowThresholdKeepsYoungData(t *testing.T) {
	// Size under the threshold: only step 1 applies, even with data
	// between the minimum and target retention.
	f := newFake(241, t0, time.Hour)
	cfg := testConfig()
	cfg.Threshold = 16900 // exactly the size after step 1: not above
	cfg.MaxUsage = 0
	r, err := newPruner(t, f, cfg, clock.NewManual(t0)).RunOnce(t.Context())
	if err != nil || r.OverThreshold || r.PrunedHeight != 72 {
		t.Fatalf("report %+v, %v", r, err)
	}
}

func TestLastBlockKept(t *testing.T) {
	// Every block is older than the target retention; the last decided one
	// stays.
	f := newFake(25, t0.Add(-30*24*time.Hour), time.Hour)
	cfg := testConfig()
	cfg.Threshold = 0
	r, err := newPruner(t, f, cfg, clock.NewManual(t0)).RunOnce(t.Context())
	if err != nil || r.PrunedHeight != 24 || r.Blocks != 24 {
		t.Fatalf("report %+v, %v", r, err)
	}
	if !r.AtMinimumRetention {
		t.Fatalf("a single block over the zero threshold should report AtMinimumRetention: %+v", r)
	}
}

func TestNothingToDo(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    *fakeStore
	}{
		{"empty", newFake(0, t0, time.Hour)},
		{"one block", newFake(1, t0.Add(-365*24*time.Hour), time.Hour)},
		{"all young", newFake(100, t0, time.Minute)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := newPruner(t, tc.f, testConfig(), clock.NewManual(t0)).RunOnce(t.Context())
			if err != nil || r.Blocks != 0 || r.Batches != 0 {
				t.Fatalf("report %+v, %v", r, err)
			}
		})
	}
	// A clock before the retention span since 1970 cuts off nothing.
	f := newFake(10, time.Unix(3600, 0), time.Second)
	r, err := newPruner(t, f, testConfig(), clock.NewManual(time.Unix(7200, 0))).RunOnce(t.Context())
	if err != nil || r.Blocks != 0 {
		t.Fatalf("early clock: %+v, %v", r, err)
	}
}

func TestBatchSizes(t *testing.T) {
	for _, batch := range []uint64{1, 7, 72, 1000} {
		t.Run(fmt.Sprint(batch), func(t *testing.T) {
			f := newFake(241, t0, time.Hour)
			cfg := testConfig()
			cfg.BatchSize = batch
			r, err := newPruner(t, f, cfg, clock.NewManual(t0)).RunOnce(t.Context())
			if err != nil || r.PrunedHeight != 72 {
				t.Fatalf("report %+v, %v", r, err)
			}
			_, calls := f.state()
			checkBatches(t, 0, calls, batch)
			if want := int((72 + batch - 1) / batch); len(calls) != want || r.Batches != want {
				t.Fatalf("%d batches, want %d", len(calls), want)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	f := newFake(241, t0, time.Hour)
	ctx, cancel := context.WithCancel(t.Context())
	f.onPrune = func(uint64) { cancel() }
	r, err := newPruner(t, f, testConfig(), clock.NewManual(t0)).RunOnce(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if first, calls := f.state(); len(calls) != 1 || first != 10 || r.PrunedHeight != 10 || r.Batches != 1 {
		t.Fatalf("after cancel: first %d, calls %v, report %+v", first, calls, r)
	}
	// A cancelled context does nothing at all.
	if _, err := newPruner(t, f, testConfig(), clock.NewManual(t0)).RunOnce(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	// Cancelled during the pause between batches.
	f2 := newFake(241, t0, time.Hour)
	ctx2, cancel2 := context.WithCancel(t.Context())
	f2.onPrune = func(uint64) { go func() { time.Sleep(10 * time.Millisecond); cancel2() }() }
	p, err := New(f2, testConfig(), WithClock(clock.NewManual(t0)), WithPause(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := p.RunOnce(ctx2); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the pause ignored the context")
	}
}

func TestErrors(t *testing.T) {
	boom := errors.New("disk on fire")
	f := newFake(241, t0, time.Hour)
	f.pruneErr = boom
	_, err := newPruner(t, f, testConfig(), clock.NewManual(t0)).RunOnce(t.Context())
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "pruner: prune below height 10") {
		t.Fatalf("prune error: %v", err)
	}
	f = newFake(241, t0, time.Hour)
	_, err = newPruner(t, f, testConfig(), clock.NewManual(t0),
		WithSizeFunc(func(context.Context) (uint64, error) { return 0, boom })).RunOnce(t.Context())
	if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "pruner: live size: ") {
		t.Fatalf("size error: %v", err)
	}
	f.closed = true
	if _, err := newPruner(t, f, testConfig(), clock.NewManual(t0)).RunOnce(t.Context()); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("closed: %v", err)
	}
}

func TestOverUsage(t *testing.T) {
	for _, tc := range []struct {
		size, threshold uint64
		bp              uint16
		want            bool
	}{
		{80, 100, 8000, false},
		{81, 100, 8000, true},
		{1, 0, 8000, true},
		{0, 0, 0, false},
		{math.MaxUint64, math.MaxUint64, 10000, false},
		{math.MaxUint64, math.MaxUint64, 9999, true},
		{math.MaxUint64 / 2, math.MaxUint64, 5000, false},
		{math.MaxUint64/2 + 1, math.MaxUint64, 5000, true},
	} {
		if got := overUsage(tc.size, tc.threshold, tc.bp); got != tc.want {
			t.Errorf("overUsage(%d, %d, %d) = %t", tc.size, tc.threshold, tc.bp, got)
		}
	}
}

func TestRun(t *testing.T) {
	f := newFake(241, t0, time.Hour)
	clk := clock.NewManual(t0)
	cfg := testConfig()
	cfg.Interval = time.Hour
	p := newPruner(t, f, cfg, clk)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()

	waitFirst := func(want uint64) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			if first, _ := f.state(); first == want {
				return
			}
			if time.Now().After(deadline) {
				first, calls := f.state()
				t.Fatalf("first stored height %d (calls %v), want %d", first, calls, want)
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitFirst(72) // the first run starts at once
	// New blocks keep coming; two hours later two more blocks have aged.
	f.add(uint64(t0.Add(time.Hour).Unix()))
	deadline := time.Now().Add(10 * time.Second)
	for {
		// The timer may not be armed yet when the clock moves: keep
		// moving it by small steps until the second run has happened.
		clk.Advance(time.Minute)
		if first, _ := f.state(); first > 72 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if first, _ := f.state(); first <= 72 || first > 75 {
		t.Fatalf("after an interval: first stored height %d", first)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop")
	}
}

func TestRunStops(t *testing.T) {
	// A closed store ends Run with the error; other errors are retried.
	f := newFake(241, t0, time.Hour)
	f.closed = true
	p := newPruner(t, f, testConfig(), clock.NewManual(t0))
	if err := p.Run(t.Context()); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("closed: %v", err)
	}

	f = newFake(241, t0, time.Hour)
	boom := errors.New("boom")
	f.pruneErr = boom
	clk := clock.NewManual(t0)
	cfg := testConfig()
	cfg.Interval = time.Minute
	p = newPruner(t, f, cfg, clk)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		f.mu.Lock()
		failed := f.attempts > 0
		if failed {
			f.pruneErr = nil
		}
		f.mu.Unlock()
		if failed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no first run")
		}
		time.Sleep(time.Millisecond)
	}
	if first, _ := f.state(); first != 0 {
		t.Fatalf("the failed run pruned up to %d", first)
	}
	// The retried run prunes in batches, yielding between them: wait for
	// all of them, not the first.
	for {
		clk.Advance(time.Minute)
		if first, _ := f.state(); first >= 72 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if first, _ := f.state(); first < 72 {
		t.Fatalf("retried run: first stored height %d, want at least 72", first)
	}
}

// snapshotFake is a fakeStore that keeps chain-state snapshots.
type snapshotFake struct {
	*fakeStore
	height uint64
	err    error // returned by LoadState
}

func (f *snapshotFake) SaveState(context.Context, uint64, []byte) error { return nil }

func (f *snapshotFake) LoadState(context.Context) (uint64, []byte, error) {
	return f.height, nil, f.err
}

// Only a store that implements storage.StateStore is limited by its
// snapshot (the fakeStore of the other tests is not), and a failure to
// read the snapshot fails the run before anything is deleted.
func TestSnapshotLimitFake(t *testing.T) {
	f := &snapshotFake{fakeStore: newFake(241, t0, time.Hour), height: 30}
	r, err := newPruner(t, f, testConfig(), clock.NewManual(t0)).RunOnce(t.Context())
	if err != nil || r.PrunedHeight != 31 || !r.LimitedBySnapshot || r.SnapshotHeight != 30 {
		t.Fatalf("snapshot at 30: %+v, %v", r, err)
	}
	if _, calls := f.state(); calls[len(calls)-1] != 31 {
		t.Fatalf("PruneBefore calls %v, want the last at 31", calls)
	}
	boom := errors.New("disk on fire")
	f = &snapshotFake{fakeStore: newFake(241, t0, time.Hour), err: boom}
	r, err = newPruner(t, f, testConfig(), clock.NewManual(t0)).RunOnce(t.Context())
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "chain-state snapshot") || r.Blocks != 0 {
		t.Fatalf("LoadState error: %+v, %v", r, err)
	}
	if _, calls := f.state(); len(calls) != 0 {
		t.Fatalf("PruneBefore called after a failed LoadState: %v", calls)
	}
}
