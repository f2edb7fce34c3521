// Command dev-node runs a whole gospresso network in one process: four
// consensus nodes over an in-memory network, each with an SQLite store (in a
// temporary directory removed at exit, or under --data-dir, kept), keys from
// a fixed seed and a genesis embedded in the binary (genesis.toml beside this
// file), and an L1. Node 0 serves the HTTP API (docs/api.md) on --port
// (ESPRESSO_SEQUENCER_API_PORT, default 8770) and a dev API with
// GET /api/dev-info on --dev-port (ESPRESSO_DEV_NODE_PORT, default 20000).
// It submits a trickle of sample transactions unless told not to and
// prints every decided block, with its L1 head and finalized block, until
// interrupted.
//
// The L1 is an embedded simulated chain (l1test, chain ID 1337) serving
// JSON-RPC on 127.0.0.1 (--l1-port, default a free port), with a block
// every --l1-block-interval (default 250ms) and the fee contract deployed;
// the genesis gets that fee contract, a base fee of 1 wei a byte and every
// node's builder account prefunded, so builders pay for their blocks. With
// --l1-provider-url (ESPRESSO_SEQUENCER_L1_PROVIDER) the nodes use that L1
// instead, without a fee contract.
//
//	go run ./examples/dev-node
//	go run ./examples/dev-node --no-transactions --view-timeout 2s --port 8080
//	curl -L http://localhost:8770/status/block-height
//
// It grows into the full dev node of the operator guide (prover, light
// client contract) as those parts land.
package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/holiman/uint256"
	"github.com/spf13/pflag"

	"github.com/gospresso/gospresso/api"
	"github.com/gospresso/gospresso/chain"
	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/examples/internal/apiopen"
	exopts "github.com/gospresso/gospresso/examples/internal/options"
	"github.com/gospresso/gospresso/genesis"
	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/l1"
	"github.com/gospresso/gospresso/l1/eth"
	"github.com/gospresso/gospresso/l1/l1test"
	"github.com/gospresso/gospresso/network/memnet"
	"github.com/gospresso/gospresso/node"
	"github.com/gospresso/gospresso/storage/sqlite"
	"github.com/gospresso/gospresso/types"
)

//go:embed genesis.toml
var genesisTOML []byte

// devSeed is the key seed of the embedded genesis.
var devSeed = [32]byte{31: 1}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// Default ports (docs/operator.md, "dev-node").
const (
	// defaultAPIPort is the HTTP API port without --port or
	// ESPRESSO_SEQUENCER_API_PORT: the port the official dev node image
	// sets.
	defaultAPIPort = 8770
	// defaultDevPort is the dev API port without --dev-port or
	// ESPRESSO_DEV_NODE_PORT, the reference's default.
	defaultDevPort = 20000
)

// Environment variables read for the flags that have one.
const (
	envAPIPort   = "ESPRESSO_SEQUENCER_API_PORT"
	envMaxConns  = "ESPRESSO_SEQUENCER_MAX_CONNECTIONS"
	envDevPort   = "ESPRESSO_DEV_NODE_PORT"
	envL1        = "ESPRESSO_SEQUENCER_L1_PROVIDER"
	envL1Polling = "ESPRESSO_SEQUENCER_L1_POLLING_INTERVAL"
)

// What the dev node adds to the embedded genesis: the base fee, and the
// balance prefunded to each node's builder account.
var (
	// devBaseFee is the base fee, in wei a payload byte.
	devBaseFee = types.NewU256(1)
	// devBuilderFunds is each builder's prefunded balance: 1,000 ether.
	devBuilderFunds = types.U256FromUint256(new(uint256.Int).Mul(uint256.NewInt(1000), uint256.NewInt(1e18)))
)

type options struct {
	noTx        bool
	txInterval  time.Duration
	viewTimeout time.Duration
	builder     time.Duration
	verbose     bool
	dataDir     string
	port        uint16 // HTTP API port of node 0; 0 picks a free one
	maxConns    uint64 // 0: the API server's default bound
	devPort     uint16 // dev API port; 0 picks a free one

	l1URLs    []string      // external L1 providers (failover order); nil: the embedded L1
	l1Polling time.Duration // the nodes' L1 polling interval
	l1Block   time.Duration // the embedded L1's block interval
	l1Port    uint16        // the embedded L1's JSON-RPC port; 0 picks a free one
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runEnv(ctx, args, os.LookupEnv, stdout, stderr)
}

