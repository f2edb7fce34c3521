package l1

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gospresso/gospresso/types"
)

// fakeClient is a scriptable in-memory Client: a chain of blocks (with a
// fork byte in their hashes, so that a reorg changes them), a head, a
// finalized block, and deposits. Every call is counted; a test can make the
// next calls of a method fail, block Block calls on a gate, or rewrite the
// deposits an answer carries.
type fakeClient struct {
	t *testing.T

	mu       sync.Mutex
	head     uint64
	fin      *types.L1BlockInfo
	fork     byte
	deposits []Deposit // the L1's deposits, any order
	calls    map[string]int
	blockNos []uint64    // the numbers Block was asked for, in order
	depCalls [][2]uint64 // the ranges Deposits was asked for, in order
	failNext map[string]int
	failErr  error
	gate     chan struct{} // when non-nil, Block waits until it is closed
	// rewrite, when set, replaces the deposits a Deposits answer carries.
	rewrite func(from, to uint64, deps []Deposit) []Deposit
	// blockOverride, when set, replaces a Block answer.
	blockOverride func(n uint64) (types.L1BlockInfo, error)
}

func newFakeClient(t *testing.T) *fakeClient {
	return &fakeClient{t: t, calls: make(map[string]int), failNext: make(map[string]int),
		failErr: errors.New("fake L1: provider unavailable")}
}

// fakeBlock is block n of fork f: timestamp 1000 + 12n, a hash naming both.
func fakeBlock(n uint64, f byte) types.L1BlockInfo {
	var h types.Hash
	h[0] = 0xb1
	h[1] = f
	for i := 0; i < 8; i++ {
		h[31-i] = byte(n >> (8 * i))
	}
	return types.L1BlockInfo{Number: n, Timestamp: types.NewU256(1000 + 12*n), Hash: h}
}

// set moves the fake L1 to head and finalized block fin (nil: none).
func (f *fakeClient) set(head uint64, fin *uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.head = head
	if fin == nil {
		f.fin = nil
		return
	}
	b := fakeBlock(*fin, f.fork)
	f.fin = &b
}

func ptr(n uint64) *uint64 { return &n }

// reorg switches to fork fork: every block's hash changes (the test moves
// only unfinalized blocks' contents; finalized ones must not matter).
func (f *fakeClient) reorg(fork byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fork = fork
}

func (f *fakeClient) addDeposits(ds ...Deposit) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deposits = append(f.deposits, ds...)
}

// setDeposits replaces the L1's deposits (a reorg of unfinalized blocks).
func (f *fakeClient) setDeposits(ds ...Deposit) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deposits = slices.Clone(ds)
}

// fail makes the next n calls of method fail.
func (f *fakeClient) fail(method string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failNext[method] = n
}

func (f *fakeClient) count(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

func (f *fakeClient) blockCalls(n uint64) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := 0
	for _, b := range f.blockNos {
		if b == n {
			c++
		}
	}
	return c
}

func (f *fakeClient) depositCalls() [][2]uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.depCalls)
}

// enter counts a call of method and reports the scripted failure, if any.
func (f *fakeClient) enter(method string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[method]++
	if f.failNext[method] > 0 {
		f.failNext[method]--
		return fmt.Errorf("%s: %w", method, f.failErr)
	}
	return nil
}

func (f *fakeClient) ChainID(ctx context.Context) (types.U256, error) {
	if err := f.enter("ChainID"); err != nil {
		return types.U256{}, err
	}
	return types.NewU256(1337), nil
}

func (f *fakeClient) Head(ctx context.Context) (uint64, error) {
	if err := f.enter("Head"); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.head, nil
}

