package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/gospresso/gospresso/api"
	"github.com/gospresso/gospresso/genesis"
	"github.com/gospresso/gospresso/services/staterelay"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1 // genesis unusable, port not bound, serving failed
	exitUsage   = 2 // command-line or environment error
)

// Environment variables.
const (
	envPort       = "ESPRESSO_STATE_RELAY_SERVER_PORT"
	envTotalStake = "ESPRESSO_STATE_SIGNATURE_TOTAL_STAKE"
	envGenesis    = "ESPRESSO_STATE_RELAY_GENESIS_FILE"
)

// Defaults.
const (
	defaultPort     = 8083
	shutdownTimeout = 5 * time.Second
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program: args exclude the program name and env looks up
// environment variables. It serves until ctx ends and returns the exit
// status.
func run(ctx context.Context, args []string, env func(string) (string, bool), stdout, stderr io.Writer) int {
	return runWith(ctx, args, env, stdout, stderr, listenAll)
}

// listenFunc opens the server's listener for port.
type listenFunc func(port uint16) (net.Listener, error)

// listenAll listens on every interface, as the reference relay does.
func listenAll(port uint16) (net.Listener, error) {
	return net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(int(port))))
}

// config is the parsed command line.
type config struct {
	port        uint16
	totalStake  uint64
	stakeGiven  bool // --total-stake or its variable set
	genesisFile string
}

// usageError is a command-line or environment error (exit status 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// errHelp is returned by parse for -h and --help.
var errHelp = errors.New("help requested")

const usageHead = `Usage: state-relay-server [-p PORT] [--total-stake N | --genesis FILE]

Collects the light-client states nodes sign (POST /api/state) and serves the
latest one signed by more than a third of the stake (GET /api/state).

Options (each also read from its environment variable; a flag wins):
`

const portUsage = "port to serve on, 0 for any free one"

func newFlagSet(c *config) *pflag.FlagSet {
	fs := pflag.NewFlagSet("state-relay-server", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	fs.VarP(&portValue{&c.port}, "port", "p", portUsage+" ("+envPort+")")
	fs.Var(&stakeValue{&c.totalStake}, "total-stake", "total stake the threshold ⌊N/3⌋+1 is computed from when there is no --genesis; temporary, as in the reference ("+envTotalStake+")")
	fs.StringVar(&c.genesisFile, "genesis", "", "genesis `FILE` whose [[public_keys]] stake table sets the accepted keys, their weights and the threshold ("+envGenesis+")")
	return fs
}

func usage() string {
	var c config
	c.port, c.totalStake = defaultPort, staterelay.DefaultTotalStake
	flags := newFlagSet(&c).FlagUsages()
	// -h, --help in the column the descriptions start at.
	col := strings.Index(flags, portUsage)
	return usageHead + flags + fmt.Sprintf("%-*s%s\n", col, "  -h, --help", "print this help")
}

// parse reads the command line, then the environment for what the command
// line left unset. Errors are *usageError, or errHelp.
func parse(args []string, env func(string) (string, bool)) (config, error) {
	c := config{port: defaultPort, totalStake: staterelay.DefaultTotalStake}
	fs := newFlagSet(&c)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return c, errHelp
		}
		return c, usageErrorf("%v (see --help)", err)
	}
	if fs.NArg() > 0 {
		return c, usageErrorf("unexpected argument %q (see --help)", fs.Arg(0))
	}
	for _, e := range []struct{ flag, name string }{{"port", envPort}, {"total-stake", envTotalStake}, {"genesis", envGenesis}} {
		if fs.Changed(e.flag) {
			continue
		}
		raw, ok := env(e.name)
		if !ok || strings.TrimSpace(raw) == "" {
			continue
		}
		if err := fs.Lookup(e.flag).Value.Set(strings.TrimSpace(raw)); err != nil {
			return c, usageErrorf("--%s (%s): %q: %v", e.flag, e.name, raw, err)
		}
		if e.flag == "total-stake" {
			c.stakeGiven = true
		}
	}
	c.stakeGiven = c.stakeGiven || fs.Changed("total-stake")
	if c.stakeGiven && c.genesisFile != "" {
		return c, usageErrorf("--total-stake and --genesis exclude each other: with a genesis file the threshold comes from its stake table (unset --total-stake and %s)", envTotalStake)
	}
	return c, nil
}

