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
	"github.com/gospresso/gospresso/examples/internal/storeopen"
	"github.com/gospresso/gospresso/genesis"
	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/storage"
)

// Exit statuses.
const (
	exitOK             = 0
	exitFailure        = 1 // genesis, keys or the store could not be loaded
	exitUsage          = 2 // command-line or configuration error (pruning with storage-fs and bad identity options too)
	exitNotImplemented = 3 // valid configuration, but no node in this build
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

	g := &cfg.Global
	gen, err := genesis.Load(g.GenesisFile)
	if err != nil {
		return fail(stderr, err)
	}
	k, err := keys.Load(g.KeyFile, g.PrivateStakingKey.Reveal(), g.PrivateStateKey.Reveal())
	if err != nil {
		return fail(stderr, err)
	}
	peer, err := k.Staking.PeerID()
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
	if code, ok := openStore(ctx, cfg, env, stdout, stderr); !ok {
		return code
	}
	fmt.Fprintln(stderr, "sequencer: the configuration is valid, but this build cannot start a consensus node yet: it has no libp2p transport, so it serves no API either (for an in-process network with the HTTP API run: go run ./examples/dev-node)")
	return exitNotImplemented
}

// openStore opens the store the storage module selects (docs/storage.md, "The
// storage-sql module"), prints
// what it opened, and closes it again: this build has no node to give it
// to. It reports false with the exit status when the store cannot be used.
func openStore(ctx context.Context, cfg *options.Config, env func(string) (string, bool), stdout, stderr io.Writer) (int, bool) {
	st, info, err := storeopen.Open(ctx, cfg, storeopen.WithEnv(env))
	if err != nil {
		code := fail(stderr, err)
		if errors.Is(err, storage.ErrNotSupported) {
			code = exitUsage // pruning asked of the file-system backend
		}
		return code, false
	}
	if info.Notice != "" {
		fmt.Fprintln(stdout, info.Notice)
	}
	fmt.Fprintf(stdout, "store: opened %s\n", info.Description)
	if err := st.Close(); err != nil {
		return fail(stderr, fmt.Errorf("storage: close %s: %w", info.Location, err)), false
	}
	return 0, true
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
