package vid

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/gospresso/gospresso/types"
)

// makeTxs returns n transactions spread round-robin over the namespaces,
// with sizes drawn from [minSize, maxSize].
func makeTxs(seed uint64, namespaces []uint64, n, minSize, maxSize int) []types.Transaction {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	txs := make([]types.Transaction, n)
	for i := range txs {
		size := minSize + rng.IntN(maxSize-minSize+1)
		p := make([]byte, size)
		for j := range p {
			p[j] = byte(rng.Uint32())
		}
		txs[i] = types.Transaction{Namespace: namespaces[i%len(namespaces)], Payload: p}
	}
	return txs
}

func mustPayload(t testing.TB, txs []types.Transaction) types.Payload {
	t.Helper()
	p, err := types.EncodePayload(txs)
	if err != nil {
		t.Fatalf("EncodePayload: %v", err)
	}
	return p
}

// rawPayload builds a payload from namespace ids and their raw bytes,
// without the transaction layout (so namespaces may be empty or any size).
func rawPayload(ids []uint32, parts [][]byte) types.Payload {
	var raw []byte
	table := binary.LittleEndian.AppendUint32(nil, uint32(len(ids)))
	for i, id := range ids {
		raw = append(raw, parts[i]...)
		table = binary.LittleEndian.AppendUint32(table, id)
		table = binary.LittleEndian.AppendUint32(table, uint32(len(raw)))
	}
	return types.Payload{Raw: raw, NsTable: types.NsTable{Bytes: table}}
}

func filled(n int, b byte) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = b + byte(i*7)
	}
	return p
}

// testPayloads are the payloads every round-trip test runs.
func testPayloads(t testing.TB) map[string]types.Payload {
	return map[string]types.Payload{
		"empty":             {},
		"empty table":       rawPayload(nil, nil),
		"one tiny":          mustPayload(t, makeTxs(1, []uint64{7}, 1, 1, 1)),
		"one namespace":     mustPayload(t, makeTxs(2, []uint64{7}, 13, 1, 997)),
		"many namespaces":   mustPayload(t, makeTxs(3, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 60, 0, 1500)),
		"empty namespaces":  rawPayload([]uint32{5, 6, 7, 8}, [][]byte{nil, filled(10, 1), nil, filled(1, 2)}),
		"only empty ns":     rawPayload([]uint32{9}, [][]byte{nil}),
		"odd sized ns":      rawPayload([]uint32{1, 2, 3}, [][]byte{filled(1, 3), filled(4097, 4), filled(33, 5)}),
		"larger namespaces": mustPayload(t, makeTxs(4, []uint64{100, 200, 300}, 30, 5000, 20000)),
	}
}

func uniformParams(t testing.TB, nodes int) Params {
	t.Helper()
	w := make([]uint64, nodes)
	for i := range w {
		w[i] = 1
	}
	p, err := NewParams(w)
	if err != nil {
		t.Fatalf("NewParams(%d nodes): %v", nodes, err)
	}
	return p
}

func pick(shares []Share, nodes []int) []Share {
	out := make([]Share, len(nodes))
	for i, n := range nodes {
		out[i] = shares[n]
	}
	return out
}

// cloneShare deep-copies s so a test can corrupt it.
func cloneShare(s Share) Share {
	out := Share{Node: s.Node, Namespaces: make([][]Shard, len(s.Namespaces))}
	for j, ns := range s.Namespaces {
		out.Namespaces[j] = make([]Shard, len(ns))
		for t, sh := range ns {
			out.Namespaces[j][t] = Shard{
				Data:  append([]byte(nil), sh.Data...),
				Proof: append([][32]byte(nil), sh.Proof...),
			}
		}
	}
	return out
}
