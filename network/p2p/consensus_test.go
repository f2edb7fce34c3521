package p2p

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/node"
	"github.com/gospresso/gospresso/nodetest"
	"github.com/gospresso/gospresso/storage/mem"
	"github.com/gospresso/gospresso/types"
)

// TestConsensusNetwork runs four nodes over real p2p sockets on loopback
// until each has decided block 5, and checks they decided the same chain.
func TestConsensusNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("a 4-node network over QUIC")
	}
	ks, err := nodetest.Keys(nodetest.DefaultSeed, 4)
	if err != nil {
		t.Fatal(err)
	}
	gen, err := nodetest.Genesis(ks, uint64(time.Now().Unix()))
	if err != nil {
		t.Fatal(err)
	}
	staking := make([]keys.StakingKey, len(ks))
	for i, k := range ks {
		staking[i] = k.Staking
	}
	trs := startNet(t, staking, func(_ int, c *Config) {
		c.Genesis = gen.Commitment()
		c.ChainID = gen.ChainConfig.ChainID.String()
	})
	cfg := consensus.Config{
		NextViewTimeout: time.Second, ViewSyncTimeout: 500 * time.Millisecond,
		BuilderTimeout: 20 * time.Millisecond, FetchTimeout: 500 * time.Millisecond,
	}
	stores := make([]*mem.Store, len(ks))
	nodes := make([]*node.Node, len(ks))
	for i, k := range ks {
		stores[i] = mem.New()
		n, err := node.New(gen, k, node.WithStorage(stores[i]), node.WithNetwork(trs[i]), node.WithConsensusConfig(cfg))
		if err != nil {
			t.Fatal(err)
		}
		nodes[i] = n
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for i, n := range nodes {
			if err := n.Stop(ctx); err != nil {
				t.Errorf("node %d: stop: %v", i, err)
			}
		}
	}
	t.Cleanup(stop)
	start := time.Now()
	for i, n := range nodes {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := n.Start(ctx)
		cancel()
		if err != nil {
			t.Fatalf("node %d: start: %v", i, err)
		}
	}
	const height = 5
	waitFor(t, 60*time.Second, fmt.Sprintf("block height %d everywhere", height), func() string {
		var behind []string
		for i, n := range nodes {
			if err := n.Err(); err != nil {
				t.Fatalf("node %d halted: %v", i, err)
			}
			if h := n.BlockHeight(); h < height {
				behind = append(behind, fmt.Sprintf("node %d at %d (view %d)", i, h, n.Stats().View))
			}
		}
		return strings.Join(behind, ", ")
	})
	elapsed := time.Since(start)
	views := nodes[0].Stats().View
	t.Logf("height %d reached in %v (%d views)", height, elapsed.Round(time.Millisecond), views)
	stop()
	chains := make([][]types.Block, len(stores))
	ctx := context.Background()
	for i, st := range stores {
		st.Reopen()
		h, err := st.BlockHeight(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if h < height {
			t.Errorf("node %d stored %d blocks, want at least %d", i, h, height)
		}
		for j := range h {
			b, err := st.BlockByHeight(ctx, j)
			if err != nil {
				t.Fatalf("node %d: block %d: %v", i, j, err)
			}
			chains[i] = append(chains[i], b)
		}
	}
	if err := nodetest.CheckSameChain(chains...); err != nil {
		t.Fatal(err)
	}
}
