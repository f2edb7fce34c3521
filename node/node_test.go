package node_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/genesis"
	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/network/memnet"
	"github.com/gospresso/gospresso/node"
	"github.com/gospresso/gospresso/nodetest"
	"github.com/gospresso/gospresso/storage/mem"
)

func testGenesis(t *testing.T, n int) (*genesis.Genesis, []keys.Keys) {
	t.Helper()
	ks, err := nodetest.Keys(nodetest.DefaultSeed, n)
	if err != nil {
		t.Fatal(err)
	}
	g, err := nodetest.Genesis(ks, uint64(time.Now().Unix()))
	if err != nil {
		t.Fatal(err)
	}
	return g, ks
}

func TestNewRejectsBadOptions(t *testing.T) {
	g, ks := testGenesis(t, 1)
	tr, err := memnet.NewHub().Join(node.PeerID(ks[0].Staking.PubKey()))
	if err != nil {
		t.Fatal(err)
	}
	st := mem.New()
	for name, opts := range map[string][]node.Option{
		"no storage":       {node.WithNetwork(tr)},
		"no network":       {node.WithStorage(st)},
		"storage twice":    {node.WithStorage(st), node.WithStorage(st), node.WithNetwork(tr)},
		"nil logger":       {node.WithStorage(st), node.WithNetwork(tr), node.WithLogger(nil)},
		"nil storage":      {node.WithStorage(nil), node.WithNetwork(tr)},
		"negative workers": {node.WithStorage(st), node.WithNetwork(tr), node.WithVerifyWorkers(-1)},
		"bad consensus":    {node.WithStorage(st), node.WithNetwork(tr), node.WithConsensusConfig(consensus.Config{NextViewTimeout: -time.Second})},
	} {
		n, err := node.New(g, ks[0], opts...)
		if err == nil {
			// Consensus parameters are checked when the engine is built.
			err = n.Start(t.Context())
			_ = n.Stop(t.Context())
		}
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := node.New(nil, ks[0], node.WithStorage(st), node.WithNetwork(tr)); !errors.Is(err, node.ErrInvalidOption) {
		t.Errorf("nil genesis: %v", err)
	}
}

// A node whose store stops accepting writes stops participating: it halts
// with the write error and sends nothing that depends on the lost write.
func TestFailedWriteHaltsWithoutSending(t *testing.T) {
	synctest.Test(t, testFailedWriteHaltsWithoutSending)
}

func testFailedWriteHaltsWithoutSending(t *testing.T) {
	net := nodetest.New(t, nodetest.Nodes(4))
	net.WaitForHeight(3)
	st := net.Store(2)
	st.FailWrites(errors.New("disk on fire"))
	for start := time.Now(); net.Node(2).Err() == nil; net.Elapse(5 * time.Millisecond) {
		if time.Since(start) > 10*time.Second {
			t.Fatal("node 2 kept running without a working store")
		}
	}
	if err := net.Node(2).Err(); !errors.Is(err, node.ErrHalted) || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("Err() = %v, want ErrHalted wrapping the write error", err)
	}
	stored, err := func() (uint64, error) {
		st.FailWrites(nil)
		s, err := st.LoadSafety(context.Background())
		return uint64(s.LastVotedView), err
	}()
	if err != nil {
		t.Fatal(err)
	}
	// The other nodes carry on with 3 of 4, and the halted node resumes
	// from its durable state.
	h := net.Node(0).BlockHeight()
	net.WaitForHeight(h+3, 0, 1, 3)
	net.CheckSameChain()
	net.Crash(2)
	net.Restart(2)
	if got := uint64(net.Node(2).Stats().LastVotedView); got < stored {
		t.Fatalf("restarted with last voted view %d below the stored %d", got, stored)
	}
	net.WaitForHeight(net.Node(0).BlockHeight() + 2)
}

func TestMetricsExposeOperatorNames(t *testing.T) {
	synctest.Test(t, testMetricsExposeOperatorNames)
}

func testMetricsExposeOperatorNames(t *testing.T) {
	net := nodetest.New(t, nodetest.Nodes(1))
	net.WaitForHeight(2)
	families, err := net.Node(0).Metrics().Gather()
	if err != nil {
		t.Fatal(err)
	}
	have := make(map[string]float64)
	for _, f := range families {
		for _, m := range f.GetMetric() {
			switch {
			case m.Gauge != nil:
				have[f.GetName()] = m.GetGauge().GetValue()
			case m.Counter != nil:
				have[f.GetName()] = m.GetCounter().GetValue()
			default:
				have[f.GetName()] = 0
			}
		}
	}
	for _, name := range []string{
		"consensus_current_view", "consensus_last_decided_view", "consensus_last_decided_time",
		"consensus_number_of_timeouts", "consensus_number_of_timeouts_as_leader", "consensus_outstanding_transactions",
		"consensus_invalid_qc", "consensus_last_voted_view", "consensus_last_synced_block_height",
		"consensus_number_of_views_per_decide_event", "consensus_node_index", "consensus_node", "consensus_version",
		"consensus_libp2p_num_connected_peers",
	} {
		if _, ok := have[name]; !ok {
			t.Errorf("metric %s missing", name)
		}
	}
	if have["consensus_current_view"] < 2 || have["consensus_last_decided_time"] == 0 {
		t.Errorf("metrics not live: current_view %v, last_decided_time %v", have["consensus_current_view"], have["consensus_last_decided_time"])
	}
}
