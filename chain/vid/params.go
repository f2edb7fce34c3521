package vid

import (
	"fmt"
	"math/big"
)

// MaxShards is the largest total shard count W NewParams accepts. Above 256
// shards the erasure code is Leopard over GF(2^16), which rounds the parity
// count W-k up to a power of two m and needs roundUp(k, m)+m <= 65536; with
// k = W/3+1 that holds for every W up to 49153 and fails at 49154.
const MaxShards = 49153

// DefaultMaxTotal is a total shard count for WeightsFromStake that keeps
// dispersal cheap (a few shards per node on a network of hundreds) while
// still following stake closely.
const DefaultMaxTotal = 1024

// Params fixes how a payload is dispersed over a stake table: node i (the
// stake-table index) holds weights[i] consecutive shards, W shards in all, of
// which any k = W/3+1 recover the payload. Build it with NewParams; the zero
// value is invalid and every function given it returns ErrInvalidParams.
type Params struct {
	// starts[i] is node i's first shard index; starts[len] is W.
	starts []int
}

// NewParams returns the parameters for nodes holding weights[i] shards each.
// Every weight must be at least 1 and the total W between 1 and MaxShards.
func NewParams(weights []uint64) (Params, error) {
	if len(weights) == 0 {
		return Params{}, fmt.Errorf("%w: no nodes, want at least one weight", ErrInvalidParams)
	}
	starts := make([]int, len(weights)+1)
	var total uint64
	for i, w := range weights {
		if w == 0 {
			return Params{}, fmt.Errorf("%w: node %d has weight 0, want at least 1", ErrInvalidParams, i)
		}
		if w > MaxShards || total+w > MaxShards {
			return Params{}, fmt.Errorf("%w: total weight exceeds %d shards at node %d", ErrInvalidParams, MaxShards, i)
		}
		starts[i] = int(total)
		total += w
	}
	starts[len(weights)] = int(total)
	return Params{starts: starts}, nil
}

// recoveryFor is the recovery threshold for a total of w shards.
func recoveryFor(w int) int { return w/3 + 1 }

// checkTotals reports whether (w, k) is a pair NewParams can produce.
func checkTotals(w, k int) error {
	if w < 1 || w > MaxShards {
		return fmt.Errorf("%w: total %d shards, want 1 to %d", ErrInvalidParams, w, MaxShards)
	}
	if k != recoveryFor(w) {
		return fmt.Errorf("%w: recovery threshold %d for %d shards, want %d", ErrInvalidParams, k, w, recoveryFor(w))
	}
	return nil
}

func (p Params) valid() error {
	if len(p.starts) < 2 {
		return fmt.Errorf("%w: zero Params, want one built by NewParams", ErrInvalidParams)
	}
	return nil
}

// Total is W, the number of shards each namespace is encoded into.
func (p Params) Total() int {
	if len(p.starts) == 0 {
		return 0
	}
	return p.starts[len(p.starts)-1]
}

// Recovery is k = W/3+1 (rounded down), the number of distinct shards that
// recover a namespace. It is 0 for the zero Params.
func (p Params) Recovery() int {
	if p.Total() == 0 {
		return 0
	}
	return recoveryFor(p.Total())
}

// Nodes is the number of nodes, the length of the weights.
func (p Params) Nodes() int {
	if len(p.starts) == 0 {
		return 0
	}
	return len(p.starts) - 1
}

// Shards returns node's shard indices as a range: first, first+1, ...,
// first+count-1. It returns (0, 0) for a node out of range.
func (p Params) Shards(node int) (first, count int) {
	if node < 0 || node >= p.Nodes() {
		return 0, 0
	}
	return p.starts[node], p.starts[node+1] - p.starts[node]
}

// WeightsFromStake turns stake amounts into shard weights. When the stakes
// sum to at most maxTotal they are used as they are; otherwise node i gets
// floor(stakes[i] * maxTotal / sum), computed exactly. Either way a weight
// below 1 (a zero stake, or a stake too small to earn a whole shard) is raised
// to 1, so every node holds a shard and the total is at most
// maxTotal + len(stakes). A maxTotal below 1 is treated as 1. Callers keep
// the total within MaxShards by choosing maxTotal + len(stakes) <= MaxShards.
func WeightsFromStake(stakes []uint64, maxTotal int) []uint64 {
	if maxTotal < 1 {
		maxTotal = 1
	}
	out := make([]uint64, len(stakes))
	sum := new(big.Int)
	for _, s := range stakes {
		sum.Add(sum, new(big.Int).SetUint64(s))
	}
	limit := big.NewInt(int64(maxTotal))
	scale := sum.Cmp(limit) > 0
	var x big.Int
	for i, s := range stakes {
		w := s
		if scale {
			x.SetUint64(s)
			x.Mul(&x, limit)
			x.Quo(&x, sum)
			w = x.Uint64() // at most maxTotal, so it fits
		}
		out[i] = max(w, 1)
	}
	return out
}