// runEnv is run with the environment lookup given (os.LookupEnv, or a map
// in tests).
func runEnv(ctx context.Context, args []string, env func(string) (string, bool), stdout, stderr io.Writer) int {
	o, err := parseArgs(args, env, stderr)
	if errors.Is(err, pflag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	if err := devNode(ctx, o, env, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "dev-node: %v\n", err)
		return 1
	}
	return 0
}

// parseArgs parses the flags; --port, --max-connections and --dev-port
// fall back on their environment variables, then on their defaults. Errors
// are printed to stderr.
func parseArgs(args []string, env func(string) (string, bool), stderr io.Writer) (options, error) {
	fs := pflag.NewFlagSet("dev-node", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.BoolVar(&o.noTx, "no-transactions", false, "do not submit sample transactions")
	fs.DurationVar(&o.txInterval, "tx-interval", 250*time.Millisecond, "time between sample transactions")
	fs.DurationVar(&o.viewTimeout, "view-timeout", 2*time.Second, "consensus view timeout")
	fs.DurationVar(&o.builder, "builder-timeout", time.Second, "longest wait for transactions before an empty block")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "log consensus events")
	fs.StringVar(&o.dataDir, "data-dir", "", "keep the nodes' SQLite stores under this directory (default: a temporary directory removed at exit); a second run resumes from it")
	fs.Uint16Var(&o.port, "port", defaultAPIPort, "HTTP API port of node 0, 0 for any free port (env "+envAPIPort+")")
	fs.Uint64Var(&o.maxConns, "max-connections", 0, "most concurrent HTTP API connections; excess ones get HTTP 429 (env "+envMaxConns+"; default 1024)")
	fs.Uint16Var(&o.devPort, "dev-port", defaultDevPort, "port of the dev API (/api/dev-info), 0 for any free port (env "+envDevPort+")")
	l1URL := fs.String("l1-provider-url", "", "use the L1 at this JSON-RPC URL (a comma list: failover order) instead of the embedded one (env "+envL1+")")
	fs.DurationVar(&o.l1Polling, "l1-polling-interval", 250*time.Millisecond, "how often the nodes poll the L1 for new blocks (env "+envL1Polling+")")
	fs.DurationVar(&o.l1Block, "l1-block-interval", 250*time.Millisecond, "time between the embedded L1's blocks (it finalizes every 32 blocks)")
	fs.Uint16Var(&o.l1Port, "l1-port", 0, "JSON-RPC port of the embedded L1 on 127.0.0.1, 0 for any free port")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if len(fs.Args()) > 0 {
		fmt.Fprintf(stderr, "dev-node: unexpected argument %q\n", fs.Args()[0])
		return o, errors.New("unexpected argument")
	}
	for _, e := range []struct {
		flag, env string
		max       uint64
		set       func(uint64)
	}{
		{"port", envAPIPort, 65535, func(v uint64) { o.port = uint16(v) }},
		{"max-connections", envMaxConns, 1<<31 - 1, func(v uint64) { o.maxConns = v }},
		{"dev-port", envDevPort, 65535, func(v uint64) { o.devPort = uint16(v) }},
	} {
		raw, ok := env(e.env)
		if fs.Changed(e.flag) || !ok || strings.TrimSpace(raw) == "" {
			continue
		}
		v, err := strconv.ParseUint(strings.TrimSpace(raw), 10, 64)
		if err != nil || v > e.max {
			fmt.Fprintf(stderr, "dev-node: --%s (%s): %q: want an integer from 0 to %d\n", e.flag, e.env, raw, e.max)
			return o, fmt.Errorf("bad %s", e.env)
		}
		e.set(v)
	}
	if raw, ok := env(envL1); !fs.Changed("l1-provider-url") && ok {
		*l1URL = raw
	}
	if raw, ok := env(envL1Polling); !fs.Changed("l1-polling-interval") && ok && strings.TrimSpace(raw) != "" {
		d, err := time.ParseDuration(strings.TrimSpace(raw))
		if err != nil || d <= 0 {
			fmt.Fprintf(stderr, "dev-node: --l1-polling-interval (%s): %q: want a positive duration such as 1s or 500ms\n", envL1Polling, raw)
			return o, fmt.Errorf("bad %s", envL1Polling)
		}
		o.l1Polling = d
	}
	if o.l1Polling <= 0 || o.l1Block <= 0 {
		fmt.Fprintln(stderr, "dev-node: --l1-polling-interval and --l1-block-interval must be positive")
		return o, errors.New("bad L1 interval")
	}
	for part := range strings.SplitSeq(*l1URL, ",") {
		if part = strings.TrimSpace(part); part != "" {
			o.l1URLs = append(o.l1URLs, part)
		}
	}
	return o, nil
}

