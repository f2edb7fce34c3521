package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/gospresso/gospresso/api"
	"github.com/gospresso/gospresso/nodetest"
	"github.com/gospresso/gospresso/types"
)

// submitLoop submits a transaction to node 0 every few milliseconds, in
// namespaces 7 and 8 by turns, until the returned stop is called.
func submitLoop(t *testing.T, net *nodetest.Network) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			nd := net.Node(0)
			if nd == nil {
				return
			}
			tx := types.Transaction{Namespace: uint64(7 + i%2), Payload: fmt.Appendf(nil, "stream-%d", i)}
			if _, err := nd.SubmitTransaction(ctx, tx); err != nil && ctx.Err() == nil {
				t.Errorf("submit: %v", err)
				return
			}
			select {
			case <-ctx.Done():
			case <-time.After(7 * time.Millisecond):
			}
		}
	})
	return func() { cancel(); wg.Wait() }
}

// streamKind is one stream route and how to check its items against the
// stored chain.
type streamKind struct {
	path string // after /v{major}/availability/, with %d for the height
	// perBlock: one item per block, whose height the item names.
	perBlock bool
	// ns > 0 filters transactions by namespace.
	ns uint64
}

// blockItemHeight decodes the height an item of a per-block stream names
// and checks the item against the stored block.
func checkBlockItem(t *testing.T, l *live, path string, raw json.RawMessage, h uint64) error {
	blk := l.block(t, h)
	switch {
	case strings.HasPrefix(path, "stream/leaves/"):
		var v struct {
			Leaf json.RawMessage         `json:"leaf"`
			QC   types.QuorumCertificate `json:"qc"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		var leaf types.Leaf
		if strings.Contains(string(v.Leaf), "with_epoch") {
			var l2 types.LeafV2
			if err := json.Unmarshal(v.Leaf, &l2); err != nil {
				return err
			}
			leaf = l2.Leaf
		} else if err := json.Unmarshal(v.Leaf, &leaf); err != nil {
			return err
		}
		if leaf.Height() != h || leaf.Commit() != blk.Leaf.Commit() || v.QC.Leaf != leaf.Commit() {
			return fmt.Errorf("leaf at height %d is not the stored one", leaf.Height())
		}
	case strings.HasPrefix(path, "stream/headers/"):
		var hd types.Header
		if err := json.Unmarshal(raw, &hd); err != nil {
			return err
		}
		if hd.Height != h || hd.Commit() != blk.Leaf.Header.Commit() {
			return fmt.Errorf("header at height %d is not the stored one", hd.Height)
		}
	case strings.HasPrefix(path, "stream/blocks/") && strings.Contains(path, "namespace"):
		var nd api.NamespaceProofQueryData
		if err := json.Unmarshal(raw, &nd); err != nil {
			return err
		}
		want, _ := blk.Payload.Namespace(7)
		if len(nd.Transactions) != len(want) {
			return fmt.Errorf("block %d: %d namespace transactions, want %d", h, len(nd.Transactions), len(want))
		}
		for i := range want {
			if nd.Transactions[i].Commit() != want[i].Commit() {
				return fmt.Errorf("block %d: namespace transaction %d differs", h, i)
			}
		}
	case strings.HasPrefix(path, "stream/blocks/"):
		var b struct {
			Header  types.Header  `json:"header"`
			Payload types.Payload `json:"payload"`
			Hash    string        `json:"hash"`
		}
		if err := json.Unmarshal(raw, &b); err != nil {
			return err
		}
		if b.Header.Height != h || b.Hash != blockHashOf(&blk).String() || !bytes.Equal(b.Payload.Raw, blk.Payload.Raw) {
			return fmt.Errorf("block at height %d is not the stored one", b.Header.Height)
		}
	case strings.HasPrefix(path, "stream/payloads/"):
		var p api.PayloadQueryData
		if err := json.Unmarshal(raw, &p); err != nil {
			return err
		}
		if p.Height != h || !bytes.Equal(p.Data.Raw, blk.Payload.Raw) || p.BlockHash.String() != blockHashOf(&blk).String() {
			return fmt.Errorf("payload at height %d is not the stored one", p.Height)
		}
	case strings.HasPrefix(path, "stream/vid/common/"):
		var v api.VidCommonQueryData
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		if v.Height != h || v.BlockHash.String() != blockHashOf(&blk).String() || v.Common.V1.PayloadByteLen != blk.Payload.Size() {
			return fmt.Errorf("VID common at height %d is not the stored one's", v.Height)
		}
	default:
		return fmt.Errorf("no check for %s", path)
	}
	return nil
}

// followBlocks reads a per-block stream from height from until it has the
// item of height target, and checks every height comes exactly once, in
// order, with the stored data.
func followBlocks(ctx context.Context, t *testing.T, l *live, major int, path string, from, target uint64) error {
	full := fmt.Sprintf("/v%d/availability/"+path, major, from)
	conn := dialStream(ctx, t, l.c.base, full)
	defer conn.CloseNow()
	for h := from; h <= target; h++ {
		var raw json.RawMessage
		if err := readItem(ctx, conn, &raw); err != nil {
			return fmt.Errorf("%s: item for height %d: %w", full, h, err)
		}
		if err := checkBlockItem(t, l, path, raw, h); err != nil {
			return fmt.Errorf("%s: item %d (want height %d): %w", full, h-from, h, err)
		}
	}
	return conn.Close(websocket.StatusNormalClosure, "")
}

// followTransactions reads a transaction stream from height from until an
// item of a block at or above target, and checks the items are exactly the
// chain's transactions (of namespace ns, if > 0) in order.
func followTransactions(ctx context.Context, t *testing.T, l *live, from, target, ns uint64) error {
	path := fmt.Sprintf("/v0/availability/stream/transactions/%d", from)
	if ns > 0 {
		path += fmt.Sprintf("/namespace/%d", ns)
	}
	conn := dialStream(ctx, t, l.c.base, path)
	defer conn.CloseNow()
	var got []api.TransactionQueryData
	for len(got) == 0 || got[len(got)-1].BlockHeight < target {
		var td api.TransactionQueryData
		if err := readItem(ctx, conn, &td); err != nil {
			return fmt.Errorf("%s: item %d: %w", path, len(got), err)
		}
		got = append(got, td)
	}
	// The expected items: every transaction of blocks from.. up to the last
	// item's.
	last := got[len(got)-1]
	var want []api.TransactionQueryData
	for h := from; h <= last.BlockHeight; h++ {
		blk := l.block(t, h)
		txs, err := blk.Payload.Transactions()
		if err != nil {
			return err
		}
		for i, tx := range txs {
			if ns > 0 && tx.Namespace != ns {
				continue
			}
			want = append(want, api.TransactionQueryData{Transaction: tx, Index: uint64(i), BlockHeight: h})
			if h == last.BlockHeight && uint64(i) == last.Index {
				break
			}
		}
	}
	if len(got) != len(want) {
		return fmt.Errorf("%s: %d items, want %d", path, len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.BlockHeight != w.BlockHeight || g.Index != w.Index || g.Transaction.Commit() != w.Transaction.Commit() ||
			g.Hash.String() != w.Transaction.Commit().Tagged(types.TagTransaction).String() {
			return fmt.Errorf("%s: item %d is transaction %d of block %d, want %d of block %d", path, i, g.Index, g.BlockHeight, w.Index, w.BlockHeight)
		}
	}
	if len(got) < 3 {
		return fmt.Errorf("%s: only %d transactions", path, len(got))
	}
	return conn.Close(websocket.StatusNormalClosure, "")
}

// followEvents reads decide events until one of height target, and checks
// they come once each, in height order, from about the height at connect.
func followEvents(ctx context.Context, t *testing.T, l *live, target uint64) error {
	before := l.net.Node(0).BlockHeight()
	conn := dialStream(ctx, t, l.c.base, "/v0/hotshot-events/events")
	defer conn.CloseNow()
	var prev uint64
	for first := true; ; first = false {
		var ev struct {
			Event struct {
				Decide struct {
					Leaf types.Leaf `json:"leaf"`
				} `json:"Decide"`
			} `json:"event"`
		}
		if err := readItem(ctx, conn, &ev); err != nil {
			return err
		}
		leaf := ev.Event.Decide.Leaf
		h := leaf.Height()
		stored := l.block(t, h)
		switch {
		case first && h < before:
			return fmt.Errorf("events: first decide at height %d, below %d at connect", h, before)
		case !first && h != prev+1:
			return fmt.Errorf("events: height %d after %d", h, prev)
		case leaf.Commit() != stored.Leaf.Commit():
			return fmt.Errorf("events: leaf at height %d is not the stored one", h)
		}
		prev = h
		if h >= target {
			return conn.Close(websocket.StatusNormalClosure, "")
		}
	}
}

// TestStreams follows every stream from height 0 and from mid-way, each
// across new decides with transactions: every item exactly once, in order.
func TestStreams(t *testing.T) {
	l := startLive(t)
	stop := submitLoop(t, l.net)
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()

	now := l.net.Node(0).BlockHeight()
	mid := now - 2
	target := now + 12 // not decided yet: the streams go live
	perBlock := []string{"stream/leaves/%d", "stream/headers/%d", "stream/blocks/%d", "stream/payloads/%d", "stream/vid/common/%d", "stream/blocks/%d/namespace/7"}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	run := func(f func() error) { wg.Go(func() { errs <- f() }) }
	for _, major := range []int{0, 1} {
		for _, p := range perBlock {
			for _, from := range []uint64{0, mid} {
				run(func() error { return followBlocks(ctx, t, l, major, p, from, target) })
			}
		}
	}
	for _, ns := range []uint64{0, 7, 8} {
		for _, from := range []uint64{0, mid} {
			run(func() error { return followTransactions(ctx, t, l, from, target, ns) })
		}
	}
	run(func() error { return followEvents(ctx, t, l, target) })
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if h := l.net.Node(0).BlockHeight(); h <= target {
		t.Fatalf("the chain is at %d, the streams were to reach %d", h, target)
	}
}

// TestStreamClientGone checks that a stream whose client goes away (with a
// close frame or abruptly) leaves no goroutine behind, while the server
// keeps running, and that nothing of the server outlives the network.
func TestStreamClientGone(t *testing.T) {
	snapshot := goleak.IgnoreCurrent()
	waitFor(t, "earlier tests' streams to end", waitTimeout, func() bool { return streamGoroutines() == 0 })
	net := nodetest.New(t, nodetest.Nodes(4), nodetest.Timeout(waitTimeout), nodetest.API(allModules(t)))
	net.WaitForHeight(3, 0)
	base := net.APIURL(0)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()

	var conns []*websocket.Conn
	tip := net.Node(0).BlockHeight() + 1_000_000 // never reached: the streams wait
	for _, p := range []string{
		"/v0/availability/stream/blocks/0", "/v0/availability/stream/leaves/1", "/v1/availability/stream/headers/0",
		"/v0/availability/stream/transactions/0", "/v0/availability/stream/blocks/0/namespace/7", "/v0/hotshot-events/events",
		fmt.Sprintf("/v0/availability/stream/payloads/%d", tip), fmt.Sprintf("/v0/availability/stream/vid/common/%d", tip),
		fmt.Sprintf("/v0/availability/stream/transactions/%d/namespace/9", tip),
	} {
		c := dialStream(ctx, t, base, p)
		conns = append(conns, c)
		if !strings.Contains(p, fmt.Sprint(tip)) && !strings.Contains(p, "transactions") {
			var raw json.RawMessage
			if err := readItem(ctx, c, &raw); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
		}
	}
	waitFor(t, "stream handlers to start", waitTimeout, func() bool { return streamGoroutines() == len(conns) })
	for i, c := range conns {
		if i%2 == 0 {
			c.CloseNow() // abruptly: no close frame
		} else {
			_ = c.Close(websocket.StatusNormalClosure, "bye")
		}
	}
	// The network runs on; the handlers end.
	waitFor(t, "stream handlers to end after their clients left", waitTimeout, func() bool { return streamGoroutines() == 0 })
	before := net.Node(0).BlockHeight()
	net.WaitForHeight(before+2, 0)

	// Once the network and its servers stop, nothing is left.
	net.Stop()
	http.DefaultClient.CloseIdleConnections()
	goleak.VerifyNone(t, snapshot)
}

// TestStreamStalledChain checks that a stream waiting on a chain that no
// longer decides ends when its client goes away, and that stopping the node
// ends such a stream too.
func TestStreamStalledChain(t *testing.T) {
	waitFor(t, "earlier tests' streams to end", waitTimeout, func() bool { return streamGoroutines() == 0 })
	net := nodetest.New(t, nodetest.Nodes(4), nodetest.Timeout(waitTimeout), nodetest.API(allModules(t)))
	net.WaitForHeight(3)
	// Two of four nodes down: no quorum, the chain stalls.
	net.Crash(2)
	net.Crash(3)
	var h uint64
	waitFor(t, "the chain to stall", waitTimeout, func() bool {
		h = net.Node(0).BlockHeight()
		time.Sleep(300 * time.Millisecond)
		return net.Node(0).BlockHeight() == h && net.Node(1).BlockHeight() == h
	})
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	base := net.APIURL(0)

	// From 0: the stored blocks, then nothing.
	c0 := dialStream(ctx, t, base, "/v0/availability/stream/blocks/0")
	for i := range h {
		var raw json.RawMessage
		if err := readItem(ctx, c0, &raw); err != nil {
			t.Fatalf("stored block %d: %v", i, err)
		}
	}
	// At the tip: nothing at all.
	cTip := dialStream(ctx, t, base, fmt.Sprintf("/v0/availability/stream/headers/%d", h))
	cEv := dialStream(ctx, t, base, "/v0/hotshot-events/events")
	waitFor(t, "three stream handlers", waitTimeout, func() bool { return streamGoroutines() == 3 })
	short, cancelShort := context.WithTimeout(ctx, 200*time.Millisecond)
	var raw json.RawMessage
	if err := readItem(short, cTip, &raw); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a stalled chain sent %s (%v)", raw, err)
	}
	cancelShort()

	// Clients gone (abruptly and with a close frame): handlers end though
	// nothing is decided.
	cTip.CloseNow()
	_ = c0.Close(websocket.StatusNormalClosure, "")
	waitFor(t, "stalled streams to end after their clients left", waitTimeout, func() bool { return streamGoroutines() == 1 })
	if net.Node(0).BlockHeight() != h {
		t.Fatal("the chain moved")
	}

	// Stopping the node ends the last stream: its client sees the close.
	stopped := make(chan struct{})
	go func() { net.Crash(0); close(stopped) }()
	_, _, err := cEv.Read(ctx)
	if status := websocket.CloseStatus(err); status != websocket.StatusGoingAway && status != websocket.StatusNormalClosure {
		t.Fatalf("after the node stopped the stream read %v (status %v)", err, status)
	}
	select {
	case <-stopped:
	case <-ctx.Done():
		t.Fatal("stopping a node with an open stream on a stalled chain hangs")
	}
	waitFor(t, "no stream handler", waitTimeout, func() bool { return streamGoroutines() == 0 })
}

// TestStreamNeedsWebSocket: a plain GET of every stream route is 426.
func TestStreamNeedsWebSocket(t *testing.T) {
	srv, _ := newFakeServer(t)
	c := newClient(t, serve(t, srv))
	n := 0
	for _, r := range indexRoutes(t, c) {
		if !strings.Contains(r, "/stream/") && !strings.HasSuffix(r, "/events") {
			continue
		}
		path := strings.TrimPrefix(fill(r, func(name string) string {
			if name == "namespace" {
				return "7"
			}
			return "1"
		}), "GET ")
		for _, hdr := range []http.Header{nil, {"Upgrade": {"websocket"}}, {"Connection": {"upgrade"}}, {"Connection": {"keep-alive"}, "Upgrade": {"h2c"}}} {
			resp, b := c.do(http.MethodGet, path, nil, hdr)
			if err := checkErrorBody(resp, b, http.StatusUpgradeRequired); err != nil {
				t.Errorf("%s with %v: %v", path, hdr, err)
			}
		}
		n++
	}
	if n != 17 {
		t.Fatalf("%d stream routes", n)
	}
}