func (f *fakeClient) Finalized(ctx context.Context) (*types.L1BlockInfo, error) {
	if err := f.enter("Finalized"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fin == nil {
		return nil, nil
	}
	b := *f.fin
	return &b, nil
}

func (f *fakeClient) Block(ctx context.Context, n uint64) (types.L1BlockInfo, error) {
	f.mu.Lock()
	f.blockNos = append(f.blockNos, n)
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return types.L1BlockInfo{}, ctx.Err()
		}
	}
	if err := f.enter("Block"); err != nil {
		return types.L1BlockInfo{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.blockOverride != nil {
		return f.blockOverride(n)
	}
	if n > f.head {
		return types.L1BlockInfo{}, fmt.Errorf("fake L1: block %d: %w", n, ErrNotFound)
	}
	return fakeBlock(n, f.fork), nil
}

func (f *fakeClient) Deposits(ctx context.Context, contract types.Address, from, to uint64) ([]Deposit, error) {
	f.mu.Lock()
	f.depCalls = append(f.depCalls, [2]uint64{from, to})
	if f.fin == nil || to > f.fin.Number {
		// The tracker must never read deposits of unfinalized blocks.
		f.t.Errorf("Deposits(%d, %d) asked with the L1's finalized block at %s", from, to, describe(f.fin))
	}
	f.mu.Unlock()
	if err := f.enter("Deposits"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Deposit
	for _, d := range f.deposits {
		if from <= d.Block && d.Block <= to {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, CompareDeposits)
	if f.rewrite != nil {
		out = f.rewrite(from, to, out)
	}
	return out, nil
}

// dep is a deposit of amount for account byte a at block b, log i.
func dep(b, i uint64, a byte, amount uint64) Deposit {
	return Deposit{Account: types.Address{a}, Amount: types.NewU256(amount), Block: b, LogIndex: i}
}

// wantDeposits returns the deposits of all in [from, to], in order.
func wantDeposits(all []Deposit, from, to uint64) []Deposit {
	var out []Deposit
	for _, d := range all {
		if from <= d.Block && d.Block <= to {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, CompareDeposits)
	return out
}

// logRecord is one captured log line.
type logRecord struct {
	level slog.Level
	msg   string
	attrs string
}

// logSink is a slog.Handler that keeps every record, for tests to wait on.
type logSink struct {
	mu   *sync.Mutex
	recs *[]logRecord
	pre  string
}

func newLogSink() *logSink { return &logSink{mu: new(sync.Mutex), recs: new([]logRecord)} }

func (s *logSink) logger() *slog.Logger { return slog.New(s) }

func (s *logSink) Enabled(context.Context, slog.Level) bool { return true }

func (s *logSink) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(s.pre)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	s.mu.Lock()
	*s.recs = append(*s.recs, logRecord{level: r.Level, msg: r.Message, attrs: b.String()})
	s.mu.Unlock()
	return nil
}

func (s *logSink) WithAttrs(as []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(s.pre)
	for _, a := range as {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
	}
	return &logSink{mu: s.mu, recs: s.recs, pre: b.String()}
}

func (s *logSink) WithGroup(string) slog.Handler { return s }

// find returns the records at level whose message contains msg.
func (s *logSink) find(level slog.Level, msg string) []logRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []logRecord
	for _, r := range *s.recs {
		if r.level == level && strings.Contains(r.msg, msg) {
			out = append(out, r)
		}
	}
	return out
}

// waitFor polls cond every millisecond until it holds, failing the test
// after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitTimeout bounds every wait of these tests.
const waitTimeout = 10 * time.Second

// startTracker runs a tracker over c until the test ends, with a 2ms polling
// interval and retry delay unless opts say otherwise.
func startTracker(t *testing.T, c Client, opts ...TrackerOption) *Tracker {
	t.Helper()
	tr := NewTracker(c, append([]TrackerOption{WithPollingInterval(2 * time.Millisecond),
		WithRetryDelay(2 * time.Millisecond)}, opts...)...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tr.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v, want nil at ctx end", err)
			}
		case <-time.After(waitTimeout):
			t.Errorf("Run did not return within %v of ctx end", waitTimeout)
		}
	})
	return tr
}

// finalizedAt waits until the tracker has seen finalized block n.
func finalizedAt(t *testing.T, tr *Tracker, n uint64) {
	t.Helper()
	waitFor(t, waitTimeout, fmt.Sprintf("finalized block %d", n), func() bool {
		_, fin := tr.Snapshot()
		return fin != nil && fin.Number >= n
	})
}
