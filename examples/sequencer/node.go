package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/gospresso/gospresso/api"
	"github.com/gospresso/gospresso/consensus"
	"github.com/gospresso/gospresso/examples/internal/apiopen"
	"github.com/gospresso/gospresso/examples/internal/options"
	"github.com/gospresso/gospresso/examples/internal/storeopen"
	"github.com/gospresso/gospresso/genesis"
	"github.com/gospresso/gospresso/keys"
	"github.com/gospresso/gospresso/l1/eth"
	"github.com/gospresso/gospresso/network/p2p"
	"github.com/gospresso/gospresso/node"
	"github.com/gospresso/gospresso/services/orchestrator"
	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/pruner"
)

// stopTimeout bounds a clean shutdown: the API, the run loop, the store.
const stopTimeout = 15 * time.Second

// newLogger builds the node's logger from the reference's logging options:
// RUST_LOG's default level (its first entry without "="), and the format.
func newLogger(o *options.LogOptions, w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	for part := range strings.SplitSeq(o.Filter, ",") {
		part = strings.TrimSpace(part)
		if part == "" || strings.Contains(part, "=") {
			continue
		}
		switch strings.ToLower(part) {
		case "trace", "debug":
			level = slog.LevelDebug
		case "warn", "warning":
			level = slog.LevelWarn
		case "error", "off":
			level = slog.LevelError
		}
		break
	}
	hopts := &slog.HandlerOptions{Level: level}
	if o.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, hopts))
	}
	return slog.New(slog.NewTextHandler(w, hopts))
}

// unused names, in one line, what the command line asks for that this node
// does not do (never silently ignored). needsL1 says whether the genesis
// needs an L1: without one, L1 options changed from their defaults are
// named too.
func unused(cfg *options.Config, needsL1 bool) string {
	g := &cfg.Global
	var out []string
	if g.CDNEndpoint != "" {
		out = append(out, "--cdn-endpoint "+g.CDNEndpoint+" (this node relays over libp2p only)")
	}
	out = append(out, unusedL1(&g.L1, needsL1)...)
	out = append(out, unusedCatchup(&g.Catchup, len(g.StatePeers) > 0)...)
	if len(g.ConfigPeers) > 0 {
		out = append(out, "--config-peers (the network config comes from the genesis file or the orchestrator)")
	}
	if len(out) == 0 {
		return ""
	}
	return "sequencer: not used by this node: " + strings.Join(out, "; ")
}

// consensusConfig is the command line's consensus parameters.
func consensusConfig(o *options.ConsensusOptions) consensus.Config {
	return consensus.Config{NextViewTimeout: o.NextViewTimeout, ViewSyncTimeout: o.ViewSyncTimeout, BuilderTimeout: o.BuilderTimeout}
}

// gossip maps the command line's gossipsub tunables onto the transport's.
func gossip(o *options.GossipOptions) p2p.GossipConfig {
	return p2p.GossipConfig{
		HeartbeatInterval: o.HeartbeatInterval, HistoryGossip: int(o.HistoryGossip), HistoryLength: int(o.HistoryLength),
		MeshN: int(o.MeshN), MeshNHigh: int(o.MeshNHigh), MeshNLow: int(o.MeshNLow), MeshOutboundMin: int(o.MeshOutboundMin),
		MaxIHaveLength: int(o.MaxIHaveLength), MaxIHaveMessages: int(o.MaxIHaveMessages),
		GossipRetransmission: int(o.GossipRetransmission), FloodPublish: o.FloodPublish, FanoutTTL: o.FanoutTTL,
		HeartbeatInitialDelay: o.HeartbeatInitialDelay, GossipFactor: o.GossipFactor, GossipLazy: int(o.GossipLazy),
		PublishedMessageIDsCacheTime: o.PublishedMessageIDsCacheTime, MaxIWantFollowupTime: o.MaxIWantFollowupTime,
		DuplicateCacheTime: o.DuplicateCacheTime, MaxMessagesPerRPC: int(o.MaxMessagesPerRPC),
	}
}

