package client_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gospresso/gospresso/api"
	"github.com/gospresso/gospresso/api/client"
	"github.com/gospresso/gospresso/types"
)

// readN reads n items of s, each within the test's context.
func readN[T any](t *testing.T, ctx context.Context, s *client.Stream[T], n int) []T {
	t.Helper()
	out := make([]T, 0, n)
	for range n {
		v, err := s.Next(ctx)
		if err != nil {
			t.Fatalf("stream item %d of %d: %v", len(out), n, err)
		}
		out = append(out, v)
	}
	return out
}

// closeStream closes s and checks that Next then says so.
func closeStream[T any](t *testing.T, ctx context.Context, s *client.Stream[T]) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := s.Next(ctx); !errors.Is(err, client.ErrClosed) {
		t.Errorf("Next after Close: %v, want ErrClosed", err)
	}
}

// streamHeights opens a stream from each start, reads n items, and checks
// that item i is block start+i (by hash), then closes it.
func streamHeights[T any](t *testing.T, ctx context.Context, name string, open func(from uint64) (*client.Stream[T], error),
	hashOf func(T) (uint64, types.Commitment), want func(h uint64) types.Commitment, starts []uint64, n int) {
	t.Helper()
	for _, from := range starts {
		s, err := open(from)
		if err != nil {
			t.Fatalf("%s from %d: %v", name, from, err)
		}
		for i, v := range readN(t, ctx, s, n) {
			h, hash := hashOf(v)
			if h != from+uint64(i) || hash != want(h) {
				t.Errorf("%s from %d: item %d is height %d (hash %s), want height %d (hash %s)", name, from, i, h, hash.Short(), from+uint64(i), want(from+uint64(i)).Short())
			}
		}
		closeStream(t, ctx, s)
	}
}

