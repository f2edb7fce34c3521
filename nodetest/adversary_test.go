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

var simByzSeeds = flag.Int("sim.byzseeds", 2,
	"seeds each attack of TestSimulationByzantine, TestSimulationByzantineWithFaults and TestSimulationStoreFaults runs, from -sim.seed (CI runs 2; run 1000 locally)")

// attack is one Byzantine scenario of TestSimulationByzantine: who misbehaves
// how, and what the honest nodes must have defended beyond safety, liveness
// and at-most-once (checkSimResult, run for every attack).
type attack struct {
	name  string
	nodes int
	da    []int // the DA committee; nil for every node
	byz   map[int]nodetest.Behaviour
	// check asserts the attack's own property and returns what it
	// measured, for the log.
	check func(cfg nodetest.SimConfig, res *nodetest.SimResult) (string, error)
}

func attacks() []attack {
	return []attack{
		{name: "equivocating leader", nodes: 4, byz: byz(3, nodetest.EquivocatingLeader{}), check: forged},
		{name: "colluding leaders and voters", nodes: 7, byz: byz(1, nodetest.Colluding{}, 4, nodetest.Colluding{}), check: forged},
		{name: "double voter", nodes: 4, byz: byz(3, nodetest.DoubleVoter{}), check: forged},
		{name: "bad signatures", nodes: 4, byz: byz(3, nodetest.BadSignatures{}), check: badSignatures},
		{name: "future views", nodes: 4, byz: byz(3, nodetest.FutureViews{}), check: forged},
		{name: "stale high qc", nodes: 4, byz: byz(3, nodetest.StaleHighQC{}), check: signsLikeConsensus},
		{name: "fabricated high qc", nodes: 4, byz: byz(3, nodetest.FabricatedHighQC{}), check: fabricated},
		{name: "silent toward leaders", nodes: 4, byz: byz(3, nodetest.SilentToward{Leaders: []int{0, 1}}), check: withheld},
		{name: "withholding", nodes: 7, byz: byz(2, nodetest.Withhold{From: []int{0, 1, 5}}), check: withheld},
		{name: "replay", nodes: 4, byz: byz(3, nodetest.Replay{Every: 2}), check: noAmplification},
		{name: "vote flood", nodes: 4, byz: byz(3, nodetest.VoteFlood{Votes: 50}), check: noAmplification},
		{name: "wrong payload", nodes: 4, byz: byz(3, nodetest.WrongPayload{}), check: forged},
		{name: "withholding DA member", nodes: 7, da: []int{0, 1, 2, 3}, byz: byz(2, nodetest.WithholdDA{}), check: withheld},
		{name: "bad shares", nodes: 4, byz: byz(3, nodetest.BadShares{}), check: forged},
	}
}

func byz(kv ...any) map[int]nodetest.Behaviour {
	m := make(map[int]nodetest.Behaviour)
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(int)] = kv[i+1].(nodetest.Behaviour)
	}
	return m
}

// attackConfig derives a run of attack a from seed: network faults
// (partitions, up to 10 % loss) during a fault period of 1 to 4 s, so that
// timeouts and view sync happen and the behaviours that act on them fire.
func attackConfig(a attack, seed uint64) nodetest.SimConfig {
	r := rand.New(rand.NewPCG(seed, 0xb12))
	return nodetest.SimConfig{
		Seed: seed, Nodes: a.nodes, DA: a.da, Byzantine: a.byz,
		FaultPeriod: time.Duration(1000+r.IntN(3000)) * time.Millisecond,
		Recovery:    recoveryBound(a.nodes) + time.Second,
		StopAfter:   5,
		DropRate:    float64(r.IntN(11)) / 100,
		Partitions:  true,
	}
}

