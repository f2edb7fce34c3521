package chain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/types"
)

// A transaction that cannot fit a block of max_block_size on its own is
// refused at submission, with an error that gives its size and the limit.
func TestMempoolRefusesTransactionAboveMaxBlockSize(t *testing.T) {
	now := time.Unix(0, 0)
	m := chain.NewMempool(chain.MempoolConfig{MaxBlockSize: 100})
	// 92 payload bytes + 4 (count) + 4 (offset) = 100: fits.
	if added, err := m.Add(types.Transaction{Namespace: 1, Payload: make([]byte, 92)}, now); !added || err != nil {
		t.Fatalf("a transaction filling a block exactly: %v %v", added, err)
	}
	_, err := m.Add(types.Transaction{Namespace: 1, Payload: make([]byte, 93)}, now)
	if !errors.Is(err, chain.ErrTransactionTooLarge) {
		t.Fatalf("one byte more: %v, want ErrTransactionTooLarge", err)
	}
	for _, want := range []string{"93 bytes", "max_block_size 100"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if m.Len() != 1 {
		t.Fatalf("%d pending, want 1", m.Len())
	}

	// Without MaxBlockSize, only the byte bound applies.
	m = chain.NewMempool(chain.MempoolConfig{})
	if _, err := m.Add(types.Transaction{Payload: make([]byte, 1000)}, now); err != nil {
		t.Fatal(err)
	}
}

// A refused oversized transaction cannot sit at the head of the queue and
// keep the builder from taking the ones behind it.
func TestLedgerBuildsPastOversizedSubmission(t *testing.T) {
	n := newNetwork(t)
	mp := chain.NewMempool(chain.MempoolConfig{MaxBlockSize: n.rules.ChainConfig.MaxBlockSize})
	if _, err := mp.Add(types.Transaction{Namespace: 1, Payload: make([]byte, maxBlockSize)}, t0); !errors.Is(err, chain.ErrTransactionTooLarge) {
		t.Fatalf("oversized transaction: %v, want ErrTransactionTooLarge", err)
	}
	fill(t, mp, t0, txIn(1, 0), txIn(2, 0))
	a := n.ledger(t, newFakeL1(genesisL1), n.builder, mp)
	p := build(t, a, &n.genesis, t0)
	if txs, _ := p.payload.Transactions(); len(txs) != 2 {
		t.Fatalf("block of %d transactions, want 2", len(txs))
	}
}