// TestStreams reads every stream from height 0 and from a mid height and
// checks the items are the chain's, in order, each once.
func TestStreams(t *testing.T) {
	net, c, ctx := testNetwork(t)
	txs := submitAll(t, net, c, ctx)
	const n, mid = 12, 7
	net.WaitForHeight(max(mid+n, txs[len(txs)-1].loc.Height+1), 0)
	chain := net.Chains(0)[0]
	blockHash := func(h uint64) types.Commitment { return chain[h].Leaf.Header.Commit() }
	leafHash := func(h uint64) types.Commitment { return chain[h].Leaf.Commit() }
	starts := []uint64{0, mid}

	streamHeights(t, ctx, "StreamLeaves", func(from uint64) (*client.Stream[api.LeafQueryData], error) { return c.StreamLeaves(ctx, from) },
		func(v api.LeafQueryData) (uint64, types.Commitment) { return v.Leaf.Height(), v.Leaf.Commit() }, leafHash, starts, n)
	streamHeights(t, ctx, "StreamLeavesV1", func(from uint64) (*client.Stream[api.LeafQueryDataV1], error) { return c.StreamLeavesV1(ctx, from) },
		func(v api.LeafQueryDataV1) (uint64, types.Commitment) { return v.Leaf.Height(), v.Leaf.Commit() }, leafHash, starts, n)
	streamHeights(t, ctx, "StreamHeaders", func(from uint64) (*client.Stream[types.Header], error) { return c.StreamHeaders(ctx, from) },
		func(v types.Header) (uint64, types.Commitment) { return v.Height, v.Commit() }, blockHash, starts, n)
	streamHeights(t, ctx, "StreamBlocks", func(from uint64) (*client.Stream[api.BlockQueryData], error) { return c.StreamBlocks(ctx, from) },
		func(v api.BlockQueryData) (uint64, types.Commitment) {
			if v.Hash.String() != v.Header.Commit().Tagged(types.TagBlock).String() {
				t.Errorf("StreamBlocks: block %d has hash %s, its header commits to %s", v.Header.Height, v.Hash, v.Header.Commit().Tagged(types.TagBlock))
			}
			return v.Header.Height, v.Header.Commit()
		}, blockHash, starts, n)
	streamHeights(t, ctx, "StreamPayloads", func(from uint64) (*client.Stream[api.PayloadQueryData], error) { return c.StreamPayloads(ctx, from) },
		func(v api.PayloadQueryData) (uint64, types.Commitment) {
			c, _ := types.ParseCommitment(v.BlockHash.String(), types.TagBlock)
			return v.Height, c
		}, blockHash, starts, n)
	streamHeights(t, ctx, "StreamVidCommon", func(from uint64) (*client.Stream[api.VidCommonQueryData], error) { return c.StreamVidCommon(ctx, from) },
		func(v api.VidCommonQueryData) (uint64, types.Commitment) {
			c, _ := types.ParseCommitment(v.BlockHash.String(), types.TagBlock)
			return v.Height, c
		}, blockHash, starts, n)

	// Blocks by namespace: item i is block from+i.
	for _, from := range starts {
		s, err := c.StreamNamespaceBlocks(ctx, from, testNS)
		check(t, "StreamNamespaceBlocks", err)
		for i, v := range readN(t, ctx, s, n) {
			h := from + uint64(i)
			txs, _ := chain[h].Payload.Namespace(testNS)
			if !slices.EqualFunc(v.Transactions, txs, sameTx) || (v.Proof == nil) != (len(txs) == 0) {
				t.Errorf("StreamNamespaceBlocks from %d: item %d has %d transactions, block %d has %d in namespace %d", from, i, len(v.Transactions), h, len(txs), testNS)
			}
		}
		closeStream(t, ctx, s)
	}

	// Transactions: every submitted one, in chain order, each once; then
	// nothing more until the next is submitted, which comes on the same
	// stream (a Next that times out leaves the stream intact).
	slices.SortFunc(txs, func(a, b submitted) int {
		if a.loc.Height != b.loc.Height {
			return int(a.loc.Height) - int(b.loc.Height)
		}
		return int(a.loc.Index) - int(b.loc.Index)
	})
	for _, ns := range []uint64{0, testNS} {
		var want []submitted
		for _, s := range txs {
			if ns == 0 || s.tx.Namespace == ns {
				want = append(want, s)
			}
		}
		var s *client.Stream[api.TransactionQueryData]
		var err error
		if ns == 0 {
			s, err = c.StreamTransactions(ctx, 0)
		} else {
			s, err = c.StreamNamespaceTransactions(ctx, 0, ns)
		}
		check(t, "transaction stream", err)
		for i, got := range readN(t, ctx, s, len(want)) {
			w := want[i]
			if !sameTx(got.Transaction, w.tx) || got.BlockHeight != w.loc.Height || got.Index != w.loc.Index || got.Hash.String() != w.tx.Hash().String() {
				t.Errorf("transaction stream (namespace %d) item %d: %s at %d/%d, want %s at %d/%d", ns, i, got.Hash, got.BlockHeight, got.Index, w.tx.Hash(), w.loc.Height, w.loc.Index)
			}
		}
		if ns == testNS {
			short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			v, err := s.Next(short)
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Next with no transaction left: %+v, %v; want DeadlineExceeded", v, err)
			}
			tx := types.Transaction{Namespace: testNS, Payload: []byte("late")}
			if _, err := c.Submit(ctx, tx); err != nil {
				t.Fatal(err)
			}
			got, err := s.Next(ctx)
			if err != nil || !sameTx(got.Transaction, tx) {
				t.Errorf("Next after a timed-out Next: %+v, %v; want the late transaction", got, err)
			}
		}
		closeStream(t, ctx, s)
	}

	// Events: decides from now on, in order.
	s, err := c.StreamEvents(ctx)
	check(t, "StreamEvents", err)
	evs := readN(t, ctx, s, 4)
	closeStream(t, ctx, s)
	for i, e := range evs {
		if e.Decide == nil {
			t.Fatalf("event %d is not a decide: %s", i, e.Raw)
		}
		if i > 0 && e.Decide.Leaf.Height() != evs[i-1].Decide.Leaf.Height()+1 {
			t.Errorf("event %d decides height %d after %d", i, e.Decide.Leaf.Height(), evs[i-1].Decide.Leaf.Height())
		}
		leaf, err := c.Leaf(ctx, e.Decide.Leaf.Height())
		check(t, "Leaf", err)
		if leaf.Leaf.Commit() != e.Decide.Leaf.Commit() || e.View != uint64(e.Decide.Leaf.View) || e.Decide.QC.Leaf != leaf.Leaf.Commit() {
			t.Errorf("event %d: leaf %s in view %d, the chain's is %s", i, e.Decide.Leaf.Commit().Short(), e.View, leaf.Leaf.Commit().Short())
		}
	}

	// A parameter the server refuses fails the open, as an *APIError.
	_, err = c.StreamNamespaceBlocks(ctx, 0, 1<<33)
	wantErr(t, "StreamNamespaceBlocks with a namespace over 32 bits", err, client.ErrBadRequest)
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || !strings.Contains(apiErr.Message, "32 bits") {
		t.Errorf("open error %v, want the server's message", err)
	}
}

