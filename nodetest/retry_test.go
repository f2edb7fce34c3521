package nodetest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/gospresso/gospresso/nodetest"
	"github.com/gospresso/gospresso/types"
)

const simRetrySeeds = 8

// TestSimulationClientRetries runs crashes (and message loss, and
// partitions) with clients that retry every transaction at the node they
// submitted it to after that node restarts. Every transaction submitted
// before faults healed is decided exactly once: never twice (the common
// check), and never lost, since a retry puts back what a crash took from a
// mempool before its gossip went out.
func TestSimulationClientRetries(t *testing.T) {
	retries := 0
	for seed := *simFirst; seed < *simFirst+uint64(simRetrySeeds); seed++ {
		cfg := nodetest.SimConfig{Seed: seed, Nodes: 4 + 3*int(seed%2), FaultPeriod: 3 * time.Second, Recovery: 4 * time.Second,
			StopAfter: 20, DropRate: 0.05, Crashes: true, Partitions: seed%3 == 0, TxInterval: 20 * time.Millisecond}
		res, err := nodetest.Simulate(cfg)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		replay := fmt.Sprintf("replay: go test ./nodetest -run TestSimulationClientRetries -sim.seed=%d", seed)
		if err := checkSimResult(cfg, res, recoveryBound(cfg.Nodes)); err != nil {
			t.Fatalf("seed %d: %v (%s)", seed, err, replay)
		}
		decided := make(map[types.Commitment]int)
		for _, b := range res.Chains[0] {
			txs, _ := b.Payload.Transactions()
			for _, tx := range txs {
				decided[tx.Commit()]++
			}
		}
		for _, c := range res.Submitted[:res.SubmittedAtHeal] {
			if decided[c] != 1 {
				t.Fatalf("seed %d: transaction %s submitted before faults healed was decided %d times, want exactly once (%s)", seed, c.Short(), decided[c], replay)
			}
		}
		n, crashes := 0, 0
		for _, s := range res.Nodes {
			n += s.Retries
			crashes += s.Crashes
		}
		retries += n
		t.Logf("seed %d: %d nodes, %d crashes, %d transactions (%d before heal), %d retried after restarts, each decided exactly once",
			seed, cfg.Nodes, crashes, len(res.Submitted), res.SubmittedAtHeal, n)
	}
	if retries == 0 {
		t.Fatal("no client retried a transaction: no node restarted in any seed")
	}
}

// countIn counts each transaction's inclusions in a chain.
func countIn(chain []types.Block) map[types.Commitment]int {
	n := make(map[types.Commitment]int)
	for _, b := range chain {
		txs, _ := b.Payload.Transactions()
		for _, tx := range txs {
			n[tx.Commit()]++
		}
	}
	return n
}

// TestRetriesAcrossRestartsDecideOnce runs real nodes: a client submits
// transactions to node 1, which crashes (once after they were decided,
// once right after they were submitted) and restarts; the client retries
// every transaction at node 1 after each restart. Each retry answers the
// transaction's commitment, and each transaction is decided exactly once.
// Transactions still pending when node 1 crashed are decided by its peers
// while it is down: Submit gossips a transaction to every member before
// it returns, so the peers' mempools hold it (docs/protocol.md,
// "Transactions").
func TestRetriesAcrossRestartsDecideOnce(t *testing.T) {
	net := nodetest.New(t)
	net.WaitForHeight(1)
	var txs []types.Transaction
	submitAll := func(i int) {
		t.Helper()
		for _, tx := range txs {
			if c := net.Submit(i, tx); c != tx.Commit() {
				t.Fatalf("submit at node %d answered %s, want the transaction's commitment %s", i, c.Short(), tx.Commit().Short())
			}
		}
	}
	for k := range 10 {
		txs = append(txs, types.Transaction{Namespace: 7, Payload: fmt.Appendf(nil, "first batch %d", k)})
	}
	submitAll(1)
	for _, tx := range txs {
		net.WaitForTransaction(tx.Commit(), 1)
	}
	// A restart empties node 1's mempool and its memory of what it
	// decided; the retries must still not be admitted again.
	net.Crash(1)
	net.Restart(1)
	submitAll(1)
	if n := net.Node(1).PendingTransactions(); n != 0 {
		t.Fatalf("node 1 admitted %d retried transactions that were already decided", n)
	}

	// Ten more, and node 1 crashes as soon as it accepted them: its peers,
	// which the submission gossiped them to, decide them while it is down.
	for k := range 10 {
		txs = append(txs, types.Transaction{Namespace: 8, Payload: fmt.Appendf(nil, "second batch %d", k)})
	}
	submitAll(1)
	net.Crash(1)
	for _, tx := range txs[10:] {
		net.WaitForTransaction(tx.Commit(), 0, 2, 3)
	}
	net.Restart(1)
	submitAll(1)

	// A few more blocks, in which a duplicate would show up.
	h := net.Node(0).BlockHeight()
	marker := net.Submit(2, types.Transaction{Namespace: 9, Payload: []byte("marker")})
	net.WaitForTransaction(marker)
	net.WaitForHeight(h + 5)
	net.CheckSameChain()
	counts := countIn(net.Chains(0)[0])
	for _, tx := range txs {
		if counts[tx.Commit()] != 1 {
			t.Fatalf("transaction %q decided %d times, want exactly once", tx.Payload, counts[tx.Commit()])
		}
	}
}

// TestRetryOfDecidedTransactionIsIdempotent: a transaction already
// decided, submitted again at a node that restarted since (and so forgot
// its mempool) and at one that did not, is answered with its commitment,
// admitted by neither, and stays decided once.
func TestRetryOfDecidedTransactionIsIdempotent(t *testing.T) {
	net := nodetest.New(t)
	tx := types.Transaction{Namespace: 3, Payload: []byte("pay once")}
	c := net.Submit(2, tx)
	net.WaitForTransaction(c)
	net.Crash(2)
	net.Restart(2)
	for _, i := range []int{2, 3} {
		if got := net.Submit(i, tx); got != c {
			t.Fatalf("retry at node %d answered %s, want %s", i, got.Short(), c.Short())
		}
		if n := net.Node(i).PendingTransactions(); n != 0 {
			t.Fatalf("node %d admitted the decided transaction again (%d pending)", i, n)
		}
	}
	net.WaitForHeight(net.Node(0).BlockHeight() + 5)
	if n := countIn(net.Chains(0)[0])[c]; n != 1 {
		t.Fatalf("transaction decided %d times, want once", n)
	}
}
