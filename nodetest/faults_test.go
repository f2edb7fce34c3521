package nodetest_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/nodetest"
)

// quick makes timeouts short, for tests whose faults need them.
var quick = nodetest.Consensus(consensus.Config{
	NextViewTimeout: 100 * time.Millisecond,
	ViewSyncTimeout: 80 * time.Millisecond,
	BuilderTimeout:  10 * time.Millisecond,
	FetchTimeout:    100 * time.Millisecond,
})

func TestProgressWithFCrashed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := nodetest.New(t, nodetest.Nodes(4), quick)
		net.WaitForHeight(3)
		net.Crash(2) // f = 1 of 3f+1 = 4
		h := net.Node(0).BlockHeight()
		net.WaitForHeight(h + 10)
		net.CheckSameChain()
	})
}

func TestNoProgressButNoForkWithFPlusOneCrashed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := nodetest.New(t, nodetest.Nodes(4), quick)
		net.WaitForHeight(3)
		net.Crash(1)
		net.Crash(2)
		net.Elapse(100 * time.Millisecond) // let in-flight decides land
		h0, h3 := net.Node(0).BlockHeight(), net.Node(3).BlockHeight()
		net.Elapse(time.Second) // several view timeouts
		if g0, g3 := net.Node(0).BlockHeight(), net.Node(3).BlockHeight(); g0 > max(h0, h3)+1 || g3 > max(h0, h3)+1 {
			t.Fatalf("with 2 of 4 nodes crashed the chain grew from %d/%d to %d/%d", h0, h3, g0, g3)
		}
		net.CheckSameChain()
		// Liveness returns with the quorum.
		net.Restart(1)
		net.WaitForHeight(max(h0, h3)+5, 0, 1, 3)
		net.CheckSameChain()
	})
}

func TestPartitionHeals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := nodetest.New(t, nodetest.Nodes(4))
		net.WaitForHeight(3)
		net.Partition([]int{0, 1}, []int{2, 3}) // no side has a quorum
		net.Elapse(time.Second)                 // long enough for timeouts and view sync attempts
		h := max(net.Node(0).BlockHeight(), net.Node(2).BlockHeight())
		net.Heal()
		net.WaitForHeight(h + 5)
		net.CheckSameChain()
		var syncs, timeouts uint64
		for i := range net.Len() {
			s := net.Node(i).Stats()
			syncs += s.ViewSyncs
			timeouts += s.Timeouts
		}
		if timeouts == 0 || syncs == 0 {
			t.Errorf("partition caused %d timeouts and %d view syncs, want both > 0", timeouts, syncs)
		}
	})
}

func TestMinorityPartitionCatchesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := nodetest.New(t, nodetest.Nodes(4), quick)
		net.WaitForHeight(2)
		net.Partition([]int{0, 1, 2}, []int{3})
		h := net.Node(0).BlockHeight()
		net.WaitForHeight(h+12, 0, 1, 2) // node 3 misses many views
		net.Heal()
		net.WaitForHeight(h + 15)
		net.CheckSameChain()
		if net.Node(3).Stats().FetchRequests == 0 {
			t.Error("node 3 caught up without fetching leaves")
		}
	})
}

func TestCrashRestartNeverDoubleVotes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := nodetest.New(t, nodetest.Nodes(4), quick)
		net.WaitForHeight(5)
		for round := range 3 {
			i := round % net.Len()
			net.Crash(i)
			voted, err := net.Store(i).LoadSafety(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			h := net.Node((i + 1) % net.Len()).BlockHeight()
			net.WaitForHeight(h+3, otherThan(net.Len(), i)...)
			net.Restart(i)
			if got := net.Node(i).Stats().LastVotedView; got < voted.LastVotedView {
				t.Fatalf("node %d restarted with last voted view %d below the stored %d", i, got, voted.LastVotedView)
			}
			net.WaitForHeight(h + 6)
		}
		net.CheckSameChain()
	})
}

func otherThan(n, skip int) []int {
	var out []int
	for i := range n {
		if i != skip {
			out = append(out, i)
		}
	}
	return out
}

func TestLeaderCrashMidView(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := nodetest.New(t, nodetest.Nodes(4), quick)
		net.WaitForHeight(3)
		// Crash whoever leads the next view, then bring it back.
		for range 2 {
			v := net.Node(0).Stats().View
			leader := int((v + 1) % 4)
			net.Crash(leader)
			h := net.Node((leader + 1) % 4).BlockHeight()
			net.WaitForHeight(h+2, otherThan(4, leader)...)
			net.Restart(leader)
		}
		net.WaitForHeight(net.Node(0).BlockHeight() + 2)
		net.CheckSameChain()
	})
}

func TestByzantine(t *testing.T) {
	for name, tc := range map[string]struct {
		b nodetest.Behaviour
		// dropped: honest nodes must count its messages as invalid (an
		// equivocation or a second vote is valid on its own; only safety
		// and liveness show it was handled).
		dropped bool
	}{
		"equivocating leader": {nodetest.EquivocatingLeader{}, false},
		"double voter":        {nodetest.DoubleVoter{}, false},
		"bad signatures":      {nodetest.BadSignatures{}, true},
		"future views":        {nodetest.FutureViews{}, true},
		// The stateful behaviours, on real nodes (the simulation runs them
		// over many seeds: TestSimulationByzantine).
		"colluding":             {nodetest.Colluding{}, false},
		"stale high qc":         {nodetest.StaleHighQC{}, false},
		"fabricated high qc":    {nodetest.FabricatedHighQC{}, false},
		"silent toward leaders": {nodetest.SilentToward{Leaders: []int{0, 1}}, false},
		"replay":                {nodetest.Replay{Every: 2}, true},
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := tc.b
				net := nodetest.New(t, nodetest.Nodes(4), quick)
				net.Crash(3)
				net.MakeByzantine(3, b) // f = 1 Byzantine node of 4
				net.Restart(3)
				net.WaitForHeight(12, 0, 1, 2)
				net.CheckSameChain(0, 1, 2)
				var invalid uint64
				for i := range 3 {
					invalid += net.Node(i).Stats().InvalidMessages
				}
				if tc.dropped && invalid == 0 {
					t.Error("honest nodes saw no invalid message from the Byzantine node")
				}
			})
		})
	}
}
