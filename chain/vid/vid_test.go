package vid

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/gospresso/gospresso/types"
)

func assertPayload(t *testing.T, got, want types.Payload) {
	t.Helper()
	if !bytes.Equal(got.Raw, want.Raw) {
		t.Fatalf("recovered %d payload bytes, want the original %d", len(got.Raw), len(want.Raw))
	}
	if !bytes.Equal(got.NsTable.Bytes, want.NsTable.Bytes) {
		t.Fatalf("recovered namespace table %x, want %x", got.NsTable.Bytes, want.NsTable.Bytes)
	}
}

// disperse runs Disperse and checks every share and Commit.
func disperse(t *testing.T, p Params, payload types.Payload) (types.Commitment, Common, []Share) {
	t.Helper()
	c, common, shares, err := Disperse(p, payload)
	if err != nil {
		t.Fatalf("Disperse: %v", err)
	}
	if len(shares) != p.Nodes() {
		t.Fatalf("%d shares, want %d", len(shares), p.Nodes())
	}
	if c2, err := Commit(p, payload); err != nil || c2 != c {
		t.Fatalf("Commit = %x, %v; Disperse gave %x", c2, err, c)
	}
	if common.Commit() != c {
		t.Fatalf("Common.Commit differs from Disperse's commitment")
	}
	for i, s := range shares {
		if err := VerifyShare(p, c, common, s, i); err != nil {
			t.Fatalf("VerifyShare node %d: %v", i, err)
		}
	}
	return c, common, shares
}

func TestRoundTrip(t *testing.T) {
	payloads := testPayloads(t)
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range payloads {
			if !yield(n) {
				return
			}
		}
	})
	for _, nodes := range []int{1, 2, 3, 4, 7, 10, 100, 300} {
		p := uniformParams(t, nodes)
		for _, name := range names {
			payload := payloads[name]
			t.Run(fmt.Sprintf("nodes=%d/%s", nodes, name), func(t *testing.T) {
				c, common, shares := disperse(t, p, payload)
				rng := rand.New(rand.NewPCG(uint64(nodes), uint64(len(payload.Raw))))
				k := p.Recovery()
				subsets := [][]int{
					seq(0, k),           // the systematic shards
					seq(nodes-k, nodes), // the last shards: parity where possible
					seq(0, nodes),       // everything
				}
				for range 3 {
					subsets = append(subsets, rng.Perm(nodes)[:k+rng.IntN(nodes-k+1)])
				}
				for _, sub := range subsets {
					got, bad, err := Recover(p, c, common, pick(shares, sub))
					if err != nil || len(bad) != 0 {
						t.Fatalf("Recover from nodes %v: bad %v, %v", sub, bad, err)
					}
					assertPayload(t, got, payload)
				}
				if k > 1 {
					_, _, err := Recover(p, c, common, pick(shares, rng.Perm(nodes)[:k-1]))
					if !errors.Is(err, ErrTooFewShares) {
						t.Fatalf("Recover from %d shares: %v, want ErrTooFewShares", k-1, err)
					}
				}
			})
		}
	}
}

