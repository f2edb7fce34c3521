package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/big"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/gospresso/gospresso/api"
	"github.com/gospresso/gospresso/services/orchestrator"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1 // port not bound, serving failed
	exitUsage   = 2 // command-line or environment error
)

// Environment variables.
const (
	envPrefix          = "ESPRESSO_ORCHESTRATOR_"
	envPort            = envPrefix + "PORT"
	envNumNodes        = envPrefix + "NUM_NODES"
	envPassword        = envPrefix + "MANUAL_START_PASSWORD"
	envStartDelay      = envPrefix + "START_DELAY"
	envNextViewTimeout = envPrefix + "NEXT_VIEW_TIMEOUT"
	envViewSyncTimeout = envPrefix + "VIEW_SYNC_TIMEOUT"
	envTimeoutRatio    = envPrefix + "TIMEOUT_RATIO"
	envStartThreshold  = envPrefix + "START_THRESHOLD"
	envRoundStartDelay = envPrefix + "ROUND_START_DELAY"
	envMeshN           = envPrefix + "LIBP2P_MESH_N"
	envKeygenSeed      = envPrefix + "KEYGEN_SEED"
	envBuilderURLs     = envPrefix + "BUILDER_URLS"
	envBuilderTimeout  = envPrefix + "BUILDER_TIMEOUT"
)

const shutdownTimeout = 5 * time.Second

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

// listenAll listens on every interface, as the reference orchestrator does.
func listenAll(port uint16) (net.Listener, error) {
	return net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(int(port))))
}

// config is the parsed command line and environment.
type config struct {
	port            uint16
	numNodes        int
	password        string
	startDelay      time.Duration
	nextViewTimeout time.Duration
	viewSyncTimeout time.Duration
	timeoutRatio    [2]uint64
	startThreshold  [2]uint64
	roundStartDelay time.Duration
	meshN           uint64
	keygenSeed      [32]byte
	builderURLs     []string
	builderTimeout  time.Duration
}

func defaults() config {
	return config{
		startDelay:      orchestrator.DefaultStartDelay,
		nextViewTimeout: orchestrator.DefaultNextViewTimeout,
		viewSyncTimeout: orchestrator.DefaultViewSyncTimeout,
		timeoutRatio:    orchestrator.DefaultTimeoutRatio,
		startThreshold:  orchestrator.DefaultStartThreshold,
		roundStartDelay: orchestrator.DefaultRoundStartDelay,
		meshN:           orchestrator.DefaultLibp2pMeshN,
		builderTimeout:  orchestrator.DefaultBuilderTimeout,
	}
}

// usageError is a command-line or environment error (exit status 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// errHelp is returned by parse for -h and --help.
var errHelp = errors.New("help requested")

const usageHead = `Usage: orchestrator -p PORT -n N [--manual-start-password PASSWORD]

Collects the registrations of a network's nodes (POST /api/register), serves
the network config built from them (GET /api/config) and gives the start
signal (GET /api/start) once enough nodes have registered.

Options (each also read from its environment variable; a flag wins):
`

const portUsage = "port to serve on, on every interface; 0 for any free one (required; "

// envOnly lists the settings read only from the environment.
var envOnly = []struct{ name, def, meaning string }{
	{envStartDelay, "10s", "how long after the start threshold the start signal is given"},
	{envNextViewTimeout, "60s", "next_view_timeout of the network config"},
	{envViewSyncTimeout, "2s", "view_sync_timeout of the network config (gospresso)"},
	{envTimeoutRatio, "11:10", "timeout_ratio N:D of the network config, N >= D"},
	{envStartThreshold, "8:10", "fraction N:D of the nodes that must register before the start"},
	{envRoundStartDelay, "1ms", "round_start_delay of the network config"},
	{envMeshN, "20", "libp2p_mesh_n (gossipsub mesh degree) of the network config"},
	{envKeygenSeed, "64 zero hex digits", "accepted and checked; unused (nodes bring their own keys)"},
	{envBuilderURLs, "none", "comma list of builder URLs for the network config"},
	{envBuilderTimeout, "1s", "builder_timeout of the network config"},
}

