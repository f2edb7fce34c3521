package nodetest_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/gospresso/gospresso/nodetest"
)

// recoveryBound is the liveness bound the sweep checks for n nodes: once
// faults heal, every honest node decides a block above the height decided
// when they healed within three capped view timers plus one full cycle of
// view-sync relays (docs/protocol.md, "Liveness after faults"). With
// FastConsensus that is 9 s + n × 200 ms.
func recoveryBound(n int) time.Duration {
	c := nodetest.FastConsensus
	return 3*10*c.NextViewTimeout + time.Duration(n)*c.ViewSyncTimeout
}

var simSweep = flag.Int("sim.sweep", 0, "number of seeds TestSimulationSweep runs beyond its fixed CI sample (starting at -sim.seed)")

// sweepConfig derives one adversarial configuration from seed. The three
// families the sweep rotates through are the ones that found liveness bugs:
// heavy message loss alone, crashes (and failed store writes) with
// partitions and loss, and one Byzantine member, with each behaviour of
// docs/testing.md in turn (withholding from part of the network the most
// often).
func sweepConfig(seed uint64) (nodetest.SimConfig, string) {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	n := 4 + r.IntN(7) // 4 to 10 nodes
	cfg := nodetest.SimConfig{
		Seed:        seed,
		Nodes:       n,
		FaultPeriod: time.Duration(500+r.IntN(4500)) * time.Millisecond,
		Recovery:    recoveryBound(n) + time.Second,
		StopAfter:   5,
	}
	var desc string
	switch seed % 3 {
	case 0: // message loss only
		cfg.DropRate = float64(r.IntN(31)) / 100
		desc = fmt.Sprintf("%d%% drops", int(cfg.DropRate*100))
	case 1: // crashes, partitions and loss
		cfg.DropRate = float64(r.IntN(16)) / 100
		cfg.Crashes, cfg.Partitions = true, true
		cfg.StoreFaults = r.IntN(2) == 0
		desc = fmt.Sprintf("crashes, partitions, %d%% drops, store faults %v", int(cfg.DropRate*100), cfg.StoreFaults)
	case 2: // one Byzantine member
		f := (n - 1) / 3
		byz := r.IntN(n)
		var from []int
		for i := range n {
			if i != byz && r.IntN(2) == 0 {
				from = append(from, i)
			}
		}
		behaviours := []nodetest.Behaviour{
			nodetest.Withhold{From: from}, nodetest.SilentToward{Leaders: from}, nodetest.EquivocatingLeader{},
			nodetest.Colluding{}, nodetest.DoubleVoter{}, nodetest.BadSignatures{}, nodetest.FutureViews{},
			nodetest.StaleHighQC{}, nodetest.FabricatedHighQC{}, nodetest.Replay{Every: 2}, nodetest.VoteFlood{Votes: 20},
		}
		b := behaviours[0]
		if k := r.IntN(2 * len(behaviours)); k < len(behaviours) {
			b = behaviours[k]
		}
		cfg.Byzantine = map[int]nodetest.Behaviour{byz: b}
		cfg.DropRate = float64(r.IntN(21)) / 100
		if f > 1 {
			// Crashes and store faults take the remaining budget.
			cfg.Crashes = r.IntN(2) == 0
			cfg.StoreFaults = r.IntN(2) == 0
		}
		desc = fmt.Sprintf("member %d is %T%+v, %d%% drops, crashes %v, store faults %v", byz, b, b, int(cfg.DropRate*100), cfg.Crashes, cfg.StoreFaults)
	}
	return cfg, fmt.Sprintf("%d nodes, %v faults, %s", n, cfg.FaultPeriod, desc)
}

func TestSimulationSweep(t *testing.T) {
	seeds := 12 + *simSweep
	var (
		mu        sync.Mutex
		worst     time.Duration
		worstSeed uint64
		ran       int
	)
	t.Run("seeds", func(t *testing.T) {
		for seed := *simFirst; seed < *simFirst+uint64(seeds); seed++ {
			cfg, desc := sweepConfig(seed)
			t.Run(fmt.Sprint(seed), func(t *testing.T) {
				t.Parallel()
				res, err := nodetest.Simulate(cfg)
				replay := fmt.Sprintf("replay: go test ./nodetest -run 'TestSimulationSweep/seeds/%d$' -sim.seed=%d -sim.sweep=-11", seed, seed)
				if err != nil {
					t.Fatalf("%s: %v (%s)", desc, err, replay)
				}
				if err := checkSimResult(cfg, res, recoveryBound(cfg.Nodes)); err != nil {
					t.Fatalf("%s: %v (%s)", desc, err, replay)
				}
				mu.Lock()
				defer mu.Unlock()
				ran++
				if res.Recovery > worst {
					worst, worstSeed = res.Recovery, seed
				}
			})
		}
	})
	t.Logf("%d of %d seeds passed; worst recovery %v (seed %d)", ran, seeds, worst, worstSeed)
}
