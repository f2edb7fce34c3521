package nodetest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gospresso/gospresso/api"
	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/genesis"
	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/l1"
	"github.com/gospresso/gospresso/network"
	"github.com/gospresso/gospresso/network/memnet"
	"github.com/gospresso/gospresso/node"
	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/mem"
	"github.com/gospresso/gospresso/types"
)

// FastConsensus is the consensus configuration in-process networks use by
// default: short timeouts, so faults resolve in well under a second.
var FastConsensus = consensus.Config{
	NextViewTimeout: 300 * time.Millisecond,
	ViewSyncTimeout: 200 * time.Millisecond,
	BuilderTimeout:  20 * time.Millisecond,
	FetchTimeout:    200 * time.Millisecond,
}

// Option configures New.
type Option func(*config)

type config struct {
	nodes     int
	seed      [32]byte
	consensus consensus.Config
	mempool   chain.MempoolConfig
	logger    *slog.Logger
	timeout   time.Duration
	api       []api.Module
	apiOpts   []api.Option
	relay     string
	genesis   func(*genesis.Genesis)
	l1        l1.Client
	l1Opts    []l1.TrackerOption
	open      func(i int) (storage.Store, error)
	workers   *int
}

// Storage gives the nodes stores of their own instead of memory stores:
// open is called for node i at every (re)start, and the store is closed
// when the node crashes or stops (so open must find the same data again,
// e.g. a SQLite file in a directory of tb.TempDir()). Store returns nil
// for such a network, and WipeStore is not available.
func Storage(open func(i int) (storage.Store, error)) Option {
	return func(c *config) { c.open = open }
}

// Nodes sets the number of nodes (default 4).
func Nodes(n int) Option { return func(c *config) { c.nodes = n } }

// VerifyWorkers sets each node's number of verification workers
// (node.WithVerifyWorkers); by default a node's own default.
func VerifyWorkers(n int) Option { return func(c *config) { c.workers = &n } }

// Seed sets the key seed (default: 32 zero bytes but the last, 1).
func Seed(s [32]byte) Option { return func(c *config) { c.seed = s } }

// Consensus sets the consensus parameters (default FastConsensus).
func Consensus(cfg consensus.Config) Option { return func(c *config) { c.consensus = cfg } }

// Mempool sets the mempool bounds of every node.
func Mempool(cfg chain.MempoolConfig) Option { return func(c *config) { c.mempool = cfg } }

// Logger sets the logger every node logs to (default: none).
func Logger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// API makes every node serve the given API modules on a free loopback port
// (see Network.APIURL), with the server options opts.
func API(modules []api.Module, opts ...api.Option) Option {
	return func(c *config) { c.api, c.apiOpts = modules, opts }
}

// StateRelay makes every node post the light-client states it signs to the
// state relay at url (node.WithStateRelay), such as a
// services/staterelay server on a loopback port.
func StateRelay(url string) Option { return func(c *config) { c.relay = url } }

// EditGenesis lets f change the network's genesis (base fee, [accounts],
// fee contract, [l1_finalized], ...) before the nodes start; the result
// must still validate. The keys are in Network.Keys, and a node's builder
// account is chain.BuilderAddress of node.DefaultBuilderKey.
func EditGenesis(f func(g *genesis.Genesis)) Option { return func(c *config) { c.genesis = f } }

// L1 connects every node to the L1 client c (node.WithL1), such as an
// l1test.L1, with the tracker options opts.
func L1(c l1.Client, opts ...l1.TrackerOption) Option {
	return func(c2 *config) { c2.l1, c2.l1Opts = c, opts }
}

// Timeout bounds every wait of the helpers (default 30s).
func Timeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// DefaultSeed is the key seed of in-process networks.
var DefaultSeed = [32]byte{31: 1}

// Network is a running in-process network.
type Network struct {
	tb      testing.TB
	cfg     config
	Genesis *genesis.Genesis
	Keys    []keys.Keys
	Hub     *memnet.Hub

	mu     sync.Mutex
	nodes  []*node.Node // nil while crashed
	stores []*mem.Store
	// opened are the stores of a network with Storage, nil while crashed.
	opened []storage.Store
	ids    []network.PeerID
	byz    []Behaviour
	// coalition is what the network's Colluding members share.
	coalition *coalition
}

