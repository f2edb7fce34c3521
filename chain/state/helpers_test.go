package state

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gospresso/gospresso/types"
)

// The reference implementations below compute roots straight from the
// definitions of docs/state.md ("Hashes"), with no path compression and
// without the package's hashing helpers, so that the trees are checked
// against the documented bytes.

func sha(parts ...[]byte) [32]byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// refFeeRoot is the fee-tree root of balances by the definition.
func refFeeRoot(balances map[types.Address]types.U256) []byte {
	var addrs []types.Address
	for a, b := range balances {
		if !b.IsZero() {
			addrs = append(addrs, a)
		}
	}
	slices.SortFunc(addrs, func(x, y types.Address) int { return bytes.Compare(x[:], y[:]) })
	if len(addrs) == 0 {
		r := sha([]byte{0x01, FeeTreeDepth})
		return r[:]
	}
	r := refFee(FeeTreeDepth, addrs, balances)
	return r[:]
}

func refFee(h int, addrs []types.Address, balances map[types.Address]types.U256) [32]byte {
	if h == 0 {
		b := balances[addrs[0]].Bytes32()
		return sha([]byte{0x00}, addrs[0][:], b[:])
	}
	parts := [][]byte{{0x01, byte(h)}}
	d := FeeTreeDepth - h
	for len(addrs) > 0 {
		i := addrs[0][d]
		j := 1
		for j < len(addrs) && addrs[j][d] == i {
			j++
		}
		k := refFee(h-1, addrs[:j], balances)
		parts = append(parts, []byte{i}, k[:])
		addrs = addrs[j:]
	}
	return sha(parts...)
}

// refBlockRoot is the block-tree root of leaves by the definition.
func refBlockRoot(leaves []types.Commitment) []byte {
	var def [BlockTreeDepth + 1][32]byte
	for h := 1; h <= BlockTreeDepth; h++ {
		def[h] = sha([]byte{0x03, byte(h)}, def[h-1][:], def[h-1][:], def[h-1][:])
	}
	var rec func(h int, start uint64) [32]byte
	rec = func(h int, start uint64) [32]byte {
		if start >= uint64(len(leaves)) {
			return def[h]
		}
		if h == 0 {
			return sha([]byte{0x02}, leaves[start][:])
		}
		var w uint64 = 1
		for range h - 1 {
			w *= 3
		}
		a, b, c := rec(h-1, start), rec(h-1, start+w), rec(h-1, start+2*w)
		return sha([]byte{0x03, byte(h)}, a[:], b[:], c[:])
	}
	r := rec(BlockTreeDepth, 0)
	return r[:]
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

func randAddr(r *rand.Rand) (a types.Address) {
	for i := range a {
		a[i] = byte(r.Uint32())
	}
	return a
}

func randCommit(r *rand.Rand) (c types.Commitment) {
	for i := range c {
		c[i] = byte(r.Uint32())
	}
	return c
}

// addrWithPrefix returns an address sharing its first n bytes with p and
// random after them (differing from p at byte n when n < 20).
func addrWithPrefix(r *rand.Rand, p types.Address, n int) types.Address {
	a := randAddr(r)
	copy(a[:n], p[:n])
	if n < len(a) && a[n] == p[n] {
		a[n] ^= 0x80
	}
	return a
}

func u(x uint64) types.U256 { return types.NewU256(x) }

func maxU256() types.U256 {
	var b [32]byte
	for i := range b {
		b[i] = 0xff
	}
	return types.U256FromBytes32(b)
}

func addr(b ...byte) (a types.Address) {
	copy(a[len(a)-len(b):], b)
	return a
}

func mustHex(t testing.TB, b []byte) string {
	t.Helper()
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, x := range b {
		out[2*i], out[2*i+1] = digits[x>>4], digits[x&15]
	}
	return string(out)
}
