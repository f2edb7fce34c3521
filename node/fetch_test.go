package node_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/network"
	"github.com/gospresso/gospresso/network/memnet"
	"github.com/gospresso/gospresso/node"
	"github.com/gospresso/gospresso/node/replica"
	"github.com/gospresso/gospresso/nodetest"
	"github.com/gospresso/gospresso/storage/mem"
	"github.com/gospresso/gospresso/types"
)

// metric returns the value of the unlabelled counter or gauge name of n.
func metric(t *testing.T, n *node.Node, name string) float64 {
	t.Helper()
	families, err := n.Metrics().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if m.Counter != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("metric %s missing", name)
	return 0
}

// answers collects the fetch responses a transport receives.
type answers struct {
	mu         sync.Mutex
	count      int
	bytes      int
	maxPayload uint64
	leaves     int
}

func (a *answers) collect(tr network.Transport) {
	for env := range tr.Incoming() {
		if env.Topic != "" {
			continue // gossip
		}
		f, err := replica.DecodeFrame(env.Data)
		if err != nil {
			continue
		}
		resp, ok := f.Consensus.(*consensus.FetchResponse)
		if !ok {
			continue
		}
		var payload uint64
		for _, l := range resp.Leaves {
			payload += l.Payload.Size()
		}
		a.mu.Lock()
		a.count++
		a.bytes += len(env.Data)
		a.leaves += len(resp.Leaves)
		a.maxPayload = max(a.maxPayload, payload)
		a.mu.Unlock()
	}
}

func (a *answers) get() (count, bytes, leaves int, maxPayload uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.count, a.bytes, a.leaves, a.maxPayload
}

// A member flooding a node with requests for missing leaves, fifty times
// faster than FetchRate, gets at most FetchRate a second plus FetchBurst
// answers, each within the byte budget, while the node goes on deciding
// with the others: the flood is refused on the run loop and served off it.
func TestFetchFloodFromMemberStaysWithinRate(t *testing.T) {
	synctest.Test(t, testFetchFloodFromMemberStaysWithinRate)
}