// apiPlan is what node 0 serves: the modules of a sequencer started with
// `-- storage-sql -- http -- query -- submit -- status -- catchup -- config`
// (docs/operator.md, "What module combinations do"), with the dev node's
// own variable in the config module's list.
func apiPlan(o options, env func(string) (string, bool)) (*apiopen.Plan, error) {
	cfg := &exopts.Config{
		HTTP:  &exopts.HTTPModule{Port: o.port, MaxConnections: o.maxConns},
		Query: &exopts.QueryModule{}, Submit: &exopts.SubmitModule{}, Status: &exopts.StatusModule{},
		Catchup: &exopts.CatchupModule{}, Config: &exopts.ConfigModule{}, StorageSQL: &exopts.StorageSQLModule{},
	}
	cfg.Global.Identity = exopts.Identity{NodeName: "dev-node 0", OperatingSystem: runtime.GOOS, NodeType: "gospresso dev-node " + node.Version}
	return apiopen.Build(cfg, apiopen.WithEnv(env), apiopen.WithPublicEnv(envDevPort))
}

func devNode(ctx context.Context, o options, env func(string) (string, bool), stdout, stderr io.Writer) error {
	gen, err := genesis.Parse(genesisTOML)
	if err != nil {
		return fmt.Errorf("embedded genesis: %w", err)
	}
	plan, err := apiPlan(o, env)
	if err != nil {
		return err
	}
	// The dev API's port is taken first, so that a port in use fails
	// before any node starts.
	devLn, err := net.Listen("tcp", ":"+strconv.Itoa(int(o.devPort)))
	if err != nil {
		return fmt.Errorf("dev API: %w (choose another port with --dev-port or %s)", err, envDevPort)
	}
	defer devLn.Close() // after Shutdown, a no-op
	level := slog.LevelWarn
	if o.verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	dir := o.dataDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "gospresso-dev-node-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	// The L1 first, so that it is closed after the nodes stop.
	chainL1, err := startL1(ctx, o, logger)
	if err != nil {
		return err
	}
	defer chainL1.close()
	ks := make([]keys.Keys, len(gen.StakeTable))
	for i := range ks {
		if ks[i], err = keys.DeriveKeys(devSeed, uint64(i)); err != nil {
			return err
		}
		if ks[i].Staking.PubKey() != gen.StakeTable[i].StakingKey {
			return fmt.Errorf("embedded genesis: public_keys[%d] is not key %d of the dev seed", i, i)
		}
	}
	if err := withL1(gen, ks, chainL1.fee); err != nil {
		return err
	}

	hub := memnet.NewHub()
	nodes := make([]*node.Node, len(gen.StakeTable))
	// stopNodes stops the nodes (closing their stores); it may be called
	// again.
	stopNodes := func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for i, n := range nodes {
			if n != nil {
				_ = n.Stop(stopCtx)
				nodes[i] = nil
			}
		}
	}
	defer stopNodes()
	// from is the first height to print: the one after what node 0's store
	// holds (1, the first block after genesis, for a new store). It is
	// read once node 0 has started and before any other node does: alone
	// node 0 holds too little stake to decide, so no block is decided (and
	// skipped) before it is read.
	var from uint64
	storePath := func(i int) string { return filepath.Join(dir, fmt.Sprintf("node%d", i), "database") }
	for i, k := range ks {
		tr, err := hub.Join(node.PeerID(k.Staking.PubKey()))
		if err != nil {
			return err
		}
		store, err := sqlite.Open(ctx, storePath(i), sqlite.WithLogger(logger.With("node", i)))
		if err != nil {
			return err
		}
		opts := []node.Option{node.WithStorage(store), node.WithNetwork(tr), node.WithLogger(logger.With("node", i)),
			node.WithConsensusConfig(consensus.Config{NextViewTimeout: o.viewTimeout, BuilderTimeout: o.builder}),
			node.WithL1(chainL1.client, l1.WithPollingInterval(o.l1Polling))}
		if i == 0 {
			opts = append(opts, node.WithAPI(plan.Addr, plan.Modules, plan.ServerOptions...))
		}
		n, err := node.New(gen, k, opts...)
		if err != nil {
			store.Close()
			return err
		}
		if err := n.Start(ctx); err != nil {
			_ = n.Stop(context.Background()) // closes the store
			if errors.Is(err, syscall.EADDRINUSE) {
				err = fmt.Errorf("%w (choose another HTTP API port with --port or %s)", err, envAPIPort)
			}
			return err
		}
		nodes[i] = n
		if i == 0 {
			from = n.BlockHeight()
		}
	}
	if h, _, ok := nodes[0].DecidedState(); ok {
		chainL1.catchUp(h.L1Head)
	}
	apiPort := nodes[0].APIAddr().(*net.TCPAddr).Port
	devSrv, err := api.New(nodes[0].APIBackend(),
		[]api.Module{devAPI{info: devInfo{SequencerAPIPort: uint16(apiPort), L1URL: &chainL1.url, AltChains: []altChain{}}}},
		api.WithLogger(logger), api.WithAppVersion("gospresso "+node.Version))
	if err != nil {
		return err
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := devSrv.Serve(devLn); err != nil {
			logger.Error("dev API server stopped", "err", err)
		}
	}()
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = devSrv.Shutdown(stopCtx)
		<-served
	}()
	fmt.Fprintf(stdout, "dev-node: %d nodes running (chain id %s, stores in %s); Ctrl-C to stop\n", len(nodes), gen.ChainConfig.ChainID, dir)
	fmt.Fprintf(stdout, "dev-node: node 0 serves the HTTP API at http://localhost:%d (try: curl -L http://localhost:%d/status/block-height)\n", apiPort, apiPort)
	fmt.Fprintf(stdout, "dev-node: dev API at http://localhost:%d/api/dev-info\n", devLn.Addr().(*net.TCPAddr).Port)
	fmt.Fprintf(stdout, "dev-node: %s\n", chainL1.line)

	var mu sync.Mutex
	submitted := make(map[types.Commitment]time.Time)
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if !o.noTx {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(o.txInterval)
			defer tick.Stop()
			for seq := 0; ; seq++ {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				tx := types.Transaction{Namespace: uint64(seq%3 + 1), Payload: fmt.Appendf(nil, "sample transaction %d", seq)}
				mu.Lock()
				submitted[tx.Commit()] = time.Now()
				mu.Unlock()
				if _, err := nodes[seq%len(nodes)].SubmitTransaction(ctx, tx); err != nil && ctx.Err() == nil {
					fmt.Fprintf(stderr, "dev-node: submit: %v\n", err)
				}
			}
		}()
	}
	// printBlock prints one decided block, with the mean latency of the
	// sample transactions it holds.
	printBlock := func(b types.Block) error {
		txs, err := b.Payload.Transactions()
		if err != nil {
			return err
		}
		now := time.Now()
		latency := "-"
		var total time.Duration
		var counted int
		mu.Lock()
		for _, tx := range txs {
			if at, ok := submitted[tx.Commit()]; ok {
				total += now.Sub(at)
				counted++
				delete(submitted, tx.Commit())
			}
		}
		mu.Unlock()
		if counted > 0 {
			latency = (total / time.Duration(counted)).Round(time.Millisecond).String()
		}
		fin := "none"
		if f := b.Leaf.Header.L1Finalized; f != nil {
			fin = strconv.FormatUint(f.Number, 10)
		}
		fmt.Fprintf(stdout, "decided height=%d view=%d transactions=%d latency=%s l1_head=%d l1_finalized=%s\n",
			b.Height(), b.Leaf.View, len(txs), latency, b.Leaf.Header.L1Head, fin)
		return nil
	}
	// Every block exactly once: from the first block after genesis, or
	// after what a kept --data-dir already holds, to the last one decided
	// before the nodes stopped.
	next := from
	for b, err := range nodes[0].Decided(ctx, next) {
		if ctx.Err() != nil {
			break // interrupted: stop cleanly
		}
		if err != nil {
			return err
		}
		if err := printBlock(b); err != nil {
			return err
		}
		next = b.Height() + 1
	}
	// The nodes decide blocks until they stop: print those from node 0's
	// store once they have, so that a run with a kept --data-dir resumes
	// printing exactly after the last block this one printed.
	cancel()
	wg.Wait()
	stopNodes()
	return printStored(storePath(0), next, printBlock)
}

