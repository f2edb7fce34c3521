package consensus_test

import (
	"testing"
	"time"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/types"
)

// wipe runs the cluster until it decides past height h, then replaces
// node i with a new engine at genesis, as a node whose store was wiped.
func (c *cluster) wipe(i int, h uint64) {
	c.t.Helper()
	if _, ok := c.runUntil(time.Minute, func() bool { return c.height[0] >= h }); !ok {
		c.t.Fatalf("heights %v: the nodes did not reach height %d", c.height, h)
	}
	e, err := consensus.New(consensus.Params{
		Config: clusterConfig, StakeTable: c.h.table, Key: c.h.keys[i].Staking, Genesis: c.h.genesis, GenesisLeaf: c.h.leaf,
		Validator: emptyApp{c.h.rules}, Builder: emptyApp{c.h.rules}, Now: c.now, Logger: clusterLogger(i),
	})
	if err != nil {
		c.t.Fatal(err)
	}
	c.engines[i] = e
	c.decided[i] = map[types.Commitment]consensus.FetchedLeaf{c.h.leaf.Commit(): {Leaf: c.h.leaf}}
	c.height[i] = 0
	c.maxLeaves[i], c.maxDecided[i] = 0, 0
	c.collect(i)
}

// A node far behind catches up by checkpoints: one session, its requests
// linear in the gap (a header walk, then one block request per batch of
// MaxFetchLeaves), never more than about a batch of leaves in memory, and
// blocks decided a batch at a time as they arrive, not all at the end.
func TestLongCatchupDecidesBatchByBatch(t *testing.T) {
	c := newCluster(t, 4)
	const gap = 300
	c.wipe(3, gap)
	target := c.height[0]
	before := c.engines[3].Stats()
	if _, ok := c.runUntil(time.Minute, func() bool { return c.height[3] >= target }); !ok {
		t.Fatalf("node 3 at height %d, the others at %v: no catch-up", c.height[3], c.height)
	}
	s := c.engines[3].Stats()
	if got := s.CatchupSessions - before.CatchupSessions; got != 1 {
		t.Errorf("%d catch-up sessions, want 1", got)
	}
	// A header walk of ceil(gap/MaxHeaderLeaves) answers, a block request
	// per checkpoint, and a few for the tip. Allow the live network's own
	// fetches on top.
	requests := s.FetchRequests - before.FetchRequests
	want := uint64(target/consensus.MaxFetchLeaves + target/consensus.MaxHeaderLeaves + 2)
	if requests > want+10 {
		t.Errorf("%d fetch requests for a gap of %d blocks, want about %d", requests, target, want)
	}
	// Checkpoint batches are MaxFetchLeaves blocks; the last step decides
	// what lies between the last checkpoint and the tip, less than the
	// 2×MaxFetchLeaves gap that starts a session plus one batch.
	if got := c.maxDecided[3]; got > 3*consensus.MaxFetchLeaves {
		t.Errorf("node 3 decided %d blocks in one step, want at most %d", got, 3*consensus.MaxFetchLeaves)
	}
	if got := c.maxLeaves[3]; got > 3*consensus.MaxFetchLeaves {
		t.Errorf("node 3 held %d leaves at once, want at most %d (a few batches, whatever the gap)", got, 3*consensus.MaxFetchLeaves)
	}
	for cm, l := range c.decided[0] {
		if l.Leaf.Height() > target {
			continue
		}
		if _, ok := c.decided[3][cm]; !ok {
			t.Fatalf("node 3 lacks block %d that node 0 decided", l.Leaf.Height())
		}
	}
	if n := c.engines[3].PendingFetches(); n > 2 {
		t.Errorf("%d fetches still under way after the catch-up, want at most 2 (leaves that can no longer matter are not asked for)", n)
	}
	t.Logf("gap %d: %d requests, at most %d leaves held, at most %d blocks decided per step",
		target, requests, c.maxLeaves[3], c.maxDecided[3])
}

// A node behind every peer's pruning horizon says so and stops asking,
// rather than asking forever; with one archival peer it catches up.
func TestCatchupBehindPruningHorizon(t *testing.T) {
	c := newCluster(t, 4)
	c.wipe(3, 200)
	c.firstHeight = map[int]uint64{0: 150, 1: 150, 2: 150}
	c.run(3 * time.Second)
	s := c.engines[3].Stats()
	if s.BehindPruningHorizon == 0 {
		t.Fatalf("node 3 at height %d did not report being behind the pruning horizon (stats %+v)", c.height[3], s)
	}
	if c.height[3] >= 150 {
		t.Fatalf("node 3 reached height %d, though every peer pruned below 150", c.height[3])
	}
	asked := s.FetchRequests
	c.run(3 * time.Second)
	if more := c.engines[3].Stats().FetchRequests - asked; more > 8 {
		t.Errorf("node 3 sent %d more fetch requests after giving up, want a bounded few", more)
	}
	// An archival peer serves the whole chain.
	delete(c.firstHeight, 1)
	target := c.height[0]
	if _, ok := c.runUntil(30*time.Second, func() bool { return c.height[3] >= target }); !ok {
		t.Fatalf("node 3 at height %d with an archival peer, want %d", c.height[3], target)
	}
}