func testFetchFloodFromMemberStaysWithinRate(t *testing.T) {
	net := nodetest.New(t, nodetest.Nodes(4))
	net.WaitForHeight(70) // enough blocks for full 64-leaf answers
	net.Crash(3)
	flooder, err := net.Hub.Join(net.PeerID(3))
	if err != nil {
		t.Fatal(err)
	}
	var got answers
	collected := make(chan struct{})
	go func() { defer close(collected); got.collect(flooder) }()
	last, err := net.Store(0).LastDecided(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	req, err := replica.EncodeMessage(&consensus.FetchRequest{ID: 1, Leaf: last.Leaf.Commit()})
	if err != nil {
		t.Fatal(err)
	}
	target := net.Node(0)
	// The network's pace with node 3 out, for comparison.
	const flood = 5 * time.Second
	time.Sleep(time.Second)
	hb := target.BlockHeight()
	time.Sleep(flood)
	baseline := target.BlockHeight() - hb
	h0 := target.BlockHeight()
	begin := time.Now()
	sent := 0
	for time.Since(begin) < flood {
		if err := flooder.Send(t.Context(), net.PeerID(0), req); err != nil {
			t.Fatal(err)
		}
		sent++
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(begin)
	time.Sleep(100 * time.Millisecond) // the last answers arrive
	count, bytes, leaves, maxPayload := got.get()
	bound := int(replica.FetchRate*elapsed.Seconds()) + replica.FetchBurst
	t.Logf("%d requests in %v: %d answered (bound %d), %d leaves, %d bytes; %d refused; %d blocks decided meanwhile, %d in as long before",
		sent, elapsed, count, bound, leaves, bytes, int(metric(t, target, "consensus_fetch_requests_refused")), target.BlockHeight()-h0, baseline)
	if count > bound {
		t.Fatalf("%d answers in %v, want at most FetchRate×time+FetchBurst = %d", count, elapsed, bound)
	}
	if count < replica.FetchBurst {
		t.Fatalf("%d answers, want at least FetchBurst (%d): the member was starved", count, replica.FetchBurst)
	}
	if leaves != count*consensus.MaxFetchLeaves || maxPayload > consensus.MaxFetchBytes {
		t.Fatalf("%d leaves in %d answers, largest payload %d bytes; want %d leaves an answer within %d bytes",
			leaves, count, maxPayload, consensus.MaxFetchLeaves, consensus.MaxFetchBytes)
	}
	if refused := int(metric(t, target, "consensus_fetch_requests_refused")); refused+count+int(metric(t, target, "consensus_fetch_requests_dropped")) != sent {
		t.Fatalf("%d requests sent, %d answered, %d refused: some went unaccounted", sent, count, refused)
	}
	if h := target.BlockHeight(); baseline < 4 || h-h0 < baseline/2 {
		t.Fatalf("node 0 decided %d blocks during the flood, %d in as long before: want at least half as many", h-h0, baseline)
	}
	net.CheckSameChain(0, 1, 2)
	flooder.Close()
	<-collected
}

// observerNet is a one-member network (which decides on its own) whose node
// answers the configured observers, and peers outside the stake table:
// the observers and a stranger.
type observerNet struct {
	node      *node.Node
	store     node.Store
	id        network.PeerID
	observers []*memnet.Transport
	stranger  *memnet.Transport
}

func newObserverNet(t *testing.T, store node.Store, observers int) *observerNet {
	t.Helper()
	g, ks := testGenesis(t, 1)
	others, err := nodetest.Keys([32]byte{31: 9}, observers+1)
	if err != nil {
		t.Fatal(err)
	}
	hub := memnet.NewHub()
	o := &observerNet{store: store, id: node.PeerID(ks[0].Staking.PubKey())}
	tr, err := hub.Join(o.id)
	if err != nil {
		t.Fatal(err)
	}
	var ids []network.PeerID
	for i, k := range others {
		id := node.PeerID(k.Staking.PubKey())
		peer, err := hub.Join(id)
		if err != nil {
			t.Fatal(err)
		}
		if i == observers {
			o.stranger = peer
			continue
		}
		o.observers = append(o.observers, peer)
		ids = append(ids, id)
	}
	o.node, err = node.New(g, ks[0], node.WithStorage(store), node.WithNetwork(tr),
		node.WithConsensusConfig(nodetest.FastConsensus), node.WithFetchObservers(ids...))
	if err != nil {
		t.Fatal(err)
	}
	if err := o.node.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = o.node.Stop(context.Background()) })
	for deadline := time.Now().Add(10 * time.Second); o.node.BlockHeight() < 4; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the one-member network reached only height %d", o.node.BlockHeight())
		}
	}
	return o
}

// close closes the peers' transports (the node's is the node's to close).
func (o *observerNet) close() {
	for _, tr := range o.observers {
		tr.Close()
	}
	o.stranger.Close()
}

// request is a fetch request for the decided block at height h of o's node.
func (o *observerNet) request(t *testing.T, h uint64) []byte {
	t.Helper()
	b, err := o.store.BlockByHeight(t.Context(), h)
	if err != nil {
		t.Fatal(err)
	}
	req, err := replica.EncodeMessage(&consensus.FetchRequest{ID: h, Leaf: b.Leaf.Commit()})
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// A configured observer's request for missing leaves is answered; a
// stranger's (neither member nor observer) is refused and counted.
func TestFetchAnsweredToObserversOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := newObserverNet(t, mem.New(), 1)
		req := o.request(t, 2)
		var fromObserver, fromStranger answers
		var wg sync.WaitGroup
		wg.Go(func() { fromObserver.collect(o.observers[0]) })
		wg.Go(func() { fromStranger.collect(o.stranger) })
		for range 3 {
			if err := o.stranger.Send(t.Context(), o.id, req); err != nil {
				t.Fatal(err)
			}
			if err := o.observers[0].Send(t.Context(), o.id, req); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(2 * time.Second) // simulated: every answer has long arrived
		if n, _, _, _ := fromObserver.get(); n != 3 {
			t.Errorf("the observer got %d answers to 3 requests", n)
		}
		if n, _, _, _ := fromStranger.get(); n != 0 {
			t.Errorf("the stranger got %d answers", n)
		}
		if got := metric(t, o.node, "consensus_fetch_requests_not_allowed"); got != 3 {
			t.Errorf("consensus_fetch_requests_not_allowed = %v, want 3", got)
		}
		if got := metric(t, o.node, "consensus_fetch_requests_answered"); got != 3 {
			t.Errorf("consensus_fetch_requests_answered = %v, want 3", got)
		}
		if err := o.node.Stop(t.Context()); err != nil {
			t.Fatal(err)
		}
		o.close()
		wg.Wait()
	})
}

