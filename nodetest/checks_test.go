package nodetest_test

import (
	"fmt"
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
// all). So (n−1) + 2 per view, 5 for n = 4 nodes, and (n+1)/n per node as
// leaders rotate, which the test asserts with a margin of a view or two
// for the views under way at the edges of the count.
func TestSignatureChecksPerView(t *testing.T) {
	const n = 4
	net := nodetest.New(t, nodetest.Nodes(n))
	net.WaitForHeight(3)
	checks := func() (each [n]uint64) {
		for i := range n {
			each[i] = net.Node(i).Stats().SignatureChecks
		}
		return each
	}
	c0, v0 := checks(), net.Node(0).Stats().LastDecidedView
	net.WaitForHeight(net.Node(0).BlockHeight() + 40)
	c1, v1 := checks(), net.Node(0).Stats().LastDecidedView
	views := uint64(v1 - v0)
	const perView = (n - 1) + 2
	var spent uint64
	for i := range n {
		// Each node leads one view in n (one aggregate check), collects
		// the quorum votes of one in n (one more), and checks the other
		// views' proposals as a replica: (n+1)/n checks a view.
		mine := c1[i] - c0[i]
		if limit := (views + 2) * (n + 1) / n; mine > limit {
			t.Errorf("node %d: %d signature checks over %d decided views, want at most %d ((n+1)/n a view)", i, mine, views, limit)
		}
		spent += mine
		// The nodes run their default verification workers, which
		// checked proposals and certificates ahead of consensus: counted
		// once.
		if ahead := metric(t, net.Node(i), "consensus_checks_ahead"); ahead == 0 {
			t.Errorf("node %d checked nothing ahead of consensus", i)
		}
	}
	if spent > (views+1)*perView {
		t.Fatalf("%d signature checks over %d decided views (%.1f a view), want at most %d a view", spent, views, float64(spent)/float64(views), perView)
	}
	t.Logf("%d signature checks over %d decided views: %.1f a view (the protocol needs %d)", spent, views, float64(spent)/float64(views), perView)
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

// TestVerifyWorkerCounts runs networks whose nodes check signatures on the
// consensus goroutine (0 workers) and on one worker: both decide, and
// spend the same checks a view as with the default pool.
func TestVerifyWorkerCounts(t *testing.T) {
	for _, w := range []int{0, 1} {
		t.Run(fmt.Sprintf("workers=%d", w), func(t *testing.T) {
			net := nodetest.New(t, nodetest.VerifyWorkers(w))
			net.WaitForHeight(3)
			c0, v0 := net.Node(0).Stats().SignatureChecks, net.Node(0).Stats().LastDecidedView
			net.WaitForHeight(net.Node(0).BlockHeight() + 20)
			c1, v1 := net.Node(0).Stats().SignatureChecks, net.Node(0).Stats().LastDecidedView
			if views, spent := uint64(v1-v0), c1-c0; spent > (views+2)*5/4 {
				t.Fatalf("node 0: %d checks over %d views, want at most 5/4 a view", spent, views)
			}
		})
	}
}
