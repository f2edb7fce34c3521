package nodetest_test

import (
	"testing"

	"github.com/gospresso/gospresso/node"
	"github.com/gospresso/gospresso/nodetest"
)

// TestSignatureChecksPerView runs 4 nodes fault-free and counts every
// node's pairing checks (consensus.Stats.SignatureChecks) per decided
// view. The protocol needs, per view (docs/protocol.md, "Signature
// checks"): at each node other than the leader, one product for the
// proposal's signature, its justify QC and its DA certificate together (1);
// at the leader collecting the view's DA votes and the next leader
// collecting its quorum votes, one aggregate check each (2 per view in
// all). So (n−1) + 2 per view, 5 for n = 4 nodes, which the test asserts
// with a margin of one view's worth for the views under way at the edges
// of the count.
func TestSignatureChecksPerView(t *testing.T) {
	net := nodetest.New(t)
	net.WaitForHeight(3)
	checks := func() (total uint64) {
		for i := range net.Len() {
			total += net.Node(i).Stats().SignatureChecks
		}
		return total
	}
	c0, v0 := checks(), net.Node(0).Stats().LastDecidedView
	net.WaitForHeight(net.Node(0).BlockHeight() + 40)
	c1, v1 := checks(), net.Node(0).Stats().LastDecidedView
	views := uint64(v1 - v0)
	const perView = (4 - 1) + 2
	// The nodes run their default verification workers, which checked
	// proposals and certificates ahead of consensus: counted once.
	for i := range net.Len() {
		if ahead := metric(t, net.Node(i), "consensus_checks_ahead"); ahead == 0 {
			t.Errorf("node %d checked nothing ahead of consensus", i)
		}
	}
	if spent := c1 - c0; spent > (views+1)*perView {
		t.Fatalf("%d signature checks over %d decided views (%.1f a view), want at most %d a view", spent, views, float64(spent)/float64(views), perView)
	} else {
		t.Logf("%d signature checks over %d decided views: %.1f a view (the protocol needs %d)", spent, views, float64(spent)/float64(views), perView)
	}
}

// metric returns the value of a node's counter or gauge called name.
func metric(t *testing.T, nd *node.Node, name string) float64 {
	t.Helper()
	mfs, err := nd.Metrics().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name || len(mf.GetMetric()) == 0 {
			continue
		}
		m := mf.GetMetric()[0]
		if c := m.GetCounter(); c != nil {
			return c.GetValue()
		}
		return m.GetGauge().GetValue()
	}
	t.Fatalf("no metric %s", name)
	return 0
}