func seq(from, to int) []int {
	s := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

// TestRecoverEverySubset recovers from every subset of nodes for small
// networks: those holding at least k shards succeed, the others fail.
func TestRecoverEverySubset(t *testing.T) {
	payload := testPayloads(t)["many namespaces"]
	for _, nodes := range []int{4, 7} {
		t.Run(fmt.Sprintf("nodes=%d", nodes), func(t *testing.T) {
			p := uniformParams(t, nodes)
			c, common, shares := disperse(t, p, payload)
			for mask := 0; mask < 1<<nodes; mask++ {
				var sub []int
				for i := range nodes {
					if mask&(1<<i) != 0 {
						sub = append(sub, i)
					}
				}
				got, _, err := Recover(p, c, common, pick(shares, sub))
				if len(sub) < p.Recovery() {
					if !errors.Is(err, ErrTooFewShares) {
						t.Fatalf("nodes %v: %v, want ErrTooFewShares", sub, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("nodes %v: %v", sub, err)
				}
				assertPayload(t, got, payload)
			}
		})
	}
}

func TestDisperseInvalidNsTable(t *testing.T) {
	good := testPayloads(t)["many namespaces"]
	tests := map[string]types.Payload{
		"table too short":   {Raw: good.Raw, NsTable: types.NsTable{Bytes: good.NsTable.Bytes[:len(good.NsTable.Bytes)-1]}},
		"extra payload":     {Raw: append(slices.Clone(good.Raw), 0), NsTable: good.NsTable},
		"no table":          {Raw: good.Raw},
		"duplicate ns":      rawPayload([]uint32{1, 1}, [][]byte{{1}, {2}}),
		"count mismatch":    {Raw: nil, NsTable: types.NsTable{Bytes: []byte{1, 0, 0, 0}}},
		"payload truncated": {Raw: good.Raw[:len(good.Raw)-1], NsTable: good.NsTable},
	}
	p := uniformParams(t, 4)
	for name, payload := range tests {
		t.Run(name, func(t *testing.T) {
			if _, _, _, err := Disperse(p, payload); !errors.Is(err, types.ErrInvalidNsTable) {
				t.Errorf("Disperse: %v, want ErrInvalidNsTable", err)
			}
			if _, err := Commit(p, payload); !errors.Is(err, types.ErrInvalidNsTable) {
				t.Errorf("Commit: %v, want ErrInvalidNsTable", err)
			}
			if _, err := ProveNamespace(p, payload, 0); !errors.Is(err, types.ErrInvalidNsTable) {
				t.Errorf("ProveNamespace: %v, want ErrInvalidNsTable", err)
			}
		})
	}
}

// TestBadShares corrupts shares in several ways: VerifyShare rejects each,
// and Recover succeeds from the honest shares and names the bad nodes.
func TestBadShares(t *testing.T) {
	p := uniformParams(t, 10) // k = 4
	payload := testPayloads(t)["many namespaces"]
	c, common, shares := disperse(t, p, payload)
	tests := []struct {
		name    string
		node    int // the node whose share is corrupted
		corrupt func(s *Share)
		verify  int // node passed to VerifyShare
		wantMsg string
	}{
		{name: "shard byte", node: 3, verify: 3, corrupt: func(s *Share) { s.Namespaces[2][0].Data[5] ^= 1 }, wantMsg: "merkle proof does not lead to the namespace root"},
		{name: "last shard byte", node: 9, verify: 9, corrupt: func(s *Share) { d := s.Namespaces[10][0].Data; d[len(d)-1] ^= 0x80 }, wantMsg: "namespace 10 shard 9"},
		{name: "proof byte", node: 5, verify: 5, corrupt: func(s *Share) { s.Namespaces[0][0].Proof[1][31] ^= 1 }, wantMsg: "merkle proof does not lead"},
		{name: "proof too short", node: 5, verify: 5, corrupt: func(s *Share) { p := &s.Namespaces[1][0].Proof; *p = (*p)[1:] }, wantMsg: "want 4"},
		{name: "shard truncated", node: 0, verify: 0, corrupt: func(s *Share) { d := &s.Namespaces[1][0].Data; *d = (*d)[:len(*d)-1] }, wantMsg: "bytes, want"},
		{name: "shard missing", node: 1, verify: 1, corrupt: func(s *Share) { s.Namespaces[1] = nil }, wantMsg: "0 shards, want 1"},
		{name: "namespace missing", node: 2, verify: 2, corrupt: func(s *Share) { s.Namespaces = s.Namespaces[1:] }, wantMsg: "namespaces, want"},
		{name: "relabelled node", node: 6, verify: 7, corrupt: func(s *Share) { s.Node = 7 }, wantMsg: "share for node 7: namespace 0 shard 7: merkle proof does not lead"},
		{name: "wrong node", node: 2, verify: 2, corrupt: func(s *Share) { s.Node = 8 }, wantMsg: "share is for node 8, want node 2"},
		{name: "node out of range", node: 4, verify: 4, corrupt: func(s *Share) { s.Node = 10 }, wantMsg: "share is for node 10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := cloneShare(shares[tt.node])
			tt.corrupt(&s)
			err := VerifyShare(p, c, common, s, tt.verify)
			if !errors.Is(err, ErrInvalidShare) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("VerifyShare: %v, want ErrInvalidShare containing %q", err, tt.wantMsg)
			}
			// Honest shares from four other nodes still recover.
			var sub []Share
			sub = append(sub, s)
			for _, n := range []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9} {
				if n != tt.node && len(sub) < 5 {
					sub = append(sub, shares[n])
				}
			}
			got, bad, err := Recover(p, c, common, sub)
			if err != nil {
				t.Fatalf("Recover: %v", err)
			}
			if !slices.Equal(bad, []int{s.Node}) {
				t.Fatalf("bad nodes %v, want [%d]", bad, s.Node)
			}
			assertPayload(t, got, payload)
			// With only three honest shares left, recovery fails and names it.
			_, bad, err = Recover(p, c, common, sub[:4])
			if !errors.Is(err, ErrTooFewShares) || !slices.Equal(bad, []int{s.Node}) ||
				!strings.Contains(err.Error(), fmt.Sprintf("nodes [%d] failed verification", s.Node)) {
				t.Fatalf("Recover from 3 honest shares: bad %v, %v", bad, err)
			}
		})
	}
}

