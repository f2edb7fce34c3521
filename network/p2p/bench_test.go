package p2p

import (
	"fmt"
	"testing"
)

// BenchmarkSendLatency measures one direct message from one peer to another
// on loopback, from Send to its arrival on Incoming.
func BenchmarkSendLatency(b *testing.B) {
	for _, size := range []int{100, 100 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			trs := startNet(b, testKeys(b, 2), nil)
			msg := make([]byte, size)
			b.SetBytes(int64(size))
			for b.Loop() {
				if err := trs[0].Send(b.Context(), trs[1].Self(), msg); err != nil {
					b.Fatal(err)
				}
				<-trs[1].Incoming()
			}
		})
	}
}

// BenchmarkBroadcastLatency measures one gossip broadcast among four peers
// on loopback, from Broadcast until all three others have it.
func BenchmarkBroadcastLatency(b *testing.B) {
	for _, size := range []int{100, 100 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			trs := startNet(b, testKeys(b, 4), nil)
			msg := make([]byte, size)
			b.SetBytes(int64(size))
			for b.Loop() {
				if err := trs[0].Broadcast(b.Context(), consensusTopic, msg); err != nil {
					b.Fatal(err)
				}
				for _, tr := range trs[1:] {
					<-tr.Incoming()
				}
			}
		})
	}
}
