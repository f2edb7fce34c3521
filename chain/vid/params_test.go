package vid

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gospresso/gospresso/types"
	"github.com/klauspost/reedsolomon"
)

func TestNewParams(t *testing.T) {
	tests := []struct {
		name    string
		weights []uint64
		wantErr bool
		total   int
		k       int
	}{
		{name: "one node", weights: []uint64{1}, total: 1, k: 1},
		{name: "four nodes", weights: []uint64{1, 1, 1, 1}, total: 4, k: 2},
		{name: "weighted", weights: []uint64{1, 2, 3}, total: 6, k: 3},
		{name: "max", weights: []uint64{MaxShards}, total: MaxShards, k: MaxShards/3 + 1},
		{name: "no nodes", weights: nil, wantErr: true},
		{name: "zero weight", weights: []uint64{1, 0, 1}, wantErr: true},
		{name: "too many", weights: []uint64{MaxShards, 1}, wantErr: true},
		{name: "huge weight", weights: []uint64{1, math.MaxUint64}, wantErr: true},
		{name: "overflowing sum", weights: []uint64{math.MaxUint64, math.MaxUint64}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewParams(tt.weights)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidParams) {
					t.Fatalf("NewParams: err %v, want ErrInvalidParams", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewParams: %v", err)
			}
			if p.Total() != tt.total || p.Recovery() != tt.k || p.Nodes() != len(tt.weights) {
				t.Fatalf("total %d k %d nodes %d, want %d %d %d", p.Total(), p.Recovery(), p.Nodes(), tt.total, tt.k, len(tt.weights))
			}
		})
	}
}

func TestShardsOfWeightedNodes(t *testing.T) {
	p, err := NewParams([]uint64{1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ node, first, count int }{
		{0, 0, 1}, {1, 1, 2}, {2, 3, 3}, {3, 0, 0}, {-1, 0, 0},
	}
	for _, tt := range tests {
		if first, count := p.Shards(tt.node); first != tt.first || count != tt.count {
			t.Errorf("Shards(%d) = %d, %d, want %d, %d", tt.node, first, count, tt.first, tt.count)
		}
	}
}

func TestZeroParams(t *testing.T) {
	var p Params
	if p.Total() != 0 || p.Recovery() != 0 || p.Nodes() != 0 {
		t.Fatalf("zero Params: total %d k %d nodes %d", p.Total(), p.Recovery(), p.Nodes())
	}
	if first, count := p.Shards(0); first != 0 || count != 0 {
		t.Fatalf("zero Params Shards(0) = %d, %d", first, count)
	}
	payload := types.Payload{}
	if _, _, _, err := Disperse(p, payload); !errors.Is(err, ErrInvalidParams) {
		t.Errorf("Disperse: %v", err)
	}
	if _, err := Commit(p, payload); !errors.Is(err, ErrInvalidParams) {
		t.Errorf("Commit: %v", err)
	}
	if err := VerifyShare(p, types.Commitment{}, Common{}, Share{}, 0); !errors.Is(err, ErrInvalidParams) {
		t.Errorf("VerifyShare: %v", err)
	}
	if _, _, err := Recover(p, types.Commitment{}, Common{}, nil); !errors.Is(err, ErrInvalidParams) {
		t.Errorf("Recover: %v", err)
	}
	if _, err := ProveNamespace(p, payload, 0); !errors.Is(err, ErrInvalidParams) {
		t.Errorf("ProveNamespace: %v", err)
	}
}

// TestEncoderForEveryTotal checks that MaxShards is exactly the largest total
// for which reedsolomon builds a code for every smaller total.
func TestEncoderForEveryTotal(t *testing.T) {
	for w := 2; w <= MaxShards; w++ {
		k := recoveryFor(w)
		if _, err := reedsolomon.New(k, w-k); err != nil {
			t.Fatalf("reedsolomon.New(%d, %d) for W=%d: %v", k, w-k, w, err)
		}
	}
	k := recoveryFor(MaxShards + 1)
	if _, err := reedsolomon.New(k, MaxShards+1-k); err == nil {
		t.Fatalf("reedsolomon.New accepts W=%d, MaxShards could be larger", MaxShards+1)
	}
}

func TestWeightsFromStake(t *testing.T) {
	tests := []struct {
		name     string
		stakes   []uint64
		maxTotal int
		want     []uint64
	}{
		{name: "small as is", stakes: []uint64{1, 2, 3}, maxTotal: 10, want: []uint64{1, 2, 3}},
		{name: "exactly max", stakes: []uint64{5, 5}, maxTotal: 10, want: []uint64{5, 5}},
		{name: "zero stake gets one", stakes: []uint64{0, 4}, maxTotal: 10, want: []uint64{1, 4}},
		{name: "scaled", stakes: []uint64{1e18, 1e18, 2e18}, maxTotal: 100, want: []uint64{25, 25, 50}},
		{name: "rounded down", stakes: []uint64{1, 1, 1}, maxTotal: 2, want: []uint64{1, 1, 1}},
		{name: "tiny stake raised", stakes: []uint64{1, 1e18}, maxTotal: 1024, want: []uint64{1, 1023}},
		{name: "overflowing sum", stakes: []uint64{math.MaxUint64, math.MaxUint64, math.MaxUint64}, maxTotal: 99, want: []uint64{33, 33, 33}},
		{name: "max below one", stakes: []uint64{10, 20}, maxTotal: 0, want: []uint64{1, 1}},
		{name: "none", stakes: nil, maxTotal: 10, want: []uint64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := WeightsFromStake(tt.stakes, tt.maxTotal)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("WeightsFromStake(%v, %d) = %v, want %v", tt.stakes, tt.maxTotal, got, tt.want)
			}
		})
	}
}

