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
	"time"

	"github.com/spf13/pflag"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("localnet", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg := Config{Log: stdout}
	fs.IntVarP(&cfg.Nodes, "nodes", "n", 5, "number of sequencer processes")
	fs.StringVar(&cfg.Dir, "dir", "localnet-data", "directory for keys, genesis, stores, logs and built binaries")
	fs.StringVar(&cfg.Bin, "bin", "", "directory holding sequencer, orchestrator and state-relay-server binaries (default: build them into DIR/bin)")
	fs.DurationVar(&cfg.ViewTimeout, "view-timeout", 5*time.Second, "consensus view timeout the orchestrator hands out")
	fs.StringVar(&cfg.Seed, "seed", strings.Repeat("0", 63)+"7", "key seed, 64 hex digits")
	help := fs.BoolP("help", "h", false, "print this help")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "localnet: %v (see --help)\n", err)
		return 2
	}
	if *help {
		fmt.Fprintf(stdout, "localnet starts an orchestrator, a state relay and N sequencer processes on 127.0.0.1.\n\nUsage: localnet [options]\n\n%s", fs.FlagUsages())
		return 0
	}
	n, err := Start(ctx, cfg)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return 0
		}
		fmt.Fprintf(stderr, "localnet: %v\n", err)
		return 1
	}
	defer n.Stop()
	fmt.Fprintf(stdout, "localnet: %d nodes running (logs and stores in %s)\n", cfg.Nodes, cfg.Dir)
	for i, u := range n.APIURLs {
		fmt.Fprintf(stdout, "  node %d: %s  (modules: %s; log %s)\n", i, u, strings.Join(n.Modules[i], " "), n.LogOf(i))
	}
	fmt.Fprintln(stdout, "localnet: Ctrl-C stops every process")
	<-ctx.Done()
	fmt.Fprintln(stdout, "localnet: stopping")
	return 0
}