// slowLeafStore is a store whose BlockByLeaf (which only fetch serving uses)
// waits until released or its context ends.
type slowLeafStore struct {
	*mem.Store
	release chan struct{}
	calls   atomic.Int64
}

func (s *slowLeafStore) BlockByLeaf(ctx context.Context, c types.Commitment) (types.Block, error) {
	s.calls.Add(1)
	select {
	case <-s.release:
	case <-ctx.Done():
		return types.Block{}, ctx.Err()
	}
	return s.Store.BlockByLeaf(ctx, c)
}

// With fetch serving stuck on a slow store, requests beyond the bounded
// queue are dropped and counted, and the node goes on deciding: the run
// loop never waits for fetch serving. Once the store answers, exactly the
// queued requests are answered. Stop waits for the fetch server, even one
// stuck in a store read.
func TestFetchQueueBoundedAndOffTheRunLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const observers = 5
		st := &slowLeafStore{Store: mem.New(), release: make(chan struct{})}
		o := newObserverNet(t, st, observers)
		req := o.request(t, 2)
		var got answers
		var wg sync.WaitGroup
		for _, tr := range o.observers {
			wg.Go(func() { got.collect(tr) })
		}
		h0 := o.node.BlockHeight()
		// Every observer sends twice its burst at one (simulated) instant.
		sent := 0
		for range 2 * replica.FetchBurst {
			for _, tr := range o.observers {
				if err := tr.Send(t.Context(), o.id, req); err != nil {
					t.Fatal(err)
				}
				sent++
			}
		}
		synctest.Wait()
		time.Sleep(2 * time.Second)
		dropped := metric(t, o.node, "consensus_fetch_requests_dropped")
		refused := metric(t, o.node, "consensus_fetch_requests_refused")
		t.Logf("%d requests: %v refused (rate), %v dropped (queue full), %d store reads in flight; %d blocks decided meanwhile",
			sent, refused, dropped, st.calls.Load(), o.node.BlockHeight()-h0)
		admitted := observers * replica.FetchBurst
		if int(refused) != sent-admitted {
			t.Fatalf("%v refused, want %d", refused, sent-admitted)
		}
		if want := admitted - node.FetchQueueLen - int(st.calls.Load()); int(dropped) != want || st.calls.Load() != 1 {
			t.Fatalf("%v dropped with %d store reads in flight, want %d and 1", dropped, st.calls.Load(), want)
		}
		if h := o.node.BlockHeight(); h < h0+5 {
			t.Fatalf("decided %d blocks while fetch serving was stuck, want at least 5", h-h0)
		}
		close(st.release)
		time.Sleep(time.Second)
		if n, _, _, _ := got.get(); n == 0 {
			t.Fatal("no answer once the store answered")
		}
		if answered := metric(t, o.node, "consensus_fetch_requests_answered"); int(answered) != node.FetchQueueLen+1 {
			t.Fatalf("%v requests answered once the store answered, want the queued %d and the one in flight", answered, node.FetchQueueLen)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := o.node.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case <-node.FetchServerDone(o.node):
		default:
			t.Fatal("Stop returned before the fetch server finished")
		}
		o.close()
		wg.Wait()
	})
}