// TestSimulationByzantine runs every attack over -sim.byzseeds seeds. Each
// run must stay safe (the honest nodes decided one chain; no honest node
// sent two votes or two proposals for a view), live (every honest node
// decided above the height at heal within the sweep's recovery bound, then
// 5 more blocks), decide each transaction at most once, and pass the
// attack's own check.
func TestSimulationByzantine(t *testing.T) {
	for _, a := range attacks() {
		t.Run(a.name, func(t *testing.T) {
			t.Parallel()
			honest, b := runSeeds(t, *simByzSeeds, func(seed uint64) (nodetest.SimConfig, string) {
				return attackConfig(a, seed), a.name
			}, a.check)
			// Over all seeds, the attack must have happened, and a forged
			// certificate must have reached a collector that refused it.
			if b.Forged+b.Replayed+b.Withheld == 0 {
				t.Errorf("over %d seeds the Byzantine nodes did nothing an honest node would not", *simByzSeeds)
			}
			if _, ok := a.byz[3].(nodetest.FabricatedHighQC); ok && honest.InvalidQCs == 0 {
				t.Errorf("over %d seeds no fabricated qc reached a node that checked it (%d forged)", *simByzSeeds, b.Forged)
			}
			if _, ok := a.byz[3].(nodetest.BadShares); ok && honest.BadShares == 0 {
				t.Errorf("over %d seeds no bad share reached a node that checked it (%d forged)", *simByzSeeds, b.Forged)
			}
			if _, ok := a.byz[3].(nodetest.WrongPayload); ok && honest.InvalidMessages == 0 {
				t.Errorf("over %d seeds no DA member refused a payload that does not match its commitment (%d forged)", *simByzSeeds, b.Forged)
			}
			t.Logf("over %d seeds: Byzantine nodes forged %d, replayed %d and withheld %d messages; honest nodes counted %d invalid messages, "+
				"%d invalid qcs, %d bad vote signatures (%d single checks), %d future votes dropped, %d certificate checks refused",
				*simByzSeeds, b.Forged, b.Replayed, b.Withheld, honest.InvalidMessages, honest.InvalidQCs, honest.BadVoteSignatures,
				honest.SingleVoteChecks, honest.FutureVotesDropped, honest.CertificateChecksRefused)
		})
	}
}

// runSeeds runs the configurations mk derives from seeds -sim.seed onwards
// with the common checks and check, logging a summary; it returns the
// honest and the Byzantine nodes' counters summed over the seeds.
func runSeeds(t *testing.T, seeds int, mk func(uint64) (nodetest.SimConfig, string),
	check func(nodetest.SimConfig, *nodetest.SimResult) (string, error)) (nodetest.SimNodeStats, nodetest.ByzantineStats) {
	t.Helper()
	start := time.Now()
	var worst time.Duration
	var last string
	var honest nodetest.SimNodeStats
	var byzantine nodetest.ByzantineStats
	for seed := *simFirst; seed < *simFirst+uint64(seeds); seed++ {
		cfg, desc := mk(seed)
		replay := fmt.Sprintf("replay: go test ./nodetest -run '%s$' -sim.seed=%d -sim.byzseeds=1", t.Name(), seed)
		res, err := nodetest.Simulate(cfg)
		if err != nil {
			t.Fatalf("%s: %v (%s)", desc, err, replay)
		}
		if err := checkSimResult(cfg, res, recoveryBound(cfg.Nodes)); err != nil {
			t.Fatalf("seed %d, %s: %v (%s)", seed, desc, err, replay)
		}
		if check != nil {
			m, err := check(cfg, res)
			if err != nil {
				t.Fatalf("seed %d, %s: %v (%s)", seed, desc, err, replay)
			}
			last = m
		}
		worst = max(worst, res.Recovery)
		h, b := honestStats(cfg, res), byzStats(res)
		honest.InvalidMessages += h.InvalidMessages
		honest.InvalidQCs += h.InvalidQCs
		honest.BadVoteSignatures += h.BadVoteSignatures
		honest.SingleVoteChecks += h.SingleVoteChecks
		honest.FutureVotesDropped += h.FutureVotesDropped
		honest.CertificateChecksRefused += h.CertificateChecksRefused
		honest.BadShares += h.BadShares
		byzantine.Forged += b.Forged
		byzantine.Replayed += b.Replayed
		byzantine.Withheld += b.Withheld
		byzantine.SigningMismatches += b.SigningMismatches
	}
	t.Logf("%d seeds from %d in %v; worst recovery %v; last seed: %s", seeds, *simFirst, time.Since(start).Round(time.Millisecond), worst, last)
	return honest, byzantine
}

// byzStats sums the Byzantine nodes' counters.
func byzStats(res *nodetest.SimResult) nodetest.ByzantineStats {
	var s nodetest.ByzantineStats
	for _, b := range res.Byzantine {
		s.Forged += b.Forged
		s.Replayed += b.Replayed
		s.Withheld += b.Withheld
		s.SigningMismatches += b.SigningMismatches
	}
	return s
}

// honestStats sums the honest nodes' counters.
func honestStats(cfg nodetest.SimConfig, res *nodetest.SimResult) nodetest.SimNodeStats {
	var s nodetest.SimNodeStats
	for i, n := range res.Nodes {
		if _, b := cfg.Byzantine[i]; !b {
			s.InvalidMessages += n.InvalidMessages
			s.InvalidQCs += n.InvalidQCs
			s.BadVoteSignatures += n.BadVoteSignatures
			s.SingleVoteChecks += n.SingleVoteChecks
			s.FutureVotesDropped += n.FutureVotesDropped
			s.CertificateChecksRefused += n.CertificateChecksRefused
			s.BadShares += n.BadShares
		}
	}
	return s
}