// printStored prints the blocks from height from on of the closed store at
// path with printBlock.
func printStored(path string, from uint64, printBlock func(types.Block) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return fmt.Errorf("after stopping: %w", err)
	}
	defer st.Close()
	h, err := st.BlockHeight(ctx)
	if err != nil {
		return fmt.Errorf("after stopping: %w", err)
	}
	for ; from < h; from++ {
		b, err := st.BlockByHeight(ctx, from)
		if err != nil {
			return fmt.Errorf("after stopping: decided block %d: %w", from, err)
		}
		if err := printBlock(b); err != nil {
			return err
		}
	}
	return nil
}

// devL1 is the dev network's L1: the embedded one, or the one at
// --l1-provider-url.
type devL1 struct {
	client   l1.Client
	url      string         // what dev-info's l1_url answers
	fee      *types.Address // the fee contract; nil without one
	line     string         // the start-up line that describes it
	embedded *l1test.L1     // nil for an external L1
	close    func()
}

// startL1 starts the embedded L1, or connects to the one at
// --l1-provider-url and checks that it answers.
func startL1(ctx context.Context, o options, logger *slog.Logger) (*devL1, error) {
	if len(o.l1URLs) > 0 {
		c, err := eth.Dial(ctx, o.l1URLs, eth.WithLogger(logger))
		if err != nil {
			return nil, fmt.Errorf("L1: %w (check --l1-provider-url or %s)", err, envL1)
		}
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		id, err := c.ChainID(cctx)
		cancel()
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("L1 %s: %w (check --l1-provider-url or %s)", strings.Join(c.Providers(), ", "), err, envL1)
		}
		return &devL1{client: c, url: o.l1URLs[0], close: c.Close,
			line: fmt.Sprintf("L1 at %s (chain id %s), polled every %s; no fee contract: builders pay from their prefunded accounts",
				strings.Join(c.Providers(), ", "), id, o.l1Polling)}, nil
	}
	l, err := l1test.New(l1test.WithBlockInterval(o.l1Block), l1test.WithLogger(logger),
		l1test.WithListenAddr(net.JoinHostPort("127.0.0.1", strconv.Itoa(int(o.l1Port)))))
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			err = fmt.Errorf("%w (choose another port with --l1-port)", err)
		}
		return nil, fmt.Errorf("embedded L1: %w", err)
	}
	fee := l.FeeContract()
	return &devL1{client: l, url: l.URL(), fee: &fee, embedded: l, close: func() { _ = l.Close() },
		line: fmt.Sprintf("embedded L1 (chain id %d) at %s, a block every %s, fee contract %s", l1test.ChainID, l.URL(), o.l1Block, fee)}, nil
}

// catchUp commits blocks on the embedded L1 until its head reaches head:
// a store kept under --data-dir holds L1 heights that a new embedded L1
// (which starts from its genesis every run) must pass before blocks carry
// new ones.
func (d *devL1) catchUp(head uint64) {
	if d.embedded == nil {
		return
	}
	for n := d.embedded.Commit(); n != 0 && n < head; n = d.embedded.Commit() {
	}
}

// withL1 completes the embedded genesis for the L1: the fee contract (when
// there is one), a base fee, and every node's builder account (the default
// builder key of its staking key) prefunded.
func withL1(gen *genesis.Genesis, ks []keys.Keys, fee *types.Address) error {
	gen.ChainConfig.FeeContract = fee
	gen.ChainConfig.BaseFee = devBaseFee
	if gen.Accounts == nil {
		gen.Accounts = make(map[types.Address]types.U256)
	}
	for _, k := range ks {
		bk, err := node.DefaultBuilderKey(k.Staking)
		if err != nil {
			return err
		}
		gen.Accounts[chain.BuilderAddress(bk)] = devBuilderFunds
	}
	return gen.Validate()
}
