package consensus_test

import (
	"testing"
	"time"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/types"
)

// Scripted scenarios against the engine (issue 11, item 8): a silent
// leader is replaced through a timeout certificate, and every decide
// follows the decide rule (a QC for the leaf and a QC for a child one view
// later).

// silentLeaders drops every message from the leaders of the given views
// while those views are current, as a crashed or withholding leader would.
func silentLeaders(c *cluster, views ...types.ViewNumber) func(envelope) bool {
	silent := map[int]bool{}
	for _, v := range views {
		silent[int(uint64(v)%uint64(len(c.engines)))] = true
	}
	return func(env envelope) bool {
		if !silent[env.from] {
			return false
		}
		if p, ok := env.m.(*consensus.Proposal); ok {
			for _, v := range views {
				if p.Leaf.View == v {
					return true
				}
			}
		}
		return false
	}
}

func TestSilentLeaderIsReplacedByTimeoutCertificate(t *testing.T) {
	c := newCluster(t, 4)
	c.drop = silentLeaders(c, 2, 7)
	if _, ok := c.runUntil(20*time.Second, func() bool { return c.height[0] >= 12 }); !ok {
		t.Fatalf("views %v, heights %v: no progress past the silent leaders", c.views(), c.height)
	}
	withTC := map[types.ViewNumber]bool{}
	for _, env := range c.sent {
		if p, ok := env.m.(*consensus.Proposal); ok && p.TC != nil {
			if p.TC.View+1 != p.Leaf.View {
				t.Fatalf("proposal of view %d carries a TC of view %d", p.Leaf.View, p.TC.View)
			}
			withTC[p.Leaf.View] = true
		}
	}
	if !withTC[3] || !withTC[8] {
		t.Fatalf("proposals with a timeout certificate in views %v, want 3 and 8 (after the silent views 2 and 7)", withTC)
	}
	for i, e := range c.engines {
		if e.Stats().Timeouts == 0 {
			t.Errorf("node %d counted no timeout", i)
		}
	}
}

func TestEveryDecideFollowsTheDecideRule(t *testing.T) {
	c := newCluster(t, 4)
	c.drop = silentLeaders(c, 3, 4, 9)
	if _, ok := c.runUntil(20*time.Second, func() bool { return c.height[0] >= 15 }); !ok {
		t.Fatalf("views %v, heights %v: no progress", c.views(), c.height)
	}
	// The last leaf each node decided; then run on, so the proposals that
	// carry the certificates it decided on are out.
	tops := make([]consensus.FetchedLeaf, len(c.engines))
	for i := range c.engines {
		for _, l := range c.decided[i] {
			if l.Leaf.Height() >= tops[i].Leaf.Height() {
				tops[i] = l
			}
		}
	}
	c.drop = nil
	c.run(500 * time.Millisecond)
	// Every certified leaf, from the proposals' justify QCs and the
	// certificates sent on their own.
	certified := map[types.Commitment]bool{}
	children := map[types.Commitment][]types.Leaf{}
	for _, env := range c.sent {
		switch m := env.m.(type) {
		case *consensus.Proposal:
			certified[m.Leaf.JustifyQC.Leaf] = true
			children[m.Leaf.Parent] = append(children[m.Leaf.Parent], m.Leaf)
		case *consensus.Certificates:
			if m.QC != nil {
				certified[m.QC.Leaf] = true
			}
		}
	}
	// A decided leaf G has a certified child P with P.view = G.view + 1,
	// and the decided leaves form one chain.
	for i := range c.engines {
		g := tops[i].Leaf
		ok := false
		for _, p := range children[g.Commit()] {
			if certified[p.Commit()] && p.View == g.View+1 {
				ok = true
			}
		}
		if !ok || !certified[g.Commit()] {
			t.Fatalf("node %d decided leaf of view %d (height %d) without its own QC and a certified child in view %d", i, g.View, g.Height(), g.View+1)
		}
		byHeight := map[uint64]types.Leaf{}
		for _, l := range c.decided[i] {
			byHeight[l.Leaf.Height()] = l.Leaf
		}
		for h := g.Height(); h > 0; h-- {
			below := byHeight[h-1]
			if byHeight[h].Parent != below.Commit() {
				t.Fatalf("node %d: decided leaf %d does not extend decided leaf %d", i, h, h-1)
			}
		}
	}
}