// forged reports what the behaviour made; the properties defended are
// safety and liveness, which checkSimResult asserts (and
// TestSimulationByzantine checks that the attack happened over its seeds).
func forged(cfg nodetest.SimConfig, res *nodetest.SimResult) (string, error) {
	b, h := byzStats(res), honestStats(cfg, res)
	return fmt.Sprintf("%d messages forged, %d refused by honest nodes", b.Forged, h.InvalidMessages), nil
}

// badSignatures checks that every bad signature costs its receiver at most
// one single check, and that the honest nodes found some.
func badSignatures(cfg nodetest.SimConfig, res *nodetest.SimResult) (string, error) {
	h := honestStats(cfg, res)
	if h.BadVoteSignatures == 0 && h.InvalidMessages == 0 {
		return "", fmt.Errorf("no bad signature was counted by an honest node")
	}
	return fmt.Sprintf("%d bad vote signatures, %d single checks, %d invalid messages at honest nodes",
		h.BadVoteSignatures, h.SingleVoteChecks, h.InvalidMessages), nil
}

// signsLikeConsensus checks that the behaviour re-signed votes (re-signing
// reproduced every honest signature); stale
// high QCs are valid, so the defended property is liveness despite them.
func signsLikeConsensus(cfg nodetest.SimConfig, res *nodetest.SimResult) (string, error) {
	b := byzStats(res)
	if b.SigningMismatches > 0 {
		return "", fmt.Errorf("%d honest signatures not reproduced by the behaviour's re-signing (signTimeout, signViewSync)", b.SigningMismatches)
	}
	return fmt.Sprintf("%d timeout or view-sync votes sent with a stale high qc", b.Forged), nil
}

// fabricated checks that a made-up high QC costs its receiver at most one
// failed certificate check per forged vote (InvalidQCs ≤ Forged), and
// that none got through (the honest nodes' chains are one, checked by
// checkSimResult).
func fabricated(cfg nodetest.SimConfig, res *nodetest.SimResult) (string, error) {
	b, h := byzStats(res), honestStats(cfg, res)
	if b.SigningMismatches > 0 {
		return signsLikeConsensus(cfg, res)
	}
	if h.InvalidQCs > b.Forged {
		return "", fmt.Errorf("%d invalid qcs counted by honest nodes for %d forged votes: a forged certificate was checked more than once", h.InvalidQCs, b.Forged)
	}
	return fmt.Sprintf("%d votes with a fabricated qc, %d refused", b.Forged, h.InvalidQCs), nil
}

// withheld reports what the node withheld; the property defended is
// liveness, which checkSimResult asserts.
func withheld(cfg nodetest.SimConfig, res *nodetest.SimResult) (string, error) {
	b := byzStats(res)
	return fmt.Sprintf("%d messages withheld", b.Withheld), nil
}

// noAmplification checks the defended resource of replays and floods: an
// honest node's traffic. What an honest node sends the attacker beyond
// what it sends an average honest peer (its answers to stale or replayed
// votes) is at most what the attacker sent it (docs/protocol.md, "View
// transitions": no member can make a node send more messages than it
// sends itself). The flood's or replay's own frames are counted too.
func noAmplification(cfg nodetest.SimConfig, res *nodetest.SimResult) (string, error) {
	var attacker int
	for i := range cfg.Byzantine {
		attacker = i
	}
	var msg string
	for i := range res.Frames {
		if i == attacker {
			continue
		}
		var sum, peers uint64
		for j := range res.Frames {
			if j != i && j != attacker {
				sum += res.Frames[i][j]
				peers++
			}
		}
		mean := sum / peers
		toAttacker, fromAttacker := res.Frames[i][attacker], res.Frames[attacker][i]
		extra := uint64(0)
		if toAttacker > mean {
			extra = toAttacker - mean
		}
		if extra > fromAttacker {
			return "", fmt.Errorf("node %d sent the attacker %d frames, %d more than to an honest peer, for %d it received", i, toAttacker, extra, fromAttacker)
		}
		if i == 0 {
			msg = fmt.Sprintf("node 0 sent the attacker %d frames (an honest peer %d) and received %d", toAttacker, mean, fromAttacker)
		}
	}
	b := byzStats(res)
	return fmt.Sprintf("%s; %d forged, %d replayed", msg, b.Forged, b.Replayed), nil
}

