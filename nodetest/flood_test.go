package nodetest_test

import (
	"testing"
	"testing/synctest"

	"github.com/gospresso/gospresso/nodetest"
)

// A member flooding votes for made-up leaves neither stops the network nor
// splits it; every flooded vote is counted invalid by its receiver.
func TestVoteFloodStillDecides(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := nodetest.New(t)
		net.Crash(3)
		net.MakeByzantine(3, nodetest.VoteFlood{Votes: 200})
		net.Restart(3)
		net.WaitForHeight(net.Node(0).BlockHeight() + 10)
		net.CheckSameChain()
		var invalid uint64
		for i := range 3 {
			invalid += net.Node(i).Stats().InvalidMessages
		}
		if invalid < 200 {
			t.Fatalf("%d invalid messages counted by the honest nodes, want the flood's votes (200 a vote)", invalid)
		}
	})
}