func TestRecoverDuplicatesAndOrder(t *testing.T) {
	p := uniformParams(t, 10)
	payload := testPayloads(t)["many namespaces"]
	c, common, shares := disperse(t, p, payload)
	// Three distinct nodes repeated are still too few.
	if _, _, err := Recover(p, c, common, pick(shares, []int{1, 1, 2, 2, 3, 3})); !errors.Is(err, ErrTooFewShares) {
		t.Fatalf("repeated shares: %v, want ErrTooFewShares", err)
	}
	got, bad, err := Recover(p, c, common, pick(shares, []int{9, 3, 3, 7, 1}))
	if err != nil || len(bad) != 0 {
		t.Fatalf("shuffled shares: bad %v, %v", bad, err)
	}
	assertPayload(t, got, payload)
}

func TestCommonMismatch(t *testing.T) {
	p := uniformParams(t, 10)
	payload := testPayloads(t)["many namespaces"]
	c, common, shares := disperse(t, p, payload)
	other := uniformParams(t, 11)
	tests := []struct {
		name   string
		p      Params
		c      types.Commitment
		mutate func(*Common)
	}{
		{name: "wrong commitment", p: p, c: types.Commitment{1}, mutate: func(*Common) {}},
		{name: "wrong params", p: other, c: c, mutate: func(*Common) {}},
		{name: "root changed", p: p, c: c, mutate: func(m *Common) { m.Roots[3][0] ^= 1 }},
		{name: "root dropped", p: p, c: c, mutate: func(m *Common) { m.Roots = m.Roots[1:] }},
		{name: "length changed", p: p, c: c, mutate: func(m *Common) { m.PayloadLen++ }},
		{name: "negative length", p: p, c: c, mutate: func(m *Common) { m.PayloadLen = -1 }},
		{name: "table changed", p: p, c: c, mutate: func(m *Common) { m.NsTable[4] ^= 1 }},
		{name: "total changed", p: p, c: c, mutate: func(m *Common) { m.Total = 11 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := common
			m.Roots = slices.Clone(common.Roots)
			m.NsTable = slices.Clone(common.NsTable)
			tt.mutate(&m)
			if err := VerifyShare(tt.p, tt.c, m, shares[0], 0); !errors.Is(err, ErrCommonMismatch) {
				t.Fatalf("VerifyShare: %v, want ErrCommonMismatch", err)
			}
			if _, _, err := Recover(tt.p, tt.c, m, shares); !errors.Is(err, ErrCommonMismatch) {
				t.Fatalf("Recover: %v, want ErrCommonMismatch", err)
			}
		})
	}
}

// dishonestDisperse builds a dispersal as a faulty leader would: tamper
// changes each namespace's shards after encoding, and the roots, proofs and
// commitment are computed over the tampered shards, so every share verifies.
func dishonestDisperse(t *testing.T, p Params, payload types.Payload, tamper func(j int, shards [][]byte)) (types.Commitment, Common, []Share) {
	t.Helper()
	entries, err := payload.NsTable.Entries(len(payload.Raw))
	if err != nil {
		t.Fatal(err)
	}
	cd, err := newCoder(p.Total(), p.Recovery())
	if err != nil {
		t.Fatal(err)
	}
	common := Common{Total: p.Total(), Recovery: p.Recovery(), PayloadLen: len(payload.Raw), NsTable: payload.NsTable.Bytes}
	shares := make([]Share, p.Nodes())
	for i := range shares {
		shares[i] = Share{Node: i, Namespaces: make([][]Shard, len(entries))}
	}
	for j, e := range entries {
		data := payload.Raw[e.Start:e.End]
		shards, err := cd.encode(make([]byte, p.Total()*shardSize(len(data), p.Total(), p.Recovery())), data)
		if err != nil {
			t.Fatal(err)
		}
		tamper(j, shards)
		levels := merkleLevels(cd.leaves(shards))
		common.Roots = append(common.Roots, levels[len(levels)-1][0])
		for i := range shares {
			first, count := p.Shards(i)
			for s := first; s < first+count; s++ {
				shares[i].Namespaces[j] = append(shares[i].Namespaces[j], Shard{Data: shards[s], Proof: merklePath(levels, s)})
			}
		}
	}
	c := common.Commit()
	for i, s := range shares {
		if err := VerifyShare(p, c, common, s, i); err != nil {
			t.Fatalf("dishonest share %d does not verify: %v", i, err)
		}
	}
	return c, common, shares
}

