package sqlite

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/storagetest"
	"github.com/gospresso/gospresso/types"
)

func TestLocateTransactions(t *testing.T) {
	tests := []struct {
		name string
		txs  []types.Transaction
	}{
		{"none", nil},
		{"one", []types.Transaction{{Namespace: 7, Payload: []byte("hello")}}},
		{"empty transactions", []types.Transaction{{Namespace: 7}, {Namespace: 8}, {Namespace: 7, Payload: []byte("x")}}},
		{"interleaved namespaces", []types.Transaction{
			{Namespace: 1, Payload: []byte("a1")}, {Namespace: 2, Payload: []byte("b1")},
			{Namespace: 1, Payload: []byte("a2")}, {Namespace: 3, Payload: []byte("c1")}, {Namespace: 2, Payload: []byte("b2")},
		}},
		{"generated", storagetest.Transactions(12, 50, 100)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := types.EncodePayload(tt.txs)
			if err != nil {
				t.Fatal(err)
			}
			want, err := p.Transactions()
			if err != nil {
				t.Fatal(err)
			}
			rows := locateTransactions(p)
			if len(rows) != len(want) {
				t.Fatalf("%d rows, want %d", len(rows), len(want))
			}
			for i, r := range rows {
				if r.offset < 0 {
					t.Fatalf("transaction %d not located", i)
				}
				if r.hash != want[i].Commit() || r.ns != want[i].Namespace || r.size != int64(len(want[i].Payload)) {
					t.Fatalf("row %d = %+v, want transaction %+v", i, r, want[i])
				}
				if got := p.Raw[r.offset : r.offset+r.size]; !bytes.Equal(got, want[i].Payload) {
					t.Fatalf("row %d locates %q, want %q", i, got, want[i].Payload)
				}
			}
		})
	}
	// An undecodable payload has no transactions.
	if rows := locateTransactions(types.Payload{Raw: []byte{1, 2, 3}}); rows != nil {
		t.Fatalf("undecodable payload: %d rows, want none", len(rows))
	}
}

// FuzzLocateTransactions checks on arbitrary payloads that locating never
// panics, agrees with Payload.Transactions and locates every transaction
// of a well-formed payload.
func FuzzLocateTransactions(f *testing.F) {
	for _, txs := range [][]types.Transaction{
		nil,
		{{Namespace: 1, Payload: []byte("abc")}},
		{{Namespace: 1, Payload: []byte("a")}, {Namespace: 2}, {Namespace: 1, Payload: []byte("bc")}},
		storagetest.Transactions(6, 6, 20),
	} {
		p, err := types.EncodePayload(txs)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p.Raw, p.NsTable.Bytes)
	}
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0}, []byte{1, 0, 0, 0, 5, 0, 0, 0, 8, 0, 0, 0})
	f.Add([]byte{}, []byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, raw, table []byte) {
		p := types.Payload{Raw: raw, NsTable: types.NsTable{Bytes: table}}
		rows := locateTransactions(p)
		want, err := p.Transactions()
		if err != nil {
			if rows != nil {
				t.Fatalf("undecodable payload gave %d rows", len(rows))
			}
			return
		}
		if len(rows) != len(want) {
			t.Fatalf("%d rows, want %d", len(rows), len(want))
		}
		for i, r := range rows {
			if r.offset < 0 {
				t.Fatalf("transaction %d of a decodable payload not located", i)
			}
			if !bytes.Equal(raw[r.offset:r.offset+r.size], want[i].Payload) || r.hash != want[i].Commit() {
				t.Fatalf("row %d does not match transaction %d", i, i)
			}
		}
	})
}

