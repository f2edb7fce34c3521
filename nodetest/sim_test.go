package nodetest_test

import (
	"flag"
	"testing"
	"time"

	"github.com/gospresso/gospresso/nodetest"
	"github.com/gospresso/gospresso/types"
)

var (
	simSeeds = flag.Int("sim.seeds", 4, "number of seeds TestSimulation runs")
	simFirst = flag.Uint64("sim.seed", 1, "first seed TestSimulation runs (to replay a failure, pass its seed with -sim.seeds=1)")
)

func TestSimulation(t *testing.T) {
	for seed := *simFirst; seed < *simFirst+uint64(*simSeeds); seed++ {
		cfg := nodetest.SimConfig{
			Seed: seed, Nodes: 4 + int(seed%2)*3, // 4 or 7 nodes
			FaultPeriod: 10 * time.Second, Recovery: 10 * time.Second,
			DropRate: 0.05, Crashes: true, Partitions: true,
		}
		res, err := nodetest.Simulate(cfg)
		if err != nil {
			t.Fatalf("seed %d: %v (replay: go test ./nodetest -run TestSimulation -sim.seed=%d -sim.seeds=1)", seed, err, seed)
		}
		if err := nodetest.CheckSameChain(res.Chains...); err != nil {
			t.Fatalf("seed %d: safety: %v (replay: -sim.seed=%d -sim.seeds=1)", seed, err, seed)
		}
		final := uint64(len(res.Chains[0])) - 1
		for _, c := range res.Chains {
			final = min(final, uint64(len(c))-1)
		}
		if final < res.HeightAtHeal+5 {
			t.Fatalf("seed %d: liveness: every node at height >= %d after recovery, want > %d (height when faults stopped) + 5 (replay: -sim.seed=%d -sim.seeds=1)",
				seed, final, res.HeightAtHeal, seed)
		}
		counts := make(map[types.Commitment]int)
		for _, b := range res.Chains[0] {
			txs, err := b.Payload.Transactions()
			if err != nil {
				t.Fatal(err)
			}
			for _, tx := range txs {
				counts[tx.Commit()]++
			}
		}
		for c, k := range counts {
			if k > 1 {
				t.Fatalf("seed %d: transaction %s decided %d times", seed, c.Short(), k)
			}
		}
		t.Logf("seed %d: %d nodes, %d events, height %d at heal, %d after recovery, %d of %d transactions decided",
			seed, cfg.Nodes, res.Steps, res.HeightAtHeal, final, len(counts), len(res.Submitted))
	}
}

func TestSimulationIsDeterministic(t *testing.T) {
	cfg := nodetest.SimConfig{Seed: 42, FaultPeriod: 3 * time.Second, Recovery: 2 * time.Second, DropRate: 0.1, Crashes: true, Partitions: true}
	a, err := nodetest.Simulate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := nodetest.Simulate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if a.Steps != b.Steps {
		t.Fatalf("same seed, %d and %d events", a.Steps, b.Steps)
	}
	for i := range a.Chains {
		if len(a.Chains[i]) != len(b.Chains[i]) {
			t.Fatalf("node %d: same seed, chains of %d and %d blocks", i, len(a.Chains[i]), len(b.Chains[i]))
		}
		for h := range a.Chains[i] {
			if a.Chains[i][h].Leaf.Commit() != b.Chains[i][h].Leaf.Commit() {
				t.Fatalf("node %d: same seed, different leaf at height %d", i, h)
			}
		}
	}
	if len(a.Chains[0]) < 3 {
		t.Fatalf("simulation decided only %d blocks", len(a.Chains[0]))
	}
}

func TestSimulationByzantine(t *testing.T) {
	for name, b := range map[string]nodetest.Behaviour{
		"equivocating leader": nodetest.EquivocatingLeader{},
		"double voter":        nodetest.DoubleVoter{},
		"bad signatures":      nodetest.BadSignatures{},
		"future views":        nodetest.FutureViews{},
	} {
		t.Run(name, func(t *testing.T) {
			seed := *simFirst
			cfg := nodetest.SimConfig{
				Seed: seed, Nodes: 4, FaultPeriod: 5 * time.Second, Recovery: 5 * time.Second,
				DropRate: 0.02, Partitions: true, Byzantine: map[int]nodetest.Behaviour{3: b},
			}
			res, err := nodetest.Simulate(cfg)
			if err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			honest := res.Chains[:3]
			if err := nodetest.CheckSameChain(honest...); err != nil {
				t.Fatalf("seed %d: safety: %v", seed, err)
			}
			for i, c := range honest {
				if uint64(len(c))-1 < res.HeightAtHeal+5 {
					t.Fatalf("seed %d: node %d at height %d after recovery, height at heal %d", seed, i, len(c)-1, res.HeightAtHeal)
				}
			}
		})
	}
}
