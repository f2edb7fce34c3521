package nodetest_test

import (
	"flag"
	"fmt"
	"reflect"
	"slices"
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
			FaultPeriod: 10 * time.Second, Recovery: 10 * time.Second, StopAfter: 5,
			DropRate: 0.05, Crashes: true, Partitions: true,
		}
		res, err := nodetest.Simulate(cfg)
		replay := fmt.Sprintf("replay: go test ./nodetest -run TestSimulation -sim.seed=%d -sim.seeds=1", seed)
		if err != nil {
			t.Fatalf("seed %d: %v (%s)", seed, err, replay)
		}
		if err := checkSimResult(cfg, res, cfg.Recovery); err != nil {
			t.Fatalf("seed %d: %v (%s)", seed, err, replay)
		}
		t.Logf("seed %d: %d nodes, %d events, height %d at heal, recovered after %v",
			seed, cfg.Nodes, res.Steps, res.HeightAtHeal, res.Recovery)
	}
}

// checkSimResult checks a simulated execution: the nodes that are not
// Byzantine decided the same chain (safety), each decided a block above the
// height decided when faults healed within bound, and then cfg.StopAfter
// blocks (liveness), and no transaction was decided twice.
func checkSimResult(cfg nodetest.SimConfig, res *nodetest.SimResult, bound time.Duration) error {
	var honest [][]types.Block
	for i, c := range res.Chains {
		if _, byz := cfg.Byzantine[i]; !byz {
			honest = append(honest, c)
		}
	}
	if err := nodetest.CheckSameChain(honest...); err != nil {
		return fmt.Errorf("safety: %w", err)
	}
	if !res.Recovered || res.Recovery > bound {
		return fmt.Errorf("liveness: an honest node decided nothing above height %d within %v after faults healed", res.HeightAtHeal, bound)
	}
	for i, c := range honest {
		if h := uint64(len(c)) - 1; h < res.HeightAtHeal+cfg.StopAfter {
			return fmt.Errorf("liveness: honest node %d at height %d at the end, want %d (height at heal) + %d", i, h, res.HeightAtHeal, cfg.StopAfter)
		}
	}
	longest := slices.MaxFunc(honest, func(a, b []types.Block) int { return len(a) - len(b) })
	counts := make(map[types.Commitment]int)
	for _, b := range longest {
		txs, err := b.Payload.Transactions()
		if err != nil {
			return fmt.Errorf("decided payload at height %d: %w", b.Leaf.Height(), err)
		}
		for _, tx := range txs {
			if counts[tx.Commit()]++; counts[tx.Commit()] > 1 {
				return fmt.Errorf("transaction %s decided twice", tx.Commit().Short())
			}
		}
	}
	return nil
}

// TestSimulationIsDeterministic runs each configuration twice: one seed
// must give the same execution (events, chains, traffic, counters), with
// crashes, store faults and stateful Byzantine behaviours included.
func TestSimulationIsDeterministic(t *testing.T) {
	for _, cfg := range []nodetest.SimConfig{
		{Seed: 42, FaultPeriod: 3 * time.Second, Recovery: 2 * time.Second, DropRate: 0.1, Crashes: true, Partitions: true},
		{Seed: 43, Nodes: 7, FaultPeriod: 3 * time.Second, Recovery: 2 * time.Second, DropRate: 0.05, Partitions: true,
			Byzantine: map[int]nodetest.Behaviour{1: nodetest.Colluding{}, 4: nodetest.Colluding{}}},
		{Seed: 44, Nodes: 7, FaultPeriod: 3 * time.Second, Recovery: 2 * time.Second, DropRate: 0.05, Crashes: true, StoreFaults: true,
			Byzantine: map[int]nodetest.Behaviour{3: nodetest.Replay{Every: 2}}},
		{Seed: 45, FaultPeriod: 3 * time.Second, Recovery: 2 * time.Second, DropRate: 0.1, Partitions: true,
			Byzantine: map[int]nodetest.Behaviour{2: nodetest.StaleHighQC{}}},
	} {
		t.Run(fmt.Sprint(cfg.Seed), func(t *testing.T) {
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
			if !reflect.DeepEqual(a.Frames, b.Frames) || !reflect.DeepEqual(a.Nodes, b.Nodes) || !reflect.DeepEqual(a.Byzantine, b.Byzantine) {
				t.Fatalf("same seed, different traffic or counters:\n%+v %+v %v\n%+v %+v %v", a.Nodes, a.Byzantine, a.Frames, b.Nodes, b.Byzantine, b.Frames)
			}
			if len(a.Chains[0]) < 3 {
				t.Fatalf("simulation decided only %d blocks", len(a.Chains[0]))
			}
		})
	}
}
