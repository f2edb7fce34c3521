package l1

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gospresso/gospresso/genesis"
	"github.com/gospresso/gospresso/types"
)

func fullForm(b types.L1BlockInfo) *genesis.L1Finalized {
	n, ts, h := b.Number, b.Timestamp, b.Hash
	return &genesis.L1Finalized{Number: &n, Timestamp: &ts, Hash: &h}
}

func numberForm(n uint64) *genesis.L1Finalized { return &genesis.L1Finalized{Number: &n} }

func timestampForm(ts uint64) *genesis.L1Finalized {
	v := types.NewU256(ts)
	return &genesis.L1Finalized{Timestamp: &v}
}

// TestResolve: the three forms of [l1_finalized] against an L1 whose block
// n has timestamp 1000 + 12n, with block 40 finalized.
func TestResolve(t *testing.T) {
	f := newFakeClient(t)
	f.set(50, ptr(40))
	ctx := context.Background()

	// Full form: the L1's block, taken as given when it matches.
	for _, n := range []uint64{0, 17, 40} {
		b, err := Resolve(ctx, f, fullForm(fakeBlock(n, 0)))
		if err != nil || b != fakeBlock(n, 0) {
			t.Errorf("full form of block %d: %+v, %v", n, b, err)
		}
	}
	// Number form.
	for _, n := range []uint64{0, 1, 39, 40} {
		b, err := Resolve(ctx, f, numberForm(n))
		if err != nil || b != fakeBlock(n, 0) {
			t.Errorf("number form %d: %+v, %v", n, b, err)
		}
	}
	// Timestamp form: the first finalized block at or after the time, for
	// every time from before block 0 to block 40's.
	for ts := uint64(0); ts <= 1000+12*40; ts++ {
		want := uint64(0)
		if ts > 1000 {
			want = (ts - 1000 + 11) / 12
		}
		b, err := Resolve(ctx, f, timestampForm(ts))
		if err != nil || b != fakeBlock(want, 0) {
			t.Fatalf("timestamp form %d: %+v, %v; want block %d", ts, b, err, want)
		}
	}
	// The timestamp form costs a binary search, not a scan.
	before := f.count("Block")
	if _, err := Resolve(ctx, f, timestampForm(1000+12*17+5)); err != nil {
		t.Fatal(err)
	}
	if n := f.count("Block") - before; n > 7 {
		t.Errorf("timestamp form over 41 blocks took %d Block calls, want at most 7", n)
	}
}

// TestResolveErrors: blocks not finalized yet wrap ErrNotFinalized, a full
// form the L1 contradicts wraps ErrMismatch, a wrong answer wraps
// ErrMalformed, client errors and invalid forms are reported.
func TestResolveErrors(t *testing.T) {
	ctx := context.Background()
	f := newFakeClient(t)
	f.set(50, ptr(40))

	wrongHash := fullForm(fakeBlock(17, 0))
	wrongHash.Hash[5] ^= 1
	wrongTime := fullForm(fakeBlock(17, 0))
	*wrongTime.Timestamp = types.NewU256(1)
	h := types.Hash{1}
	tests := []struct {
		name string
		want *genesis.L1Finalized
		is   error
		text string
	}{
		{"full above finalized", fullForm(fakeBlock(41, 0)), ErrNotFinalized, "block 41"},
		{"number above finalized", numberForm(45), ErrNotFinalized, "block 45 (finalized: block 40"},
		{"timestamp after finalized", timestampForm(1000 + 12*40 + 1), ErrNotFinalized, "no finalized block at or after timestamp"},
		{"full wrong hash", wrongHash, ErrMismatch, "hash"},
		{"full wrong timestamp", wrongTime, ErrMismatch, "timestamp 0x1"},
		{"nil", nil, nil, "none of the forms"},
		{"empty", &genesis.L1Finalized{}, nil, "none of the forms"},
		{"hash only", &genesis.L1Finalized{Hash: &h}, nil, "none of the forms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Resolve(ctx, f, tt.want)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v does not wrap %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %q does not mention %q", err, tt.text)
			}
		})
	}

	// Nothing finalized yet.
	none := newFakeClient(t)
	none.set(5, nil)
	for _, w := range []*genesis.L1Finalized{numberForm(0), timestampForm(0), fullForm(fakeBlock(0, 0))} {
		if _, err := Resolve(ctx, none, w); !errors.Is(err, ErrNotFinalized) || !strings.Contains(err.Error(), "none yet") {
			t.Errorf("%v form with nothing finalized: %v, want ErrNotFinalized", w.Form(), err)
		}
	}

	// Client failures.
	f.fail("Finalized", 1)
	if _, err := Resolve(ctx, f, numberForm(3)); err == nil || !strings.Contains(err.Error(), "provider unavailable") {
		t.Errorf("Finalized failing: %v", err)
	}
	f.fail("Block", 1)
	if _, err := Resolve(ctx, f, numberForm(3)); err == nil || !strings.Contains(err.Error(), "block 3") {
		t.Errorf("Block failing: %v", err)
	}
	f.fail("Block", 1)
	if _, err := Resolve(ctx, f, timestampForm(1100)); err == nil || !strings.Contains(err.Error(), "provider unavailable") {
		t.Errorf("Block failing in the timestamp search: %v", err)
	}
	f.mu.Lock()
	f.blockOverride = func(n uint64) (types.L1BlockInfo, error) { return fakeBlock(n+1, 0), nil }
	f.mu.Unlock()
	if _, err := Resolve(ctx, f, numberForm(3)); !errors.Is(err, ErrMalformed) {
		t.Errorf("wrong block answered: %v, want ErrMalformed", err)
	}
}

