package vid

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/gospresso/gospresso/types"
)

func TestNamespaceProofs(t *testing.T) {
	payloads := testPayloads(t)
	for _, nodes := range []int{1, 4, 10, 300} {
		p := uniformParams(t, nodes)
		for name, payload := range payloads {
			t.Run(fmt.Sprintf("nodes=%d/%s", nodes, name), func(t *testing.T) {
				c, err := Commit(p, payload)
				if err != nil {
					t.Fatal(err)
				}
				entries, err := payload.NsTable.Entries(len(payload.Raw))
				if err != nil {
					t.Fatal(err)
				}
				for j, e := range entries {
					proof, err := ProveNamespace(p, payload, j)
					if err != nil {
						t.Fatalf("ProveNamespace(%d): %v", j, err)
					}
					got, err := VerifyNamespace(c, payload.NsTable, e.Namespace, proof)
					if err != nil {
						t.Fatalf("VerifyNamespace(ns %d): %v", e.Namespace, err)
					}
					if !bytes.Equal(got, payload.Raw[e.Start:e.End]) {
						t.Fatalf("namespace %d: verified bytes differ from the payload's", e.Namespace)
					}
				}
				if _, err := ProveNamespace(p, payload, len(entries)); !errors.Is(err, ErrNamespaceNotFound) {
					t.Fatalf("ProveNamespace past the end: %v", err)
				}
			})
		}
	}
}

// encodeNs lays out one namespace's transactions as types.EncodePayload does.
func encodeNs(t *testing.T, ns uint64, payloads [][]byte) []byte {
	t.Helper()
	txs := make([]types.Transaction, len(payloads))
	for i, p := range payloads {
		txs[i] = types.Transaction{Namespace: ns, Payload: p}
	}
	return mustPayload(t, txs).Raw
}