// New starts an in-process network and stops it when the test ends.
func New(tb testing.TB, opts ...Option) *Network {
	tb.Helper()
	cfg := config{nodes: 4, seed: DefaultSeed, consensus: FastConsensus, timeout: 30 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	ks, err := Keys(cfg.seed, cfg.nodes)
	if err != nil {
		tb.Fatal(err)
	}
	g, err := Genesis(ks, uint64(time.Now().Unix()))
	if err != nil {
		tb.Fatal(err)
	}
	if cfg.genesis != nil {
		cfg.genesis(g)
		if err := g.Validate(); err != nil {
			tb.Fatalf("nodetest: edited genesis: %v", err)
		}
	}
	n := &Network{tb: tb, cfg: cfg, Genesis: g, Keys: ks, Hub: memnet.NewHub(),
		nodes: make([]*node.Node, cfg.nodes), stores: make([]*mem.Store, cfg.nodes), opened: make([]storage.Store, cfg.nodes), byz: make([]Behaviour, cfg.nodes),
		coalition: &coalition{}}
	for i := range ks {
		n.ids = append(n.ids, node.PeerID(ks[i].Staking.PubKey()))
		if cfg.open == nil {
			n.stores[i] = mem.New()
		}
	}
	tb.Cleanup(n.Stop)
	for i := range ks {
		if err := n.start(i); err != nil {
			tb.Fatal(err)
		}
	}
	return n
}

// Len returns the number of nodes.
func (n *Network) Len() int { return len(n.Keys) }

// Node returns node i, or nil while it is crashed.
func (n *Network) Node(i int) *node.Node {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.nodes[i]
}

// APIURL returns the base URL of node i's HTTP API ("http://127.0.0.1:port"),
// or "" when the network serves no API or the node is crashed.
func (n *Network) APIURL(i int) string {
	nd := n.Node(i)
	if nd == nil || nd.APIAddr() == nil {
		return ""
	}
	return "http://" + nd.APIAddr().String()
}

// Store returns node i's memory store (nil for a network with Storage).
func (n *Network) Store(i int) *mem.Store { return n.stores[i] }

// PeerID returns node i's network identity.
func (n *Network) PeerID(i int) network.PeerID { return n.ids[i] }

func (n *Network) start(i int) error {
	tr, err := n.Hub.Join(n.ids[i])
	if err != nil {
		return err
	}
	var transport network.Transport = tr
	if b := n.byz[i]; b != nil {
		transport = &byzantine{Transport: tr, behaviour: b, ids: n.ids,
			ctx: byzContext{key: n.Keys[i].Staking, genesis: n.Genesis.Commitment(), self: i, n: len(n.ids), coalition: n.coalition}}
	}
	var st storage.Store = n.stores[i]
	if n.cfg.open != nil {
		if st, err = n.cfg.open(i); err != nil {
			return fmt.Errorf("open the store of node %d: %w", i, err)
		}
		n.mu.Lock()
		n.opened[i] = st
		n.mu.Unlock()
	} else {
		n.stores[i].Reopen()
	}
	opts := []node.Option{
		node.WithStorage(st), node.WithNetwork(transport),
		node.WithConsensusConfig(n.cfg.consensus), node.WithMempool(n.cfg.mempool),
	}
	if n.cfg.logger != nil {
		opts = append(opts, node.WithLogger(n.cfg.logger.With("node", i)))
	}
	if len(n.cfg.api) > 0 {
		opts = append(opts, node.WithAPI("127.0.0.1:0", n.cfg.api, n.cfg.apiOpts...))
	}
	if n.cfg.workers != nil {
		opts = append(opts, node.WithVerifyWorkers(*n.cfg.workers))
	}
	if n.cfg.relay != "" {
		opts = append(opts, node.WithStateRelay(n.cfg.relay))
	}
	if n.cfg.l1 != nil {
		opts = append(opts, node.WithL1(n.cfg.l1, n.cfg.l1Opts...))
	}
	opts = append(opts, node.WithStateCatchup(func(ctx context.Context) (types.Block, []byte, error) {
		return n.chainState(ctx, i)
	}))
	nd, err := node.New(n.Genesis, n.Keys[i], opts...)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), n.cfg.timeout)
	defer cancel()
	if err := nd.Start(ctx); err != nil {
		return err
	}
	n.mu.Lock()
	n.nodes[i] = nd
	n.mu.Unlock()
	return nil
}

