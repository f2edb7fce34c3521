package nodetest_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/nodetest"
)

// catchupConfig has short view and view-sync timeouts, so the views a
// crashed node leads (or collects the votes of) pass quickly.
var catchupConfig = consensus.Config{BuilderTimeout: time.Millisecond, NextViewTimeout: 200 * time.Millisecond, ViewSyncTimeout: 200 * time.Millisecond}

// A node whose store was wiped catches up hundreds of blocks by
// checkpoints (docs/protocol.md, "Long gaps"), from real nodes serving
// header and block requests off their run loops, and ends with the same
// chain as its peers.
func TestWipedNodeCatchesUpByCheckpoints(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := nodetest.New(t, nodetest.Consensus(catchupConfig))
		net.WaitForHeight(400)
		net.Crash(3)
		net.WipeStore(3)
		target := net.Node(0).BlockHeight()
		net.Restart(3)
		net.WaitForHeight(target, 3)
		if s := net.Node(3).Stats(); s.CatchupSessions == 0 {
			t.Errorf("node 3 caught up %d blocks without a catch-up session (stats %+v)", target, s)
		}
		net.CheckSameChain()
	})
}

// A wiped node behind two peers' pruning horizon catches up from the
// third, archival, one: the pruned peers answer that they pruned, and it
// asks on at once.
func TestCatchupFromTheArchivalPeer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := nodetest.New(t, nodetest.Consensus(catchupConfig))
		net.WaitForHeight(300)
		net.Crash(3)
		net.WipeStore(3)
		ctx := context.Background()
		for _, i := range []int{0, 2} {
			if err := net.Store(i).PruneBefore(ctx, 200); err != nil {
				t.Fatal(err)
			}
		}
		target := net.Node(1).BlockHeight()
		net.Restart(3)
		net.WaitForHeight(target, 3)
		if s := net.Node(3).Stats(); s.CatchupSessions == 0 || s.BehindPruningHorizon != 0 {
			t.Errorf("node 3: %d catch-up sessions, %d times behind the horizon; want at least 1 and 0", s.CatchupSessions, s.BehindPruningHorizon)
		}
		net.CheckSameChain(1, 3)
	})
}
