package vid

import (
	"fmt"
	"testing"
	"time"

	"github.com/gospresso/gospresso/types"
)

var benchCases = []struct{ sizeMB, nodes int }{
	{1, 10}, {1, 100}, {5, 10}, {5, 100},
}

// benchPayload is about sizeMB megabytes of 10 KB transactions in four
// namespaces.
func benchPayload(b *testing.B, sizeMB int) types.Payload {
	const txSize = 10 << 10
	n := sizeMB * 1_000_000 / txSize
	return mustPayload(b, makeTxs(uint64(sizeMB), []uint64{1, 2, 3, 4}, n, txSize, txSize))
}

func reportMBps(b *testing.B, payloadLen, iters int, elapsed time.Duration) {
	b.ReportMetric(float64(payloadLen)*float64(iters)/1e6/elapsed.Seconds(), "MB/s")
}

func BenchmarkVIDEncode(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(fmt.Sprintf("size=%dMB/nodes=%d", bc.sizeMB, bc.nodes), func(b *testing.B) {
			p := uniformParams(b, bc.nodes)
			payload := benchPayload(b, bc.sizeMB)
			b.ResetTimer()
			for range b.N {
				if _, _, _, err := Disperse(p, payload); err != nil {
					b.Fatal(err)
				}
			}
			reportMBps(b, len(payload.Raw), b.N, b.Elapsed())
		})
	}
}

// BenchmarkVIDDecode recovers from the last nodes' shares, exactly k shards
// and as many parity shards as possible, the worst case for decoding.
func BenchmarkVIDDecode(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(fmt.Sprintf("size=%dMB/nodes=%d", bc.sizeMB, bc.nodes), func(b *testing.B) {
			p := uniformParams(b, bc.nodes)
			payload := benchPayload(b, bc.sizeMB)
			c, common, shares, err := Disperse(p, payload)
			if err != nil {
				b.Fatal(err)
			}
			subset := shares[bc.nodes-p.Recovery():]
			b.ResetTimer()
			for range b.N {
				if _, _, err := Recover(p, c, common, subset); err != nil {
					b.Fatal(err)
				}
			}
			reportMBps(b, len(payload.Raw), b.N, b.Elapsed())
		})
	}
}