// chainState asks the running nodes other than i for their chain state,
// for node i's state catchup, and returns the most recent answer.
func (n *Network) chainState(ctx context.Context, i int) (types.Block, []byte, error) {
	errs := []error{fmt.Errorf("nodetest: no running peer of node %d answered", i)}
	var best types.Block
	var bestData []byte
	for j := range n.Keys {
		nd := n.Node(j)
		if j == i || nd == nil {
			continue
		}
		b, data, err := nd.ChainState(ctx)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if bestData == nil || b.Height() > best.Height() {
			best, bestData = b, data
		}
	}
	if bestData == nil {
		return types.Block{}, nil, errors.Join(errs...)
	}
	return best, bestData, nil
}

// Stop stops every node. It runs at test cleanup; calling it earlier is fine.
func (n *Network) Stop() {
	for i := range n.nodes {
		n.Crash(i)
	}
}

// Crash stops node i abruptly (as far as its peers can tell): it leaves the
// network and its store keeps exactly what it had persisted.
func (n *Network) Crash(i int) {
	n.mu.Lock()
	nd := n.nodes[i]
	n.nodes[i] = nil
	n.mu.Unlock()
	if nd == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), n.cfg.timeout)
	defer cancel()
	if err := nd.Stop(ctx); err != nil {
		n.tb.Errorf("nodetest: stop node %d: %v", i, err)
	}
	// The "disk" outlives the process: keep the store readable for checks.
	if n.cfg.open == nil {
		n.stores[i].Reopen()
		return
	}
	n.mu.Lock()
	st := n.opened[i]
	n.opened[i] = nil
	n.mu.Unlock()
	if st != nil {
		if err := st.Close(); err != nil {
			n.tb.Errorf("nodetest: close the store of node %d: %v", i, err)
		}
	}
}

// WipeStore gives crashed node i an empty store, as a node joining late or
// restored without its data would have: on Restart it catches up from its
// peers.
func (n *Network) WipeStore(i int) {
	n.tb.Helper()
	if n.Node(i) != nil {
		n.tb.Fatalf("nodetest: wipe the store of node %d: it is running", i)
	}
	if n.cfg.open != nil {
		n.tb.Fatalf("nodetest: wipe the store of node %d: not available with Storage", i)
	}
	n.stores[i] = mem.New()
}

// Restart starts a crashed node again from its store.
func (n *Network) Restart(i int) {
	n.tb.Helper()
	if n.Node(i) != nil {
		n.tb.Fatalf("nodetest: restart node %d: it is running", i)
	}
	if err := n.start(i); err != nil {
		n.tb.Fatalf("nodetest: restart node %d: %v", i, err)
	}
}

// Partition splits the network into groups of node indexes; nodes in
// different groups cannot talk, nodes in no group are isolated.
func (n *Network) Partition(groups ...[]int) {
	var ids [][]network.PeerID
	for _, g := range groups {
		var gi []network.PeerID
		for _, i := range g {
			gi = append(gi, n.ids[i])
		}
		ids = append(ids, gi)
	}
	n.Hub.Partition(ids...)
}

// Heal ends any partition.
func (n *Network) Heal() { n.Hub.Heal() }

// Elapse lets d pass while the network runs. Inside a testing/synctest
// bubble, where nodetest's own tests run, that is d of the bubble's fake
// clock: it returns as soon as the nodes have done everything due before
// then, however long that takes in fake time, and costs no wall-clock wait.
// Outside a bubble it waits d of real time.
func (n *Network) Elapse(d time.Duration) { time.Sleep(d) }

// Submit submits tx at node i and returns its commitment.
func (n *Network) Submit(i int, tx types.Transaction) types.Commitment {
	n.tb.Helper()
	nd := n.Node(i)
	if nd == nil {
		n.tb.Fatalf("nodetest: submit at node %d: crashed", i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), n.cfg.timeout)
	defer cancel()
	c, err := nd.SubmitTransaction(ctx, tx)
	if err != nil {
		n.tb.Fatalf("nodetest: submit at node %d: %v", i, err)
	}
	return c
}

// running returns the indexes of running nodes, or of only those given.
func (n *Network) running(only []int) []int {
	if len(only) > 0 {
		return only
	}
	var out []int
	for i := range n.Keys {
		if n.Node(i) != nil {
			out = append(out, i)
		}
	}
	return out
}

