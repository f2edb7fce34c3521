package p2p

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gospresso/gospresso/network"
	"github.com/gospresso/gospresso/network/networktest"
)

// renamed presents a Transport under the PeerIDs the conformance suite
// chooses ("BLS_VER_KEY~networktest-peer-i"), translating them to and from
// the real staking key texts a p2p transport is named by.
type renamed struct {
	*Transport
	self   network.PeerID
	toReal map[network.PeerID]network.PeerID
	toTest map[network.PeerID]network.PeerID
	out    chan network.Envelope
	done   chan struct{}
	once   sync.Once
}

func (r *renamed) Self() network.PeerID { return r.self }

func (r *renamed) Send(ctx context.Context, to network.PeerID, msg []byte) error {
	if real, ok := r.toReal[to]; ok {
		to = real
	}
	return r.Transport.Send(ctx, to, msg)
}

func (r *renamed) Incoming() <-chan network.Envelope { return r.out }

func (r *renamed) Close() error {
	r.once.Do(func() { close(r.done) })
	return r.Transport.Close()
}

// forward copies the inner transport's messages, renaming their senders,
// until the inner Incoming closes.
func (r *renamed) forward() {
	defer close(r.out)
	for env := range r.Transport.Incoming() {
		env.From = r.toTest[env.From]
		select {
		case r.out <- env:
		case <-r.done:
		}
	}
}

func newConformanceNet(t *testing.T, ids []network.PeerID) []network.Transport {
	ks := testKeys(t, len(ids))
	trs := startNet(t, ks, nil)
	toReal := make(map[network.PeerID]network.PeerID)
	toTest := make(map[network.PeerID]network.PeerID)
	for i, tr := range trs {
		toReal[ids[i]] = tr.Self()
		toTest[tr.Self()] = ids[i]
	}
	out := make([]network.Transport, len(trs))
	var wg sync.WaitGroup
	for i, tr := range trs {
		r := &renamed{Transport: tr, self: ids[i], toReal: toReal, toTest: toTest,
			out: make(chan network.Envelope, 16), done: make(chan struct{})}
		wg.Go(r.forward)
		out[i] = r
	}
	t.Cleanup(func() {
		for _, r := range out {
			_ = r.Close()
		}
		wg.Wait()
	})
	return out
}

// TestConformance runs the network conformance suite against four
// transports on loopback QUIC.
func TestConformance(t *testing.T) {
	networktest.Run(t, newConformanceNet, networktest.Ordered(), networktest.WithTimeout(15*time.Second),
		networktest.WithQuiet(300*time.Millisecond))
}