func TestInconsistentEncoding(t *testing.T) {
	payload := testPayloads(t)["many namespaces"]
	tests := []struct {
		name   string
		nodes  int
		tamper func(j int, shards [][]byte)
	}{
		{name: "parity shard replaced", nodes: 7, tamper: func(j int, shards [][]byte) {
			if j == 4 {
				for i := range shards[5] {
					shards[5][i] = byte(i)
				}
			}
		}},
		{name: "data shard byte", nodes: 7, tamper: func(j int, shards [][]byte) {
			if j == 0 {
				shards[1][0] ^= 1
			}
		}},
		{name: "nonzero padding", nodes: 7, tamper: func(j int, shards [][]byte) {
			// A consistent codeword whose padding is not zero: the bytes
			// alone do not determine the root.
			if j == 1 {
				last := shards[2] // k = 3
				last[len(last)-1] = 0xff
				cd, _ := newCoder(7, 3)
				if err := cd.parity(shards); err != nil {
					panic(err)
				}
			}
		}},
		{name: "gf16 parity shard", nodes: 300, tamper: func(j int, shards [][]byte) {
			if j == 2 {
				shards[250][3] ^= 0x55
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := uniformParams(t, tt.nodes)
			c, common, shares := dishonestDisperse(t, p, payload, tt.tamper)
			k := p.Recovery()
			subsets := [][]int{seq(0, k), seq(tt.nodes-k, tt.nodes), seq(0, tt.nodes)}
			if tt.nodes <= 7 {
				subsets = nil
				for mask := 0; mask < 1<<tt.nodes; mask++ {
					var sub []int
					for i := range tt.nodes {
						if mask&(1<<i) != 0 {
							sub = append(sub, i)
						}
					}
					if len(sub) >= k {
						subsets = append(subsets, sub)
					}
				}
			}
			for _, sub := range subsets {
				_, bad, err := Recover(p, c, common, pick(shares, sub))
				if !errors.Is(err, ErrInconsistentEncoding) || len(bad) != 0 {
					t.Fatalf("nodes %v: bad %v, %v, want ErrInconsistentEncoding", sub, bad, err)
				}
			}
		})
	}
}

// TestGoldenCommitment pins the commitment, so that a change to the hashing,
// the shard layout or the Reed-Solomon code (a reedsolomon upgrade) shows up.
func TestGoldenCommitment(t *testing.T) {
	payload := rawPayload([]uint32{1, 2, 3}, [][]byte{filled(1000, 1), nil, filled(77, 9)})
	tests := []struct {
		nodes int
		want  string
	}{
		{1, "a644b52d0a66bc29bbc182390f72f8f0e3b95d4b7a5d30cd26c5208ff76d8988"},
		{10, "a2a93f94d23d540d0335e9346050a2f5eb0f7ddceab983f7bf272a68c608f15b"},
		{300, "e2861668965f671f4cb23bc3d0f617717b55925b3af1710840d0564100fa4e75"},
	}
	for _, tt := range tests {
		c, err := Commit(uniformParams(t, tt.nodes), payload)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%x", c[:]); got != tt.want {
			t.Errorf("nodes=%d: commitment %s, want %s", tt.nodes, got, tt.want)
		}
	}
	c, err := Commit(uniformParams(t, 4), types.Payload{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprintf("%x", c[:]), "b2796fc46201ed115dae1f46df315bc4f5d1c4fa3d8a2d7a8a8a90fef97f11d1"; got != want {
		t.Errorf("empty payload: commitment %s, want %s", got, want)
	}
}

func TestMaxShards(t *testing.T) {
	if testing.Short() {
		t.Skip("disperses over MaxShards shards")
	}
	p, err := NewParams([]uint64{MaxShards/2 + 1, MaxShards / 2})
	if err != nil {
		t.Fatal(err)
	}
	payload := rawPayload([]uint32{1}, [][]byte{filled(5000, 3)})
	c, common, shares := disperse(t, p, payload)
	got, _, err := Recover(p, c, common, shares[1:])
	if err != nil {
		t.Fatalf("Recover from node 1: %v", err)
	}
	assertPayload(t, got, payload)
}