func TestNamespaceProofRejects(t *testing.T) {
	p := uniformParams(t, 10)
	txs := []types.Transaction{
		{Namespace: 10, Payload: []byte("alpha")},
		{Namespace: 20, Payload: []byte("first tx of 20")},
		{Namespace: 20, Payload: []byte("second tx, 20")},
		{Namespace: 20, Payload: []byte("third")},
		{Namespace: 30, Payload: []byte("omega")},
	}
	payload := mustPayload(t, txs)
	goodC, err := Commit(p, payload)
	if err != nil {
		t.Fatal(err)
	}
	good, err := ProveNamespace(p, payload, 1) // namespace 20
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyNamespace(goodC, payload.NsTable, 20, good); err != nil {
		t.Fatalf("good proof: %v", err)
	}
	other := mustPayload(t, txs[:4])
	otherC, err := Commit(p, other)
	if err != nil {
		t.Fatal(err)
	}
	// Same offsets, namespace 30 renamed to 31.
	renamed := slices.Clone(payload.NsTable.Bytes)
	binary.LittleEndian.PutUint32(renamed[4+8*2:], 31)
	tx1, tx2, tx3 := []byte("first tx of 20"), []byte("second tx, 20"), []byte("third")

	tests := []struct {
		name  string
		c     types.Commitment
		table types.NsTable
		ns    uint32
		edit  func(*NsProof)
		want  error
	}{
		{name: "added tx", ns: 20, edit: func(pr *NsProof) { pr.Bytes = encodeNs(t, 20, [][]byte{tx1, tx2, tx3, []byte("x")}) }, want: ErrInvalidNsProof},
		{name: "dropped tx", ns: 20, edit: func(pr *NsProof) { pr.Bytes = encodeNs(t, 20, [][]byte{tx1, tx3}) }, want: ErrInvalidNsProof},
		{name: "swapped txs", ns: 20, edit: func(pr *NsProof) { pr.Bytes = encodeNs(t, 20, [][]byte{tx2, tx1, tx3}) }, want: ErrInvalidNsProof},
		{name: "moved tx", ns: 20, edit: func(pr *NsProof) { pr.Bytes = encodeNs(t, 20, [][]byte{tx1, tx3, tx2}) }, want: ErrInvalidNsProof},
		{name: "flipped byte", ns: 20, edit: func(pr *NsProof) { pr.Bytes[len(pr.Bytes)-1] ^= 1 }, want: ErrInvalidNsProof},
		{name: "dropped byte", ns: 20, edit: func(pr *NsProof) { pr.Bytes = pr.Bytes[:len(pr.Bytes)-1] }, want: ErrInvalidNsProof},
		{name: "other namespace id", ns: 10, edit: func(*NsProof) {}, want: ErrInvalidNsProof},
		{name: "unknown namespace", ns: 99, edit: func(*NsProof) {}, want: ErrNamespaceNotFound},
		{name: "wrong index", ns: 20, edit: func(pr *NsProof) { pr.NsIndex = 2 }, want: ErrInvalidNsProof},
		{name: "tampered path", ns: 20, edit: func(pr *NsProof) { pr.Path[0][0] ^= 1 }, want: ErrInvalidNsProof},
		{name: "path too long", ns: 20, edit: func(pr *NsProof) { pr.Path = append(pr.Path, [32]byte{}) }, want: ErrInvalidNsProof},
		{name: "path too short", ns: 20, edit: func(pr *NsProof) { pr.Path = pr.Path[:1] }, want: ErrInvalidNsProof},
		{name: "wrong total", ns: 20, edit: func(pr *NsProof) { pr.Total, pr.Recovery = 11, 4 }, want: ErrInvalidNsProof},
		{name: "invalid total", ns: 20, edit: func(pr *NsProof) { pr.Total = 0 }, want: ErrInvalidNsProof},
		{name: "wrong recovery", ns: 20, edit: func(pr *NsProof) { pr.Recovery = 5 }, want: ErrInvalidNsProof},
		{name: "wrong commitment", ns: 20, c: otherC, edit: func(*NsProof) {}, want: ErrInvalidNsProof},
		{name: "wrong ns table", ns: 20, table: types.NsTable{Bytes: renamed}, edit: func(*NsProof) {}, want: ErrInvalidNsProof},
		{name: "other payload's table", ns: 20, table: other.NsTable, edit: func(*NsProof) {}, want: ErrInvalidNsProof},
		{name: "malformed table", ns: 20, table: types.NsTable{Bytes: payload.NsTable.Bytes[:9]}, edit: func(*NsProof) {}, want: types.ErrInvalidNsTable},
		{name: "empty table", ns: 20, table: types.NsTable{Bytes: []byte{}}, edit: func(*NsProof) {}, want: ErrNamespaceNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, table := tt.c, tt.table
			if c == (types.Commitment{}) {
				c = goodC
			}
			if table.Bytes == nil {
				table = payload.NsTable
			}
			pr := good
			pr.Bytes = slices.Clone(good.Bytes)
			pr.Path = slices.Clone(good.Path)
			tt.edit(&pr)
			got, err := VerifyNamespace(c, table, tt.ns, pr)
			if !errors.Is(err, tt.want) || got != nil {
				t.Fatalf("VerifyNamespace: %v (returned %d bytes), want %v", err, len(got), tt.want)
			}
		})
	}
}

// TestNamespaceProofEmptyPayload: a header with an empty table has no
// namespaces to prove.
func TestNamespaceProofEmptyPayload(t *testing.T) {
	p := uniformParams(t, 4)
	c, err := Commit(p, types.Payload{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ProveNamespace(p, types.Payload{}, 0); !errors.Is(err, ErrNamespaceNotFound) {
		t.Fatalf("ProveNamespace: %v", err)
	}
	if _, err := VerifyNamespace(c, types.NsTable{}, 0, NsProof{Total: 4, Recovery: 2}); !errors.Is(err, ErrNamespaceNotFound) {
		t.Fatalf("VerifyNamespace: %v", err)
	}
}