// TestSimulationByzantineWithFaults runs Byzantine nodes, crashes and store
// faults in one run, within the fault budget: 7 nodes (f = 2), one of them
// Byzantine with a behaviour chosen by seed, and crashes and store faults
// taking the remaining fault.
func TestSimulationByzantineWithFaults(t *testing.T) {
	all := attacks()
	var mu sync.Mutex
	var halts, crashes int
	_, _ = runSeeds(t, 2*(*simByzSeeds), func(seed uint64) (nodetest.SimConfig, string) {
		a := all[seed%uint64(len(all))]
		cfg := attackConfig(a, seed)
		cfg.Nodes = 7
		for i, b := range a.byz {
			cfg.Byzantine = map[int]nodetest.Behaviour{i: b}
			break
		}
		cfg.Recovery = recoveryBound(cfg.Nodes) + time.Second
		cfg.Crashes, cfg.StoreFaults = true, true
		return cfg, a.name + ", crashes and store faults, 7 nodes"
	}, func(cfg nodetest.SimConfig, res *nodetest.SimResult) (string, error) {
		h, c := 0, 0
		for _, n := range res.Nodes {
			h += n.Halts
			c += n.Crashes
		}
		mu.Lock()
		halts, crashes = halts+h, crashes+c
		mu.Unlock()
		return fmt.Sprintf("%d halts, %d crashes", h, c), checkRestarts(cfg, res)
	})
	if halts+crashes == 0 {
		t.Error("no node crashed or halted in any seed")
	}
	t.Logf("%d halts on store faults and %d crashes in all", halts, crashes)
}

// checkRestarts checks that every honest node that crashed or halted was
// restarted and caught up: it decided a block above the height it
// restarted from.
func checkRestarts(cfg nodetest.SimConfig, res *nodetest.SimResult) error {
	for i, n := range res.Nodes {
		if _, b := cfg.Byzantine[i]; b {
			continue
		}
		if n.Crashes+n.Halts > 0 && n.Restarts == 0 {
			return fmt.Errorf("node %d crashed %d times and halted %d times but never restarted", i, n.Crashes, n.Halts)
		}
		if !n.CaughtUp {
			return fmt.Errorf("node %d did not decide above height %d after its last restart", i, n.RestartHeight)
		}
	}
	return nil
}

// TestSimulationStoreFaults injects each kind of failed write (each store
// operation, the write lost or stored but unacknowledged) over several
// seeds: nodes must halt on it (in some seed), and every node that halted
// must be restarted from its store and catch up, with no honest node
// voting or proposing twice in a view, one chain, and each transaction
// decided at most once.
func TestSimulationStoreFaults(t *testing.T) {
	for op := range 4 {
		for _, mode := range []nodetest.FaultMode{nodetest.LostWrite, nodetest.UnacknowledgedWrite} {
			kind := nodetest.StoreFault{Op: nodetest.StoreOp(op), Mode: mode}
			t.Run(fmt.Sprintf("%s/%s", kind.Op, kind.Mode), func(t *testing.T) {
				t.Parallel()
				halted := 0
				_, _ = runSeeds(t, *simByzSeeds, func(seed uint64) (nodetest.SimConfig, string) {
					r := rand.New(rand.NewPCG(seed, 0x57))
					n := 4 + 3*r.IntN(2)
					cfg := nodetest.SimConfig{
						Seed: seed, Nodes: n, FaultPeriod: 3 * time.Second, Recovery: recoveryBound(n) + time.Second,
						StopAfter: 5, DropRate: float64(r.IntN(6)) / 100, StoreFaults: true,
						StoreFaultKinds: []nodetest.StoreFault{kind},
					}
					if kind.Op == nodetest.OpSaveState {
						// A snapshot is saved every 64 blocks: a longer
						// fault period without loss reaches a few.
						cfg.FaultPeriod, cfg.DropRate = 6*time.Second, 0
					}
					return cfg, fmt.Sprintf("%d nodes, store faults %v", n, kind)
				}, func(cfg nodetest.SimConfig, res *nodetest.SimResult) (string, error) {
					halts := 0
					for _, n := range res.Nodes {
						halts += n.Halts
						for _, f := range n.StoreFaults {
							if f.Op != kind.Op || f.Mode != kind.Mode {
								return "", fmt.Errorf("fault %v fired, want only %v", f, kind)
							}
						}
					}
					halted += halts
					return fmt.Sprintf("%d halts", halts), checkRestarts(cfg, res)
				})
				// A snapshot is saved only every 64 blocks, so a run may end
				// its fault period before a SaveState fault fires: the
				// seeds together must have fired the fault.
				if halted == 0 {
					t.Errorf("no node halted on a store fault in %d seeds", *simByzSeeds)
				}
			})
		}
	}
}
