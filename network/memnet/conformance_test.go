package memnet_test

import (
	"testing"
	"time"

	"github.com/gospresso/gospresso/network"
	"github.com/gospresso/gospresso/network/memnet"
	"github.com/gospresso/gospresso/network/networktest"
)

// newNet returns a networktest.NewNet that joins every id to a fresh hub with
// the given filter installed.
func newNet(filter memnet.Filter, opts ...memnet.Option) networktest.NewNet {
	return func(t *testing.T, ids []network.PeerID) []network.Transport {
		hub := memnet.NewHub(opts...)
		hub.SetFilter(filter)
		trs := make([]network.Transport, len(ids))
		for i, id := range ids {
			tr, err := hub.Join(id)
			if err != nil {
				t.Fatalf("Join(%s): %v", id, err)
			}
			trs[i] = tr
		}
		return trs
	}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	networktest.Run(t, newNet(nil), networktest.Ordered())
}

// A filter that decides nothing keeps every guarantee, order included.
func TestConformanceIdleFilter(t *testing.T) {
	t.Parallel()
	networktest.Run(t, newNet(memnet.Chain(memnet.DropRate(1, 0), memnet.DuplicateRate(1, 0))), networktest.Ordered())
}

// With random delays messages are reordered but none is lost.
func TestConformanceRandomDelay(t *testing.T) {
	t.Parallel()
	networktest.Run(t, newNet(memnet.RandomDelay(7, 0, 2*time.Millisecond)))
}

// The smallest queue the suite documents as enough.
func TestConformanceSmallQueue(t *testing.T) {
	t.Parallel()
	networktest.Run(t, newNet(nil, memnet.WithQueueSize(1024)), networktest.Ordered())
}