// waitResolved runs WaitResolved in the background.
func waitResolved(tr *Tracker, ctx context.Context, want *genesis.L1Finalized) <-chan resolved {
	ch := make(chan resolved, 1)
	go func() {
		b, err := tr.WaitResolved(ctx, want)
		ch <- resolved{b, err}
	}()
	return ch
}

type resolved struct {
	b   types.L1BlockInfo
	err error
}

// TestWaitResolved: each form waits, logging, until the L1 finalizes the
// block it names, then returns it; a contradicted full form fails at once
// once finalized.
func TestWaitResolved(t *testing.T) {
	tests := []struct {
		name   string
		want   *genesis.L1Finalized
		finals []uint64 // finalized blocks the L1 goes through; the last one resolves
		block  uint64
		log    string
	}{
		{"number", numberForm(30), []uint64{20, 29, 31}, 30, "waiting for L1 block 30 to be finalized"},
		{"full", fullForm(fakeBlock(30, 0)), []uint64{20, 29, 30}, 30, "waiting for L1 block 30 to be finalized"},
		// Block 25 has timestamp 1300: the first block at or after 1295.
		{"timestamp", timestampForm(1295), []uint64{20, 24, 32}, 25, "waiting for a finalized L1 block at or after timestamp 1295"},
		{"timestamp exact", timestampForm(1300), []uint64{24, 25}, 25, "at or after timestamp 1300"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeClient(t)
			f.set(100, ptr(tt.finals[0]))
			logs := newLogSink()
			tr := NewTracker(f, WithPollingInterval(2*time.Millisecond), WithRetryDelay(2*time.Millisecond),
				WithLogger(logs.logger()))
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			ch := waitResolved(tr, ctx, tt.want)
			for _, fin := range tt.finals[:len(tt.finals)-1] {
				f.set(100, ptr(fin))
				polls := f.count("Finalized")
				waitFor(t, waitTimeout, "2 polls", func() bool { return f.count("Finalized") >= polls+2 })
				select {
				case r := <-ch:
					t.Fatalf("returned %+v, %v with block %d finalized", r.b, r.err, fin)
				default:
				}
			}
			if len(logs.find(slog.LevelInfo, tt.log)) == 0 {
				t.Errorf("no log line %q while waiting", tt.log)
			}
			f.set(100, ptr(tt.finals[len(tt.finals)-1]))
			select {
			case r := <-ch:
				if r.err != nil || r.b != fakeBlock(tt.block, 0) {
					t.Fatalf("WaitResolved = %+v, %v; want block %d", r.b, r.err, tt.block)
				}
			case <-ctx.Done():
				t.Fatal("WaitResolved did not return")
			}
		})
	}
}

// TestWaitResolvedErrors: a full form the L1 contradicts fails with
// ErrMismatch; an invalid form fails at once; ctx ends every wait; failed
// requests are retried after the retry delay.
func TestWaitResolvedErrors(t *testing.T) {
	f := newFakeClient(t)
	f.set(50, ptr(40))
	logs := newLogSink()
	tr := NewTracker(f, WithPollingInterval(time.Hour), WithRetryDelay(2*time.Millisecond), WithLogger(logs.logger()))
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()

	wrong := fullForm(fakeBlock(30, 0))
	wrong.Hash[9] ^= 1
	if _, err := tr.WaitResolved(ctx, wrong); !errors.Is(err, ErrMismatch) {
		t.Errorf("contradicted full form: %v, want ErrMismatch", err)
	}
	if _, err := tr.WaitResolved(ctx, &genesis.L1Finalized{}); err == nil || !strings.Contains(err.Error(), "none of the forms") {
		t.Errorf("invalid form: %v", err)
	}

	// Failures are retried after the retry delay (the polling interval is
	// an hour).
	f.fail("Finalized", 2)
	if b, err := tr.WaitResolved(ctx, timestampForm(1100)); err != nil || b != fakeBlock(9, 0) {
		t.Errorf("timestamp form after 2 failed polls = %+v, %v; want block 9", b, err)
	}
	if len(logs.find(slog.LevelWarn, "resolving [l1_finalized] failed; retrying")) == 0 {
		t.Error("no warning for the failed polls")
	}
	f.fail("Block", 2)
	if b, err := tr.WaitResolved(ctx, numberForm(33)); err != nil || b != fakeBlock(33, 0) {
		t.Errorf("number form after 2 failed fetches = %+v, %v", b, err)
	}

	// ctx ends each wait.
	for _, w := range []*genesis.L1Finalized{numberForm(1000), fullForm(fakeBlock(1000, 0)), timestampForm(1 << 40)} {
		t.Run(fmt.Sprint(w.Form()), func(t *testing.T) {
			wctx, wcancel := context.WithTimeout(ctx, 20*time.Millisecond)
			defer wcancel()
			start := time.Now()
			_, err := tr.WaitResolved(wctx, w)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("WaitResolved = %v, want context.DeadlineExceeded", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("returned %v after ctx ended", d)
			}
		})
	}
}