// runNode runs the node the configuration describes until ctx ends (a
// signal) or the node halts, then stops it cleanly, closing its store.
func runNode(ctx context.Context, cfg *options.Config, env func(string) (string, bool), plan *apiopen.Plan,
	gen *genesis.Genesis, k keys.Keys, stdout, stderr io.Writer) int {
	log := newLogger(&cfg.Global.Log, stderr)
	if line := unused(cfg, gen.NeedsL1()); line != "" {
		fmt.Fprintln(stdout, line)
	}
	g := &cfg.Global
	st, info, err := storeopen.Open(ctx, cfg, storeopen.WithEnv(env), storeopen.WithLogger(log))
	if err != nil {
		code := fail(stderr, err)
		if errors.Is(err, storage.ErrNotSupported) {
			code = exitUsage
		}
		return code
	}
	if info.Notice != "" {
		fmt.Fprintln(stdout, info.Notice)
	}
	fmt.Fprintf(stdout, "store: opened %s\n", info.Description)
	closeStore := true
	defer func() {
		if closeStore {
			_ = st.Close()
		}
	}()
	ccfg := consensusConfig(&g.Consensus)
	if len(gen.StakeTable) == 0 {
		if gen, ccfg, err = fromOrchestrator(ctx, cfg, gen, k, log); err != nil {
			return fail(stderr, err)
		}
	}
	var l1c *eth.Client
	if gen.NeedsL1() {
		if l1c, err = dialL1(ctx, &g.L1, log, stdout); err != nil {
			return fail(stderr, err)
		}
		defer l1c.Close() // after the node stopped
	}

	members := make([]keys.StakingPubKey, len(gen.StakeTable))
	var bootstrap []string
	for i, e := range gen.StakeTable {
		members[i] = e.StakingKey
		if e.Libp2pAddress != "" {
			bootstrap = append(bootstrap, e.Libp2pAddress)
		}
	}
	bootstrap = append(bootstrap, gen.BootstrapNodes...)
	if len(g.Libp2pBootstrapNodes) > 0 {
		bootstrap = bootstrap[:0]
		for _, m := range g.Libp2pBootstrapNodes {
			bootstrap = append(bootstrap, m.String())
		}
	}
	tr, err := p2p.New(ctx, p2p.Config{
		Key: k.Staking, Genesis: gen.Commitment(), ChainID: gen.ChainConfig.ChainID.String(), Members: members,
		BindAddress: g.Libp2pBindAddress, AdvertiseAddress: g.Libp2pAdvertiseAddress, Bootstrap: bootstrap,
		Gossip: gossip(&g.Gossip), MaxGossipSize: int(g.Gossip.MaxGossipTransmitSize), MaxDirectSize: int(g.Gossip.MaxDirectTransmitSize),
		Logger: log,
	})
	if err != nil {
		return fail(stderr, fmt.Errorf("libp2p: %w", err))
	}
	fmt.Fprintf(stdout, "libp2p: listening on %s\n", strings.Join(tr.Addrs(), ", "))

	opts := []node.Option{node.WithStorage(st), node.WithNetwork(tr), node.WithLogger(log), node.WithConsensusConfig(ccfg)}
	if plan.Addr != "" {
		opts = append(opts, node.WithAPI(plan.Addr, plan.Modules, plan.ServerOptions...))
	}
	if plan.StateRelayURL != "" {
		opts = append(opts, node.WithStateRelay(plan.StateRelayURL))
	}
	if l1c != nil {
		opts = append(opts, node.WithL1(l1c, trackerOptions(&g.L1)...))
	}
	if len(g.StatePeers) > 0 {
		src, err := stateSource(g.StatePeers, g.Catchup, log)
		if err != nil {
			_ = tr.Close()
			return fail(stderr, err)
		}
		opts = append(opts, node.WithStateCatchup(src))
	}
	n, err := node.New(gen, k, opts...)
	if err != nil {
		_ = tr.Close()
		return fail(stderr, err)
	}
	closeStore = false // the node owns the store and the transport now
	stop := func() int {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
		defer cancel()
		if err := n.Stop(sctx); err != nil {
			return fail(stderr, fmt.Errorf("stop: %w", err))
		}
		fmt.Fprintln(stdout, "sequencer: stopped; store closed")
		return exitOK
	}
	if err := n.Start(ctx); err != nil {
		stop()
		return fail(stderr, err)
	}
	if a := n.APIAddr(); a != nil {
		fmt.Fprintf(stdout, "api: serving on http://%s\n", a)
	}
	events, err := serveEvents(plan, n, log)
	if err != nil {
		stop()
		return fail(stderr, err)
	}
	if info.Prune != nil {
		p, err := pruner.New(st, *info.Prune, pruner.WithLogger(log))
		if err != nil {
			stop()
			return fail(stderr, err)
		}
		pctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() { _ = p.Run(pctx) }()
	}
	fmt.Fprintf(stdout, "sequencer: running (node %s); Ctrl-C to stop\n", k.Staking.PubKey())

	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			if events != nil {
				sctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
				_ = events.Shutdown(sctx)
				cancel()
			}
			return stop()
		case <-ticker.C:
			if err := n.Err(); err != nil {
				fmt.Fprintf(stderr, "sequencer: the node halted: %v\n", err)
				stop()
				return exitFailure
			}
		}
	}
}

