package state

import (
	"fmt"
	"sync"
	"testing"

	"github.com/gospresso/gospresso/types"
)

const benchAccounts = 100_000

// benchGenesis is a state of 100,000 funded accounts, built once: states
// are immutable, so every benchmark may start from it.
var benchGenesis = sync.OnceValues(func() (*State, []types.Address) {
	r := newRand(40)
	m := make(map[types.Address]types.U256, benchAccounts)
	addrs := make([]types.Address, 0, benchAccounts)
	for len(m) < benchAccounts {
		a := randAddr(r)
		if _, dup := m[a]; dup {
			continue
		}
		m[a] = u(1e18)
		addrs = append(addrs, a)
	}
	return Genesis(m), addrs
})

// BenchmarkApply applies blocks to a state of 100,000 fee accounts and
// reports ms/block. It models a block of 1,000 transactions as the
// transition sees it (docs/state.md, "The transition"): the transactions
// themselves do not touch the state in this version, so a block is one
// fee charge (a debit of the builder's account and a credit of the fee
// recipient), the append of the parent's commitment, and the block's L1
// deposits: a handful in the usual case (half to existing accounts, half
// to new ones), and 1,000 to bound the heavy case.
func BenchmarkApply(b *testing.B) {
	for _, deposits := range []int{0, 4, 1000} {
		b.Run(fmt.Sprintf("deposits=%d", deposits), func(b *testing.B) {
			s, addrs := benchGenesis()
			r := newRand(uint64(41 + deposits))
			// Inputs for a cycle of blocks, made before the clock runs.
			const cycle = 64
			credits := make([][]Credit, cycle)
			fees := make([]types.FeeInfo, cycle)
			for i := range cycle {
				for j := range deposits {
					a := randAddr(r)
					if j%2 == 0 {
						a = addrs[r.IntN(len(addrs))]
					}
					credits[i] = append(credits[i], Credit{a, u(1 + r.Uint64N(1e15))})
				}
				fees[i] = types.FeeInfo{Account: addrs[r.IntN(len(addrs))], Amount: u(1000 * 100)} // 1,000 txs of 100 bytes, base fee 1
			}
			parent := header(0, types.FeeInfo{})
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				h := header(parent.Height+1, fees[i%cycle])
				next, err := s.Apply(parent, h, credits[i%cycle])
				if err != nil {
					b.Fatal(err)
				}
				s, parent = next, h
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/block")
		})
	}
}

// BenchmarkGenesis builds the fee tree of 100,000 prefunded accounts.
func BenchmarkGenesis(b *testing.B) {
	_, addrs := benchGenesis()
	m := make(map[types.Address]types.U256, len(addrs))
	for _, a := range addrs {
		m[a] = u(1e18)
	}
	b.ResetTimer()
	for range b.N {
		Genesis(m)
	}
}

// BenchmarkSnapshot encodes and decodes the snapshot of a state of
// 100,000 accounts (5.2 MB).
func BenchmarkSnapshot(b *testing.B) {
	s, _ := benchGenesis()
	enc := s.Encode()
	b.Run("encode", func(b *testing.B) {
		b.SetBytes(int64(len(enc)))
		for range b.N {
			s.Encode()
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(enc)))
		for range b.N {
			if _, err := DecodeState(enc); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkFeeProof proves and verifies an account's balance in a tree of
// 100,000 accounts.
func BenchmarkFeeProof(b *testing.B) {
	s, addrs := benchGenesis()
	tr := s.FeeTree()
	root := tr.Root()
	b.Run("prove", func(b *testing.B) {
		for i := range b.N {
			tr.Prove(addrs[i%len(addrs)])
		}
	})
	b.Run("verify", func(b *testing.B) {
		p := tr.Prove(addrs[0])
		for range b.N {
			if _, _, err := VerifyFeeProof(root, addrs[0], &p); err != nil {
				b.Fatal(err)
			}
		}
	})
}
