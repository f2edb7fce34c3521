// Command dev-node runs a whole gospresso network in one process: four
// consensus nodes over an in-memory network, each with an SQLite store (in a
// temporary directory removed at exit, or under --data-dir, kept), keys from
// a fixed seed and a genesis embedded in the binary (genesis.toml beside this
// file). It submits a trickle of sample transactions unless told not to and
// prints every decided block until interrupted.
//
//	go run ./examples/dev-node
//	go run ./examples/dev-node --no-transactions --view-timeout 2s
//
// It grows into the full dev node of the operator guide (HTTP API, L1,
// SQLite storage) as those parts land.
package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/genesis"
	"github.com/gospresso/gospresso/keys"
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

type options struct {
	noTx        bool
	txInterval  time.Duration
	viewTimeout time.Duration
	builder     time.Duration
	verbose     bool
	dataDir     string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("dev-node", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.BoolVar(&o.noTx, "no-transactions", false, "do not submit sample transactions")
	fs.DurationVar(&o.txInterval, "tx-interval", 250*time.Millisecond, "time between sample transactions")
	fs.DurationVar(&o.viewTimeout, "view-timeout", 2*time.Second, "consensus view timeout")
	fs.DurationVar(&o.builder, "builder-timeout", time.Second, "longest wait for transactions before an empty block")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "log consensus events")
	fs.StringVar(&o.dataDir, "data-dir", "", "keep the nodes' SQLite stores under this directory (default: a temporary directory removed at exit); a second run resumes from it")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := devNode(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "dev-node: %v\n", err)
		return 1
	}
	return 0
}

func devNode(ctx context.Context, o options, stdout, stderr io.Writer) error {
	gen, err := genesis.Parse(genesisTOML)
	if err != nil {
		return fmt.Errorf("embedded genesis: %w", err)
	}
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
	hub := memnet.NewHub()
	nodes := make([]*node.Node, len(gen.StakeTable))
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, n := range nodes {
			if n != nil {
				_ = n.Stop(stopCtx)
			}
		}
	}()
	for i := range nodes {
		k, err := keys.DeriveKeys(devSeed, uint64(i))
		if err != nil {
			return err
		}
		if k.Staking.PubKey() != gen.StakeTable[i].StakingKey {
			return fmt.Errorf("embedded genesis: public_keys[%d] is not key %d of the dev seed", i, i)
		}
		tr, err := hub.Join(node.PeerID(k.Staking.PubKey()))
		if err != nil {
			return err
		}
		store, err := sqlite.Open(ctx, filepath.Join(dir, fmt.Sprintf("node%d", i), "database"), sqlite.WithLogger(logger.With("node", i)))
		if err != nil {
			return err
		}
		n, err := node.New(gen, k, node.WithStorage(store), node.WithNetwork(tr), node.WithLogger(logger.With("node", i)),
			node.WithConsensusConfig(consensus.Config{NextViewTimeout: o.viewTimeout, BuilderTimeout: o.builder}))
		if err != nil {
			store.Close()
			return err
		}
		if err := n.Start(ctx); err != nil {
			_ = n.Stop(context.Background()) // closes the store
			return err
		}
		nodes[i] = n
	}
	fmt.Fprintf(stdout, "dev-node: %d nodes running (chain id %s, stores in %s); Ctrl-C to stop\n", len(nodes), gen.ChainConfig.ChainID, dir)

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
	// From the first block after genesis, or after what a kept --data-dir
	// already holds.
	for b, err := range nodes[0].Decided(ctx, nodes[0].BlockHeight()) {
		if ctx.Err() != nil {
			return nil // interrupted: stop cleanly
		}
		if err != nil {
			return err
		}
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
		fmt.Fprintf(stdout, "decided height=%d view=%d transactions=%d latency=%s\n", b.Height(), b.Leaf.View, len(txs), latency)
	}
	return nil
}
