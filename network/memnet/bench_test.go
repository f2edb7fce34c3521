package memnet_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gospresso/gospresso/network"
	"github.com/gospresso/gospresso/network/memnet"
)

// benchNet joins n peers and starts a reader per peer that counts what it
// receives; stop closes the transports and waits for the readers.
func benchNet(b *testing.B, n int) (trs []*memnet.Transport, hub *memnet.Hub, received *atomic.Uint64, stop func()) {
	b.Helper()
	hub = memnet.NewHub()
	received = new(atomic.Uint64)
	var readers sync.WaitGroup
	for i := range n {
		tr, err := hub.Join(network.PeerID(fmt.Sprintf("BLS_VER_KEY~bench-%d", i)))
		if err != nil {
			b.Fatal(err)
		}
		trs = append(trs, tr)
		readers.Go(func() {
			for range tr.Incoming() {
				received.Add(1)
			}
		})
	}
	return trs, hub, received, func() {
		for _, tr := range trs {
			_ = tr.Close()
		}
		readers.Wait()
	}
}

// report waits until every sent envelope is delivered or dropped and the
// readers have consumed the delivered ones, then reports delivered messages
// per second and drops per operation.
func report(b *testing.B, hub *memnet.Hub, received *atomic.Uint64, start time.Time) {
	b.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := hub.Stats()
		if st.Delivered+st.Dropped >= st.Sent && received.Load() >= st.Delivered {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("messages not drained: %+v, received %d", st, received.Load())
		}
		time.Sleep(50 * time.Microsecond)
	}
	elapsed := time.Since(start)
	st := hub.Stats()
	b.ReportMetric(float64(st.Delivered)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(st.Dropped)/float64(b.N), "drops/op")
}

// BenchmarkBroadcast4 measures one peer broadcasting 256-byte messages to the
// three others of a 4-peer hub, each receiver reading in its own goroutine.
// msgs/s counts delivered envelopes (three per broadcast).
func BenchmarkBroadcast4(b *testing.B) {
	trs, hub, received, stop := benchNet(b, 4)
	defer stop()
	msg := make([]byte, 256)
	ctx := b.Context()
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		if err := trs[0].Broadcast(ctx, "bench", msg); err != nil {
			b.Fatal(err)
		}
	}
	report(b, hub, received, start)
}

// BenchmarkBroadcast4AllSenders measures all four peers of a hub broadcasting
// 256-byte messages at once (b.RunParallel spreads the goroutines over the
// peers).
func BenchmarkBroadcast4AllSenders(b *testing.B) {
	trs, hub, received, stop := benchNet(b, 4)
	defer stop()
	msg := make([]byte, 256)
	ctx := b.Context()
	var next atomic.Uint64
	b.ReportAllocs()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		tr := trs[next.Add(1)%uint64(len(trs))]
		for pb.Next() {
			if err := tr.Broadcast(ctx, "bench", msg); err != nil {
				b.Error(err)
				return
			}
		}
	})
	report(b, hub, received, start)
}

// BenchmarkSend measures direct 256-byte messages between two peers.
func BenchmarkSend(b *testing.B) {
	trs, hub, received, stop := benchNet(b, 2)
	defer stop()
	msg := make([]byte, 256)
	ctx := b.Context()
	to := trs[1].Self()
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		if err := trs[0].Send(ctx, to, msg); err != nil {
			b.Fatal(err)
		}
	}
	report(b, hub, received, start)
}