// goroutinesWith returns the stacks of the goroutines whose stack holds
// any of the given function names.
func goroutinesWith(names ...string) []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		for _, name := range names {
			if strings.Contains(g, name) {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

// Names of the functions of a stream's goroutines: the client's reader and
// the server's stream handler.
var streamFuncs = []string{"api/client.(*Stream[", "api.(*Router).Stream"}

// TestStreamLifecycle ends streams every way: Close mid-stream, Close
// while Next waits, the opening context ending, the server going away;
// and checks no goroutine of theirs is left.
func TestStreamLifecycle(t *testing.T) {
	net, c, ctx := testNetwork(t)
	net.WaitForHeight(5, 0)

	t.Run("Close mid-stream", func(t *testing.T) {
		s, err := c.StreamBlocks(ctx, 0)
		check(t, "StreamBlocks", err)
		readN(t, ctx, s, 3)
		closeStream(t, ctx, s)
		if err := s.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		// Close returns once the reader has handed over its last word; the
		// goroutine itself may still be on its way out for a moment.
		eventually(t, 5*time.Second, func() error {
			if g := goroutinesWith(streamFuncs[0]); len(g) != 0 {
				return fmt.Errorf("a reader goroutine outlived Close:\n%s", strings.Join(g, "\n\n"))
			}
			return nil
		})
	})

	t.Run("Close while Next waits", func(t *testing.T) {
		h, err := c.BlockHeight(ctx)
		check(t, "BlockHeight", err)
		s, err := c.StreamHeaders(ctx, h+1_000_000) // never reached in this test
		check(t, "StreamHeaders", err)
		go func() {
			time.Sleep(100 * time.Millisecond)
			s.Close()
		}()
		start := time.Now()
		if _, err := s.Next(ctx); !errors.Is(err, client.ErrClosed) {
			t.Errorf("Next during Close: %v, want ErrClosed", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Close took %v to end a waiting Next", d)
		}
		s.Close() // waits for the goroutine's Close to finish
	})

	t.Run("opening context ends", func(t *testing.T) {
		h, err := c.BlockHeight(ctx)
		check(t, "BlockHeight", err)
		sctx, cancel := context.WithCancel(ctx)
		s, err := c.StreamLeaves(sctx, h+1_000_000)
		check(t, "StreamLeaves", err)
		time.AfterFunc(100*time.Millisecond, cancel)
		_, err = s.Next(ctx)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Next after the stream's context ended: %v, want context.Canceled", err)
		}
		if _, err2 := s.Next(ctx); !errors.Is(err2, context.Canceled) {
			t.Errorf("second Next: %v, want the same error", err2)
		}
		if err := s.Close(); err != nil {
			t.Errorf("Close after the context ended: %v", err)
		}
	})

	t.Run("All", func(t *testing.T) {
		s, err := c.StreamPayloads(ctx, 1)
		check(t, "StreamPayloads", err)
		next := uint64(1)
		for p, err := range s.All(ctx) {
			check(t, "All", err)
			if p.Height != next {
				t.Fatalf("All: height %d, want %d", p.Height, next)
			}
			if next++; next == 4 {
				break
			}
		}
		closeStream(t, ctx, s)
	})

	t.Run("server goes away", func(t *testing.T) {
		c1, err := client.New(net.APIURL(1))
		check(t, "New", err)
		defer c1.CloseIdleConnections()
		h, err := c1.BlockHeight(ctx)
		check(t, "BlockHeight", err)
		s, err := c1.StreamBlocks(ctx, h+1_000_000)
		check(t, "StreamBlocks", err)
		defer s.Close()
		crashed := make(chan struct{})
		go func() {
			defer close(crashed)
			time.Sleep(100 * time.Millisecond)
			net.Crash(1)
		}()
		defer func() { <-crashed }()
		_, err = s.Next(ctx)
		var end *client.StreamEndError
		if !errors.Is(err, client.ErrStreamEnded) || !errors.As(err, &end) || errors.Is(err, client.ErrClosed) {
			t.Fatalf("Next as the node stops: %v, want a *StreamEndError", err)
		}
		if _, err2 := s.Next(ctx); err2 != err {
			t.Errorf("second Next: %v, want %v again", err2, err)
		}
		if end.Code != 1001 && end.Code != 1011 {
			t.Errorf("Next as the node stops: close code %d, want 1001 (going away) or 1011", end.Code)
		}
	})

	// The server ends its side of every stream once the client closed it.
	eventually(t, 10*time.Second, func() error {
		if g := goroutinesWith(streamFuncs...); len(g) != 0 {
			return fmt.Errorf("%d stream goroutines left:\n%s", len(g), strings.Join(g, "\n\n"))
		}
		return nil
	})
}