// serveEvents serves the hotshot-events module on its own port, when the
// command line asks for it.
func serveEvents(plan *apiopen.Plan, n *node.Node, log *slog.Logger) (*api.Server, error) {
	if plan.EventsAddr == "" {
		return nil, nil
	}
	srv, err := api.New(n.APIBackend(), plan.EventsModules, api.WithLogger(log))
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", plan.EventsAddr)
	if err != nil {
		return nil, fmt.Errorf("hotshot-events: %w", err)
	}
	go func() { _ = srv.Serve(ln) }()
	log.Info("serving hotshot-events", "addr", ln.Addr().String())
	return srv, nil
}

// fromOrchestrator registers this node with the orchestrator, waits for
// the start signal and returns the genesis completed with the stake table
// the orchestrator fixed, and its consensus parameters (which win over the
// command line's when an orchestrator is used).
func fromOrchestrator(ctx context.Context, cfg *options.Config, gen *genesis.Genesis, k keys.Keys, log *slog.Logger) (*genesis.Genesis, consensus.Config, error) {
	g := &cfg.Global
	if g.OrchestratorURL == nil {
		return nil, consensus.Config{}, errors.New("the genesis file has no [[public_keys]] and no --orchestrator-url is given: the stake table comes from one of them")
	}
	c, err := orchestrator.NewClient(g.OrchestratorURL.String(), orchestrator.WithClientLogger(log))
	if err != nil {
		return nil, consensus.Config{}, err
	}
	defer c.CloseIdleConnections()
	id, err := p2p.PeerID(k.Staking)
	if err != nil {
		return nil, consensus.Config{}, err
	}
	addr, err := p2p.Multiaddr(g.Libp2pAdvertiseAddress, id)
	if err != nil {
		return nil, consensus.Config{}, fmt.Errorf("--libp2p-advertise-address: %w", err)
	}
	reg, err := orchestrator.NewRegistration(k, g.IsDA, addr)
	if err != nil {
		return nil, consensus.Config{}, err
	}
	index, err := c.Register(ctx, reg)
	if err != nil {
		return nil, consensus.Config{}, fmt.Errorf("orchestrator %s: register: %w", c.BaseURL(), err)
	}
	log.Info("registered with the orchestrator; waiting for the start signal", "index", index, "orchestrator", c.BaseURL())
	nc, err := c.WaitForStart(ctx, time.Second)
	if err != nil {
		return nil, consensus.Config{}, fmt.Errorf("orchestrator %s: %w", c.BaseURL(), err)
	}
	full, err := nc.Genesis(gen)
	if err != nil {
		return nil, consensus.Config{}, fmt.Errorf("orchestrator %s: network config: %w", c.BaseURL(), err)
	}
	return full, nc.ConsensusConfig(), nil
}
