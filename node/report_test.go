package node_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gospresso/gospresso/network"
	"github.com/gospresso/gospresso/network/memnet"
	"github.com/gospresso/gospresso/node"
	"github.com/gospresso/gospresso/storage/mem"
)

// reporting is a transport that records what the node reports of peers.
type reporting struct {
	network.Transport
	mu      sync.Mutex
	reports map[network.PeerID][]error
}

func (r *reporting) Report(p network.PeerID, reason error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reports[p] = append(r.reports[p], reason)
}

func (r *reporting) count(p network.PeerID) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reports[p])
}

// A peer whose messages do not decode is reported to a scoring transport.
func TestBadPeersAreReported(t *testing.T) { synctest.Test(t, testBadPeersAreReported) }

func testBadPeersAreReported(t *testing.T) {
	g, ks := testGenesis(t, 2)
	hub := memnet.NewHub()
	tr, err := hub.Join(node.PeerID(ks[0].Staking.PubKey()))
	if err != nil {
		t.Fatal(err)
	}
	bad, err := hub.Join(node.PeerID(ks[1].Staking.PubKey()))
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	rt := &reporting{Transport: tr, reports: make(map[network.PeerID][]error)}
	n, err := node.New(g, ks[0], node.WithStorage(mem.New()), node.WithNetwork(rt))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	if err := n.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, junk := range [][]byte{{'x'}, {'c', 0xff}, {'t', 1}} {
		if err := bad.Send(t.Context(), tr.Self(), junk); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(10 * time.Millisecond) // fake time: lets the run loop take the messages
	synctest.Wait()
	if got := rt.count(bad.Self()); got != 3 {
		t.Fatalf("%d reports of the peer that sent 3 undecodable messages, want 3", got)
	}
}
