package node_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/network"
	"github.com/gospresso/gospresso/network/memnet"
	"github.com/gospresso/gospresso/node"
	"github.com/gospresso/gospresso/node/replica"
	"github.com/gospresso/gospresso/storage/mem"
	"github.com/gospresso/gospresso/types"
)

// A member whose vote signature is bad is reported to a scoring transport
// when the vote set is aggregated, which happens while another member's
// (good) vote is delivered: the bad signer is reported, the good voters
// are not.
func TestBadVoteSignersAreReported(t *testing.T) { synctest.Test(t, testBadVoteSignersAreReported) }

func testBadVoteSignersAreReported(t *testing.T) {
	g, ks := testGenesis(t, 4)
	setup, err := replica.NewSetup(g)
	if err != nil {
		t.Fatal(err)
	}
	hub := memnet.NewHub()
	const collector = 2 // leader of view 2 collects the votes of view 1
	peers := make([]network.Transport, 4)
	for i := range peers {
		if peers[i], err = hub.Join(node.PeerID(ks[i].Staking.PubKey())); err != nil {
			t.Fatal(err)
		}
		if i != collector {
			defer peers[i].Close()
		}
	}
	rt := &reporting{Transport: peers[collector], reports: make(map[network.PeerID][]error)}
	n, err := node.New(g, ks[collector], node.WithStorage(mem.New()), node.WithNetwork(rt))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	if err := n.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	leaf := types.Commitment{0x42}
	vote := func(i int, good bool) {
		t.Helper()
		sig := consensus.SignVote(ks[i].Staking, setup.Commitment, 1, leaf)
		if !good {
			sig = ks[i].Staking.Sign([]byte("not this vote"))
		}
		data, err := replica.EncodeMessage(&consensus.Vote{View: 1, Leaf: leaf, Signer: uint32(i), Signature: sig})
		if err != nil {
			t.Fatal(err)
		}
		if err := peers[i].Send(t.Context(), peers[collector].Self(), data); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond) // fake time: lets the run loop take the message
		synctest.Wait()
	}
	vote(3, false)
	vote(0, true)
	vote(1, true) // the third vote: the set is aggregated and member 3's vote caught
	if got := rt.count(peers[3].Self()); got != 1 {
		t.Fatalf("%d reports of the member with a bad vote signature, want 1", got)
	}
	for _, i := range []int{0, 1} {
		if got := rt.count(peers[i].Self()); got != 0 {
			t.Fatalf("%d reports of member %d, which voted correctly", got, i)
		}
	}
	rt.mu.Lock()
	reason := rt.reports[peers[3].Self()][0]
	rt.mu.Unlock()
	if !errors.Is(reason, consensus.ErrInvalidMessage) {
		t.Fatalf("reported for %v, want an error wrapping consensus.ErrInvalidMessage", reason)
	}
	if st := n.Stats(); st.Faults != 1 || st.BadVoteSignatures != 1 {
		t.Fatalf("%d faults and %d bad vote signatures counted, want 1 and 1", st.Faults, st.BadVoteSignatures)
	}
}
