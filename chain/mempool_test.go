package chain_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/types"
)

func tx(i int) types.Transaction {
	return types.Transaction{Namespace: uint64(i % 3), Payload: fmt.Appendf(nil, "transaction %04d", i)}
}

func TestMempoolBoundsDedupAndDecide(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	m := chain.NewMempool(chain.MempoolConfig{MaxCount: 5, MaxBytes: 1 << 20, TTL: time.Minute})
	for i := range 5 {
		if added, err := m.Add(tx(i), now); !added || err != nil {
			t.Fatalf("Add %d: %v %v", i, added, err)
		}
	}
	if added, err := m.Add(tx(0), now); added || err != nil {
		t.Fatalf("pending again: %v %v, want ignored", added, err)
	}
	if _, err := m.Add(tx(5), now); !errors.Is(err, chain.ErrMempoolFull) {
		t.Fatalf("sixth transaction: %v, want ErrMempoolFull", err)
	}
	// Selection skips what undecided ancestors already hold.
	skip := tx(1)
	got := m.Select(now, map[chain.TxKey]struct{}{chain.KeyOf(&skip): {}}, func(types.Transaction) bool { return true })
	if len(got) != 4 || got[0].Commit() != tx(0).Commit() || got[1].Commit() != tx(2).Commit() {
		t.Fatalf("Select returned %d transactions, want 4 in arrival order without tx 1", len(got))
	}
	m.Decided([]types.Transaction{tx(0), tx(1)})
	if m.Len() != 3 {
		t.Fatalf("%d pending after two were decided, want 3", m.Len())
	}
	if added, _ := m.Add(tx(1), now); added {
		t.Fatal("a recently decided transaction was admitted again")
	}
	// Expired transactions are dropped when met.
	if got := m.Select(now.Add(2*time.Minute), nil, func(types.Transaction) bool { return true }); len(got) != 0 || m.Len() != 0 {
		t.Fatalf("after the TTL: %d selected, %d pending, want none", len(got), m.Len())
	}
}

func TestMempoolByteBound(t *testing.T) {
	m := chain.NewMempool(chain.MempoolConfig{MaxBytes: 40})
	now := time.Unix(0, 0)
	if _, err := m.Add(types.Transaction{Payload: make([]byte, 30)}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Add(types.Transaction{Payload: make([]byte, 11)}, now); !errors.Is(err, chain.ErrMempoolFull) {
		t.Fatalf("over the byte bound: %v, want ErrMempoolFull", err)
	}
	if _, err := m.Add(types.Transaction{Payload: make([]byte, 41)}, now); !errors.Is(err, chain.ErrTransactionTooLarge) {
		t.Fatalf("larger than the whole mempool: %v, want ErrTransactionTooLarge", err)
	}
}

// KeyOf tells transactions apart by namespace and payload.
func TestKeyOf(t *testing.T) {
	a := types.Transaction{Namespace: 1, Payload: []byte("x")}
	b := types.Transaction{Namespace: 2, Payload: []byte("x")}
	if chain.KeyOf(&a) == chain.KeyOf(&b) || chain.KeyOf(&a) != chain.KeyOf(&types.Transaction{Namespace: 1, Payload: []byte("x")}) {
		t.Fatal("KeyOf does not identify transactions by namespace and payload")
	}
}
