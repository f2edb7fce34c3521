package consensus_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/gospresso/gospresso/consensus"
)

// restartCluster stops every engine of c (messages in flight are lost) and
// starts them again from what each persisted, one after another in the
// order given: until a node has started, every message to it is lost, as
// on a network whose nodes come up at different times.
func restartCluster(c *cluster, cfg consensus.Config, order []int) {
	c.t.Helper()
	c.queue = nil
	started := make([]bool, len(c.engines))
	c.drop = func(env envelope) bool { return !started[env.to] }
	for _, i := range order {
		st := c.persisted[i]
		e, err := consensus.New(consensus.Params{
			Config:     cfg,
			StakeTable: c.h.table, Key: c.h.keys[i].Staking, Genesis: c.h.genesis, GenesisLeaf: c.h.leaf,
			Validator: emptyApp{c.h.rules}, Builder: emptyApp{c.h.rules},
			Restore: &st, Now: c.now,
		})
		if err != nil {
			c.t.Fatal(err)
		}
		c.engines[i] = e
		started[i] = true
		c.collect(i)
		c.deliver()
		c.now = c.now.Add(time.Millisecond)
	}
	c.drop = nil
}

// After the whole network restarts, whatever order its nodes come up in and
// wherever in a view it stopped, every node decides a new block long before
// a view timer could fire and without the leaders waiting for transactions
// (docs/protocol.md, "Restarts"): the restarted nodes greet the ones that
// start after them with what those missed (high QC, proposal, votes), a
// restarted leader's first proposal is made at once, and a node that can
// only time out of its view does so once it has heard from a quorum.
// Without that, a proposal or vote sent before its receiver was up is lost
// and the network waits for a view timeout. Stopped mid-view, no node times
// out at all; stopped after the votes of a view were lost with their
// collector, every node times out once, as soon as it has heard from a
// quorum and from that collector.
func TestFullRestartDecidesWithoutATimeout(t *testing.T) {
	cfg := consensus.Config{
		NextViewTimeout: 10 * time.Second,
		ViewSyncTimeout: time.Second,
		BuilderTimeout:  300 * time.Millisecond,
		FetchTimeout:    time.Second,
	}
	for first := range 4 {
		for _, stop := range []string{"at-once", "mid-view", "votes-lost"} {
			t.Run(fmt.Sprintf("first=%d/stop=%s", first, stop), func(t *testing.T) {
				c := newClusterWith(t, 4, cfg)
				if _, ok := c.runUntil(30*time.Second, func() bool { return c.height[0] >= 3 }); !ok {
					t.Fatalf("heights %v: no progress before the restart", c.height)
				}
				maxTimeouts := uint64(0)
				switch stop {
				case "mid-view":
					c.run(150 * time.Millisecond) // in the middle of a builder wait
				case "votes-lost":
					// Every node votes in its view; every vote is lost.
					c.drop = func(env envelope) bool { _, vote := env.m.(*consensus.Vote); return vote }
					if _, ok := c.runUntil(time.Second, func() bool {
						for _, e := range c.engines {
							if e.Stats().LastVotedView < e.View() {
								return false
							}
						}
						return true
					}); !ok {
						t.Fatalf("views %v: not every node voted in its view", c.views())
					}
					maxTimeouts = 1
				}
				before := uint64(0)
				for _, h := range c.height {
					before = max(before, h)
				}
				order := []int{first, (first + 1) % 4, (first + 2) % 4, (first + 3) % 4}
				start := c.now
				restartCluster(c, cfg, order)
				took, ok := c.runUntil(2*cfg.NextViewTimeout, func() bool {
					for i := range c.engines {
						if c.height[i] <= before {
							return false
						}
					}
					return true
				})
				took += c.now.Sub(start) - took // from the first node's start
				if !ok {
					t.Fatalf("views %v, heights %v: no new block above %d at every node after the restart", c.views(), c.height, before)
				}
				for i, e := range c.engines {
					if s := e.Stats(); s.Timeouts > maxTimeouts {
						t.Errorf("node %d timed out %d times before every node decided after the restart, want at most %d", i, s.Timeouts, maxTimeouts)
					}
				}
				if took >= cfg.BuilderTimeout {
					t.Errorf("every node decided a new block %v after the restart, want less than the builder timeout (%v): a leader waited for transactions", took, cfg.BuilderTimeout)
				}
			})
		}
	}
}