// TestWeightsFromStakeBound checks the documented bound on random stakes.
func TestWeightsFromStakeBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		stakes := make([]uint64, 1+rng.IntN(300))
		for i := range stakes {
			stakes[i] = rng.Uint64() >> rng.IntN(64)
		}
		maxTotal := 1 + rng.IntN(2000)
		var sum uint64
		for i, w := range WeightsFromStake(stakes, maxTotal) {
			if w == 0 {
				t.Fatalf("node %d: weight 0", i)
			}
			sum += w
		}
		if sum > uint64(maxTotal+len(stakes)) {
			t.Fatalf("%d stakes, maxTotal %d: total weight %d", len(stakes), maxTotal, sum)
		}
	}
}

// TestStakeWeightsRecovery disperses over weights 1, 2, 3 (W=6, k=3): node 2
// alone holds enough shards, node 1 alone does not.
func TestStakeWeightsRecovery(t *testing.T) {
	p, err := NewParams([]uint64{1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	payload := mustPayload(t, makeTxs(9, []uint64{1, 2}, 10, 1, 300))
	c, common, shares, err := Disperse(p, payload)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range shares {
		_, count := p.Shards(i)
		for j, ns := range s.Namespaces {
			if len(ns) != count {
				t.Fatalf("node %d namespace %d: %d shards, want %d", i, j, len(ns), count)
			}
		}
		if err := VerifyShare(p, c, common, s, i); err != nil {
			t.Fatalf("VerifyShare node %d: %v", i, err)
		}
	}
	tests := []struct {
		nodes []int
		ok    bool
	}{
		{[]int{2}, true}, {[]int{0, 1}, true}, {[]int{1}, false}, {[]int{0}, false}, {[]int{0, 2}, true},
	}
	for _, tt := range tests {
		got, bad, err := Recover(p, c, common, pick(shares, tt.nodes))
		if len(bad) != 0 {
			t.Fatalf("nodes %v: bad %v", tt.nodes, bad)
		}
		if !tt.ok {
			if !errors.Is(err, ErrTooFewShares) {
				t.Fatalf("nodes %v: err %v, want ErrTooFewShares", tt.nodes, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("nodes %v: %v", tt.nodes, err)
		}
		assertPayload(t, got, payload)
	}
}