// TestTransactionAtFallback checks the read path for a transaction stored
// without a located span: it decodes the payload.
func TestTransactionAtFallback(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	chain := storagetest.Chain(3, 5, 40)
	if err := s.SaveDecided(ctx, chain); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE transactions SET offset = -1 WHERE height = 2`); err != nil {
		t.Fatal(err)
	}
	want, err := chain[2].Payload.Transactions()
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range want {
		got, err := s.TransactionAt(ctx, 2, uint64(i))
		if err != nil || got.Namespace != w.Namespace || !bytes.Equal(got.Payload, w.Payload) {
			t.Fatalf("transaction %d = %+v, %v; want %+v", i, got, err, w)
		}
	}
	// A corrupt payload behind an unlocated span is reported as corrupt.
	if _, err := s.w.ExecContext(ctx, `UPDATE payload SET data = x'00' WHERE height = 2`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TransactionAt(ctx, 2, 0); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("transaction of a corrupt payload: %v, want ErrCorrupt", err)
	}
}

// TestCorruptRows checks that undecodable rows are reported, not panicked
// on or returned as data.
func TestCorruptRows(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	if err := s.SaveDecided(ctx, storagetest.Chain(3, 2, 40)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE leaf SET data = x'0102' WHERE height = 1`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE header SET data = x'0102' WHERE height = 2`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.BlockByHeight(ctx, 1); !errors.Is(err, ErrCorrupt) {
		t.Errorf("block with a corrupt leaf: %v, want ErrCorrupt", err)
	}
	if _, err := s.BlockRange(ctx, 0, 3, 3); !errors.Is(err, ErrCorrupt) {
		t.Errorf("range over a corrupt leaf: %v, want ErrCorrupt", err)
	}
	if _, err := s.HeaderWindow(ctx, 0, storagetest.GenesisTime+10, 10); !errors.Is(err, ErrCorrupt) {
		t.Errorf("window over a corrupt header: %v, want ErrCorrupt", err)
	}
	// A leaf row holding the leaf of another height.
	var other []byte
	if err := s.w.QueryRowContext(ctx, `SELECT data FROM leaf WHERE height = 0`).Scan(&other); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE leaf SET data = ? WHERE height = 2`, other); err != nil {
		t.Fatal(err)
	}
	if _, err := s.BlockByHeight(ctx, 2); !errors.Is(err, ErrCorrupt) {
		t.Errorf("block 2 holding leaf 0: %v, want ErrCorrupt", err)
	}
	if err := s.SaveSafety(ctx, types.SafetyState{View: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE safety SET data = x'01'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadSafety(ctx); !errors.Is(err, ErrCorrupt) {
		t.Errorf("corrupt safety state: %v, want ErrCorrupt", err)
	}
}

// TestSums compares the running-total sums with sums over the blocks, for
// every range of a chain with varying block sizes, before and after
// pruning.
func TestSums(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	chain := storagetest.Chain(1, 0, 0)
	for h := range 11 {
		chain = append(chain, storagetest.Extend(&chain[len(chain)-1], 1, h%4, 10+h)...)
	}
	// Saved in several calls, so totals continue across calls.
	for _, part := range [][2]int{{0, 3}, {3, 4}, {4, len(chain)}} {
		if err := s.SaveDecided(ctx, chain[part[0]:part[1]]); err != nil {
			t.Fatal(err)
		}
	}
	check := func(first int) {
		t.Helper()
		for from := 0; from <= len(chain)+1; from++ {
			for until := 0; until <= len(chain)+1; until++ {
				var wantTxs, wantBytes uint64
				for h := max(from, first); h < min(until, len(chain)); h++ {
					txs, _ := chain[h].Payload.Transactions()
					wantTxs += uint64(len(txs))
					wantBytes += chain[h].Payload.Size()
				}
				if n, err := s.TransactionCount(ctx, uint64(from), uint64(until)); err != nil || n != wantTxs {
					t.Fatalf("TransactionCount(%d, %d) = %d, %v; want %d", from, until, n, err, wantTxs)
				}
				if n, err := s.PayloadBytes(ctx, uint64(from), uint64(until)); err != nil || n != wantBytes {
					t.Fatalf("PayloadBytes(%d, %d) = %d, %v; want %d", from, until, n, err, wantBytes)
				}
			}
		}
	}
	check(0)
	if err := s.PruneBefore(ctx, 5); err != nil {
		t.Fatal(err)
	}
	check(5)
}

// TestNamespaceIndex checks NamespaceHeights against the blocks' tables.
func TestNamespaceIndex(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	chain := storagetest.Chain(13, 3, 20)
	if err := s.SaveDecided(ctx, chain); err != nil {
		t.Fatal(err)
	}
	for _, ns := range []uint64{storagetest.NamespaceA, storagetest.NamespaceB, storagetest.NamespaceC, 5} {
		for from := range uint64(14) {
			var want []uint64
			for h := from; h < uint64(len(chain)); h++ {
				entries, _ := chain[h].Leaf.Header.NsTable.Entries(len(chain[h].Payload.Raw))
				for _, e := range entries {
					if uint64(e.Namespace) == ns {
						want = append(want, h)
					}
				}
			}
			got, err := s.NamespaceHeights(ctx, ns, from, 4)
			if err != nil {
				t.Fatal(err)
			}
			want = want[:min(len(want), 4)]
			if len(got) != len(want) || (len(got) > 0 && (got[0] != want[0] || got[len(got)-1] != want[len(want)-1])) {
				t.Fatalf("NamespaceHeights(%d, %d, 4) = %v, want %v", ns, from, got, want)
			}
		}
	}
}

// TestUnusualPayloads stores blocks whose payloads do not decode or whose
// header table differs from the payload's: they are kept as given.
func TestUnusualPayloads(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	chain := storagetest.Chain(3, 2, 20)
	bad := chain[1]
	bad.Payload = types.Payload{Raw: []byte("garbage"), NsTable: types.NsTable{Bytes: binary.LittleEndian.AppendUint32(nil, 9)}}
	chain[1] = bad
	if err := s.SaveDecided(ctx, chain[:2]); err != nil {
		t.Fatal(err)
	}
	got, err := s.BlockByHeight(ctx, 1)
	if err != nil || !bytes.Equal(got.Payload.Raw, bad.Payload.Raw) || !bytes.Equal(got.Payload.NsTable.Bytes, bad.Payload.NsTable.Bytes) {
		t.Fatalf("block 1 = %+v, %v; want the garbage payload back", got.Payload, err)
	}
	if n, err := s.TransactionCount(ctx, 0, 2); err != nil || n != 0 {
		t.Fatalf("transactions of undecodable payloads = %d, %v; want 0", n, err)
	}
	if _, err := s.TransactionAt(ctx, 1, 0); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("transaction of an undecodable payload: %v, want ErrNotFound", err)
	}
}