// WaitForHeight waits until each given node (default: every running node)
// has decided block h, and fails the test at the timeout.
func (n *Network) WaitForHeight(h uint64, nodes ...int) {
	n.tb.Helper()
	deadline := time.Now().Add(n.cfg.timeout)
	for {
		var behind []string
		for _, i := range n.running(nodes) {
			nd := n.Node(i)
			if nd == nil {
				behind = append(behind, fmt.Sprintf("node %d crashed", i))
				continue
			}
			if err := nd.Err(); err != nil {
				n.tb.Fatalf("nodetest: node %d halted: %v", i, err)
			}
			if got := nd.BlockHeight(); got <= h {
				s := nd.Stats()
				behind = append(behind, fmt.Sprintf("node %d at height %d (view %d, decided view %d)", i, got-1, s.View, s.LastDecidedView))
			}
		}
		if len(behind) == 0 {
			return
		}
		if time.Now().After(deadline) {
			n.tb.Fatalf("nodetest: height %d not reached within %v: %s", h, n.cfg.timeout, strings.Join(behind, "; "))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// WaitForTransaction waits until tx is decided at every given node (default:
// every running node) and returns where it was included.
func (n *Network) WaitForTransaction(c types.Commitment, nodes ...int) storage.TxLocation {
	n.tb.Helper()
	deadline := time.Now().Add(n.cfg.timeout)
	for {
		var loc storage.TxLocation
		found := 0
		idx := n.running(nodes)
		for _, i := range idx {
			l, err := n.blockStore(i).TransactionByHash(context.Background(), c)
			if err == nil {
				loc = l
				found++
			}
		}
		if found == len(idx) {
			return loc
		}
		if time.Now().After(deadline) {
			n.tb.Fatalf("nodetest: transaction %s not decided at %d of %d nodes within %v", c.Short(), len(idx)-found, len(idx), n.cfg.timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Chains returns the decided chain of every node (from its store), in node
// order.
func (n *Network) Chains(nodes ...int) [][]types.Block {
	n.tb.Helper()
	if len(nodes) == 0 {
		for i := range n.Keys {
			nodes = append(nodes, i)
		}
	}
	var out [][]types.Block
	for _, i := range nodes {
		out = append(out, storeChain(n.tb, n.blockStore(i)))
	}
	return out
}

func storeChain(tb testing.TB, st storage.BlockStore) []types.Block {
	ctx := context.Background()
	h, err := st.BlockHeight(ctx)
	if err != nil {
		tb.Fatalf("nodetest: block height: %v", err)
	}
	chain := make([]types.Block, 0, h)
	for i := range h {
		b, err := st.BlockByHeight(ctx, i)
		if err != nil {
			tb.Fatalf("nodetest: block %d: %v", i, err)
		}
		chain = append(chain, b)
	}
	return chain
}

// CheckSameChain fails the test unless the nodes (default: all, including
// crashed ones, whose stores remain) decided the same chain: of any two,
// one is a prefix of the other.
func (n *Network) CheckSameChain(nodes ...int) {
	n.tb.Helper()
	if err := CheckSameChain(n.Chains(nodes...)...); err != nil {
		n.tb.Fatal(err)
	}
}

// CheckSameChain returns an error unless every chain is a prefix of the
// longest one, block by block (leaf commitments), with heights 0, 1, 2, ...
func CheckSameChain(chains ...[]types.Block) error {
	longest := slices.MaxFunc(chains, func(a, b []types.Block) int { return len(a) - len(b) })
	ref := make([]types.Commitment, len(longest))
	for h := range longest {
		if longest[h].Height() != uint64(h) {
			return fmt.Errorf("nodetest: block at position %d has height %d", h, longest[h].Height())
		}
		ref[h] = longest[h].Leaf.Commit()
	}
	for i, c := range chains {
		for h := range c {
			if got := c[h].Leaf.Commit(); got != ref[h] {
				return fmt.Errorf("nodetest: FORK: chain %d has leaf %s at height %d, another chain has %s", i, got.Short(), h, ref[h].Short())
			}
		}
	}
	return nil
}

// blockStore returns node i's store: its memory store, or the store Storage
// opened for it (which must be running).
func (n *Network) blockStore(i int) storage.BlockStore {
	if n.cfg.open == nil {
		return n.stores[i]
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.opened[i] == nil {
		n.tb.Fatalf("nodetest: node %d is down: its store is closed", i)
	}
	return n.opened[i]
}