// portValue is a port number flag with a clear error.
type portValue struct{ p *uint16 }

func (v *portValue) Set(s string) error {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return errors.New("want a port number from 0 to 65535")
	}
	*v.p = uint16(n)
	return nil
}
func (v *portValue) String() string { return strconv.Itoa(int(*v.p)) }
func (v *portValue) Type() string   { return "PORT" }

// stakeValue is a total stake flag (≥ 1) with a clear error.
type stakeValue struct{ p *uint64 }

func (v *stakeValue) Set(s string) error {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return errors.New("want a whole number of at least 1")
	}
	*v.p = n
	return nil
}
func (v *stakeValue) String() string { return strconv.FormatUint(*v.p, 10) }
func (v *stakeValue) Type() string   { return "N" }

func runWith(ctx context.Context, args []string, env func(string) (string, bool), stdout, stderr io.Writer, listen listenFunc) int {
	cfg, err := parse(args, env)
	if errors.Is(err, errHelp) {
		fmt.Fprint(stdout, usage())
		return exitOK
	}
	if err != nil {
		return fail(stderr, err)
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	opts := []staterelay.Option{staterelay.WithLogger(log)}
	weights := "any key, each weighs 1; --total-stake is temporary: give --genesis to use a stake table"
	if cfg.genesisFile != "" {
		gen, err := genesis.Load(cfg.genesisFile)
		if err != nil {
			return fail(stderr, err)
		}
		if len(gen.StakeTable) == 0 {
			return fail(stderr, fmt.Errorf("genesis: %s has no [[public_keys]] stake table (it takes its stake table from the orchestrator): give --total-stake instead", cfg.genesisFile))
		}
		opts = append(opts, staterelay.WithStakeTable(gen.StakeTable))
		weights = fmt.Sprintf("the %d state keys of the stake table in %s, weighed by stake", len(gen.StakeTable), cfg.genesisFile)
	} else {
		opts = append(opts, staterelay.WithTotalStake(cfg.totalStake))
	}
	relay, err := staterelay.New(opts...)
	if err != nil {
		return fail(stderr, err)
	}
	srv, err := relay.NewServer(api.WithAppVersion("gospresso state-relay-server"))
	if err != nil {
		return fail(stderr, err)
	}
	ln, err := listen(cfg.port)
	if err != nil {
		return fail(stderr, fmt.Errorf("listen on port %d: %w", cfg.port, err))
	}
	fmt.Fprintf(stdout, "state-relay-server: listening on %s; threshold %d of total stake %d (%s)\n",
		ln.Addr(), relay.Threshold(), relay.TotalStake(), weights)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		_ = srv.Shutdown(context.Background()) // nothing is served any more: returns at once
		if err == nil {
			err = errors.New("server stopped unexpectedly")
		}
		return fail(stderr, fmt.Errorf("serve: %w", err))
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	// Shutdown closes the listener; closing it again also ends a Serve
	// that had not started yet when the signal came.
	_ = ln.Close()
	<-served
	if err != nil {
		// Requests take milliseconds; what outlives the grace period is a
		// client's connection that never sent one. Shutdown closed it.
		fmt.Fprintf(stderr, "state-relay-server: shutdown: %v: closed the connections still open after %v\n", err, shutdownTimeout)
	}
	fmt.Fprintln(stdout, "state-relay-server: stopped")
	return exitOK
}

// fail prints err as one line and returns the exit status for it.
func fail(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "state-relay-server: %s\n", strings.ReplaceAll(err.Error(), "\n", "; "))
	var u *usageError
	if errors.As(err, &u) {
		return exitUsage
	}
	return exitFailure
}