func newFlagSet(c *config) *pflag.FlagSet {
	fs := pflag.NewFlagSet("orchestrator", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	fs.VarP(&portValue{&c.port}, "port", "p", portUsage+envPort+")")
	fs.VarP(&nodesValue{&c.numNodes}, "num-nodes", "n", "number of nodes in the network (required; "+envNumNodes+")")
	fs.StringVar(&c.password, "manual-start-password", "", "enables POST /api/manual-start with this `PASSWORD`; prefer the variable, which ps does not show ("+envPassword+")")
	return fs
}

func usage() string {
	c := defaults()
	flags := newFlagSet(&c).FlagUsages()
	col := strings.Index(flags, portUsage)
	var b strings.Builder
	b.WriteString(usageHead)
	b.WriteString(flags)
	fmt.Fprintf(&b, "%-*s%s\n", col, "  -h, --help", "print this help")
	b.WriteString("\nSettings read from the environment only (default in brackets):\n")
	for _, e := range envOnly {
		fmt.Fprintf(&b, "  %-42s %s [%s]\n", e.name, e.meaning, e.def)
	}
	b.WriteString(`
Durations: a number and a unit (ns, us, ms, s, m, h, d), e.g. 500ms, 1m30s, 1d.
Ratios: N:D (or N/D, or a decimal such as 0.8).
`)
	return b.String()
}

// parse reads the command line, then the environment for what the command
// line left unset. Errors are *usageError, or errHelp.
func parse(args []string, env func(string) (string, bool)) (config, error) {
	c := defaults()
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
	lookup := func(name string) (string, bool) {
		raw, ok := env(name)
		if !ok || strings.TrimSpace(raw) == "" {
			return "", false
		}
		return strings.TrimSpace(raw), true
	}
	for _, e := range []struct{ flag, name string }{{"port", envPort}, {"num-nodes", envNumNodes}, {"manual-start-password", envPassword}} {
		if fs.Changed(e.flag) {
			continue
		}
		raw, ok := lookup(e.name)
		if !ok {
			if e.flag != "manual-start-password" {
				return c, usageErrorf("--%s (or %s) is required (see --help)", e.flag, e.name)
			}
			continue
		}
		if e.flag == "manual-start-password" {
			raw, _ = env(e.name) // a password is taken as it is
		}
		if err := fs.Lookup(e.flag).Value.Set(raw); err != nil {
			return c, usageErrorf("--%s (%s): %q: %v", e.flag, e.name, raw, err)
		}
	}
	if fs.Changed("manual-start-password") && c.password == "" {
		return c, usageErrorf("--manual-start-password: empty password (leave the flag out to disable the manual start)")
	}

	durations := []struct {
		name string
		p    *time.Duration
		min  time.Duration
	}{
		{envStartDelay, &c.startDelay, 0},
		{envNextViewTimeout, &c.nextViewTimeout, time.Millisecond},
		{envViewSyncTimeout, &c.viewSyncTimeout, time.Millisecond},
		{envRoundStartDelay, &c.roundStartDelay, 0},
		{envBuilderTimeout, &c.builderTimeout, 0},
	}
	for _, d := range durations {
		raw, ok := lookup(d.name)
		if !ok {
			continue
		}
		v, err := parseDuration(raw)
		if err == nil && v < d.min {
			err = fmt.Errorf("want at least %v", d.min)
		}
		if err != nil {
			return c, usageErrorf("%s: %q: %v", d.name, raw, err)
		}
		*d.p = v
	}
	if raw, ok := lookup(envTimeoutRatio); ok {
		r, err := parseRatio(raw)
		if err == nil && r[0] < r[1] {
			err = errors.New("want N:D with N >= D (the timeout may not shrink)")
		}
		if err != nil {
			return c, usageErrorf("%s: %q: %v", envTimeoutRatio, raw, err)
		}
		c.timeoutRatio = r
	}
	if raw, ok := lookup(envStartThreshold); ok {
		r, err := parseRatio(raw)
		if err == nil && (r[0] == 0 || r[0] > r[1] || r[1] > 1<<32) {
			err = errors.New("want N:D with 0 < N <= D, e.g. 8:10")
		}
		if err != nil {
			return c, usageErrorf("%s: %q: %v", envStartThreshold, raw, err)
		}
		c.startThreshold = r
	}
	if raw, ok := lookup(envMeshN); ok {
		n, err := strconv.ParseUint(raw, 10, 32)
		if err != nil || n == 0 {
			return c, usageErrorf("%s: %q: want a whole number from 1 to %d", envMeshN, raw, uint32(math.MaxUint32))
		}
		c.meshN = n
	}
	if raw, ok := lookup(envKeygenSeed); ok {
		b, err := hex.DecodeString(strings.TrimPrefix(strings.TrimPrefix(raw, "0x"), "0X"))
		if err != nil || len(b) != len(c.keygenSeed) {
			return c, usageErrorf("%s: want exactly 64 hex digits (32 bytes)", envKeygenSeed) // a seed is not echoed
		}
		copy(c.keygenSeed[:], b)
	}
	if raw, ok := lookup(envBuilderURLs); ok {
		for item := range strings.SplitSeq(raw, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			u, err := url.Parse(item)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return c, usageErrorf("%s: %q: not an absolute http or https URL", envBuilderURLs, item)
			}
			c.builderURLs = append(c.builderURLs, item)
		}
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

// nodesValue is a number of nodes (1 to orchestrator.MaxNodes).
type nodesValue struct{ p *int }

func (v *nodesValue) Set(s string) error {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 0 || n > orchestrator.MaxNodes {
		return fmt.Errorf("want a whole number from 1 to %d", orchestrator.MaxNodes)
	}
	*v.p = int(n)
	return nil
}
func (v *nodesValue) String() string { return strconv.Itoa(*v.p) }
func (v *nodesValue) Type() string   { return "N" }

const durationWant = "want e.g. 500ms, 7s, 1h, 3d"

// parseDuration accepts what the sequencer's durations accept: Go's
// time.ParseDuration syntax plus a "d" (24 h) unit, spaces between a
// number and its unit and between terms, decimals; a bare number other
// than "0" needs a unit; no negative values.
func parseDuration(s string) (time.Duration, error) {
	in := strings.TrimPrefix(strings.TrimSpace(s), "+")
	switch {
	case in == "":
		return 0, fmt.Errorf("empty duration (%s)", durationWant)
	case in == "0":
		return 0, nil
	case strings.HasPrefix(in, "-"):
		return 0, fmt.Errorf("negative duration (%s)", durationWant)
	}
	units := map[string]int64{"ns": 1, "us": 1e3, "µs": 1e3, "μs": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9, "d": 24 * 3600e9}
	isNum := func(r rune) bool { return (r >= '0' && r <= '9') || r == '.' }
	total := new(big.Rat)
	for in != "" {
		n := strings.IndexFunc(in, func(r rune) bool { return !isNum(r) })
		if n < 0 {
			n = len(in)
		}
		num := in[:n]
		in = strings.TrimLeft(in[n:], " ")
		u := strings.IndexFunc(in, func(r rune) bool { return isNum(r) || r == ' ' })
		if u < 0 {
			u = len(in)
		}
		unit := in[:u]
		in = strings.TrimLeft(in[u:], " ")
		if unit == "" && num != "" {
			return 0, fmt.Errorf("missing unit (%s; units: ns, us, ms, s, m, h, d)", durationWant)
		}
		ns, ok := units[unit]
		r, okNum := new(big.Rat).SetString(num)
		if !ok || !okNum || num == "" || strings.Count(num, ".") > 1 {
			return 0, fmt.Errorf("invalid duration (%s)", durationWant)
		}
		total.Add(total, r.Mul(r, new(big.Rat).SetInt64(ns)))
	}
	whole := new(big.Int).Quo(total.Num(), total.Denom())
	if !whole.IsInt64() {
		return 0, errors.New("duration too long")
	}
	return time.Duration(whole.Int64()), nil
}

// parseRatio accepts N:D, N/D or a decimal (0.8 is 4:5), D > 0.
func parseRatio(s string) ([2]uint64, error) {
	const want = "want N:D, e.g. 8:10"
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "-") || strings.HasPrefix(t, "+") || strings.ContainsAny(t, "eE") {
		return [2]uint64{}, fmt.Errorf("invalid ratio (%s)", want)
	}
	for _, sep := range []string{":", "/"} {
		if a, b, ok := strings.Cut(t, sep); ok {
			n, err1 := strconv.ParseUint(strings.TrimSpace(a), 10, 64)
			d, err2 := strconv.ParseUint(strings.TrimSpace(b), 10, 64)
			if err1 != nil || err2 != nil || d == 0 {
				return [2]uint64{}, fmt.Errorf("invalid ratio (%s)", want)
			}
			return [2]uint64{n, d}, nil
		}
	}
	r, ok := new(big.Rat).SetString(t)
	if !ok || len(t) > 40 || !r.Num().IsUint64() || !r.Denom().IsUint64() {
		return [2]uint64{}, fmt.Errorf("invalid ratio (%s)", want)
	}
	return [2]uint64{r.Num().Uint64(), r.Denom().Uint64()}, nil
}

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
	opts := []orchestrator.Option{
		orchestrator.WithLogger(log),
		orchestrator.WithStartDelay(cfg.startDelay),
		orchestrator.WithNextViewTimeout(cfg.nextViewTimeout),
		orchestrator.WithViewSyncTimeout(cfg.viewSyncTimeout),
		orchestrator.WithBuilderTimeout(cfg.builderTimeout),
		orchestrator.WithTimeoutRatio(cfg.timeoutRatio[0], cfg.timeoutRatio[1]),
		orchestrator.WithStartThreshold(cfg.startThreshold[0], cfg.startThreshold[1]),
		orchestrator.WithRoundStartDelay(cfg.roundStartDelay),
		orchestrator.WithLibp2pMeshN(cfg.meshN),
		orchestrator.WithBuilderURLs(cfg.builderURLs...),
	}
	manual := "manual start disabled"
	if cfg.password != "" {
		opts = append(opts, orchestrator.WithManualStartPassword(cfg.password))
		manual = "manual start enabled"
	}
	o, err := orchestrator.New(cfg.numNodes, opts...)
	if err != nil {
		return fail(stderr, usageErrorf("%v", err))
	}
	srv, err := o.NewServer(api.WithAppVersion("gospresso orchestrator"))
	if err != nil {
		return fail(stderr, err)
	}
	ln, err := listen(cfg.port)
	if err != nil {
		return fail(stderr, fmt.Errorf("listen on port %d: %w", cfg.port, err))
	}
	fmt.Fprintf(stdout, "orchestrator: listening on %s; expecting %d nodes, start signal %v after %d of them (%d:%d) have registered; %s\n",
		ln.Addr(), cfg.numNodes, cfg.startDelay, o.StartThresholdNodes(), cfg.startThreshold[0], cfg.startThreshold[1], manual)

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
		fmt.Fprintf(stderr, "orchestrator: shutdown: %v: closed the connections still open after %v\n", err, shutdownTimeout)
	}
	fmt.Fprintln(stdout, "orchestrator: stopped")
	return exitOK
}

// fail prints err as one line and returns the exit status for it.
func fail(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "orchestrator: %s\n", strings.ReplaceAll(err.Error(), "\n", "; "))
	var u *usageError
	if errors.As(err, &u) {
		return exitUsage
	}
	return exitFailure
}
