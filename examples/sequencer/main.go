package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/gospresso/gospresso/examples/internal/apiopen"
	"github.com/gospresso/gospresso/examples/internal/options"
	"github.com/gospresso/gospresso/genesis"
	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/network/p2p"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1 // genesis, keys or the store could not be loaded
	exitUsage   = 2 // command-line or configuration error (pruning with storage-fs and bad identity options too)
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program: args exclude the program name and env looks up
// environment variables. It returns the exit status.
func run(ctx context.Context, args []string, env func(string) (string, bool), stdout, stderr io.Writer) int {
	cfg, err := options.Parse(args, env)
	var help *options.HelpError
	if errors.As(err, &help) {
		fmt.Fprint(stdout, help.Text)
		return exitOK
	}
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		return fail(stderr, err)
	}
	// The API plan checks the identity options: a configuration error,
	// reported before anything is loaded.
	plan, err := apiopen.Build(cfg, apiopen.WithEnv(env))
	if err != nil {
		return fail(stderr, err)
	}

	// Every start-up step honours ctx (the signal context main sets up
	// first): reading a genesis or key file that is a FIFO nobody writes to
	// blocks, and a signal must still end the program.
	g := &cfg.Global
	gen, err := genesis.LoadContext(ctx, g.GenesisFile)
	if err != nil {
		return fail(stderr, err)
	}
	k, err := loadKeys(ctx, g)
	if err != nil {
		return fail(stderr, err)
	}
	peer, err := p2p.PeerID(k.Staking)
	if err != nil {
		return fail(stderr, fmt.Errorf("libp2p peer id: %w", err))
	}

	fmt.Fprint(stdout, cfg.Summary())
	fmt.Fprintf(stdout, "genesis: %s\n", describeGenesis(g.GenesisFile, gen))
	fmt.Fprintf(stdout, "keys: staking %s, state %s, libp2p peer %s\n", k.Staking.PubKey(), k.State.PubKey(), peer)
	fmt.Fprint(stdout, plan.Describe())

	if err := ctx.Err(); err != nil {
		return fail(stderr, fmt.Errorf("interrupted: %w", err))
	}
	return runNode(ctx, cfg, env, plan, gen, k, stdout, stderr)
}

// loadKeys loads the keys of the key file or the private key options, and
// returns at once, with an error saying so, when ctx ends first (the read
// is abandoned; it reads at most keys.MaxKeyFileSize bytes).
func loadKeys(ctx context.Context, g *options.Global) (keys.Keys, error) {
	interrupted := func() error {
		what := "the private key options"
		if g.KeyFile != "" {
			what = "the key file " + g.KeyFile
		}
		return fmt.Errorf("interrupted while loading %s: %w", what, context.Cause(ctx))
	}
	if ctx.Err() != nil {
		return keys.Keys{}, interrupted()
	}
	type result struct {
		k   keys.Keys
		err error
	}
	done := make(chan result, 1)
	go func() {
		k, err := keys.Load(g.KeyFile, g.PrivateStakingKey.Reveal(), g.PrivateStateKey.Reveal())
		done <- result{k, err}
	}()
	select {
	case r := <-done:
		return r.k, r.err
	case <-ctx.Done():
		return keys.Keys{}, interrupted()
	}
}

// describeGenesis summarises a loaded genesis file on one line.
func describeGenesis(path string, gen *genesis.Genesis) string {
	stake := "from the orchestrator"
	if n := len(gen.StakeTable); n > 0 {
		stake = fmt.Sprintf("%d keys in the genesis file", n)
	}
	commit := gen.Commitment()
	return fmt.Sprintf("%s (base version %s, upgrade version %s, chain id %s, max block size %d bytes, %d upgrade(s), stake table %s, needs L1 %t, commitment 0x%x)",
		path, gen.BaseVersion, gen.UpgradeVersion, gen.ChainConfig.ChainID, gen.ChainConfig.MaxBlockSize,
		len(gen.Upgrades), stake, gen.NeedsL1(), commit[:])
}

// fail prints err as one line and returns the exit status for it.
func fail(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "sequencer: %s\n", strings.ReplaceAll(err.Error(), "\n", "; "))
	if errors.Is(err, options.ErrUsage) {
		return exitUsage
	}
	return exitFailure
}
