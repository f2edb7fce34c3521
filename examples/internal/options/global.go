package options

import (
	"math"
	"math/big"
	"net/url"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/multiformats/go-multiaddr"
)

// Global holds the global options (docs/operator.md, "Global options"),
// including the consensus parameters and the consensus-storage retention
// options (docs/storage.md, "Consensus storage retention"). After [Parse]
// every field holds its effective value: flag, else environment, else the
// default. Optional values with no default are zero (nil, "" or 0) and say so
// in their comment.
type Global struct {
	// OrchestratorURL is where the stake table and network config come from.
	OrchestratorURL *url.URL
	// CDNEndpoint is the CDN marshal entry point, host:port.
	CDNEndpoint string
	// Libp2pBindAddress is the libp2p listen address, host:port (UDP, QUIC).
	Libp2pBindAddress string
	// Libp2pAdvertiseAddress is the address advertised to peers, host:port.
	Libp2pAdvertiseAddress string
	// Libp2pBootstrapNodes overrides orchestrator-provided and persisted
	// bootstrap peers; each ends in /p2p/<peer id>. Nil when not given.
	Libp2pBootstrapNodes []multiaddr.Multiaddr
	// PublicAPIURL is this node's public HTTP URL; nil when not given.
	PublicAPIURL *url.URL
	// StateRelayServerURL is where state signatures are POSTed.
	StateRelayServerURL *url.URL
	// IsDA registers the node for the DA committee.
	IsDA bool
	// StatePeers are peer API URLs for state catchup.
	StatePeers []*url.URL
	// ConfigPeers are peers to fetch the network config from.
	ConfigPeers []*url.URL

	// GenesisFile is the genesis TOML path.
	GenesisFile string
	// KeyFile is the .env key file path; "" when not given.
	KeyFile string
	// PrivateStakingKey is a BLS_SIGNING_KEY~… given directly; "" when not given.
	PrivateStakingKey Secret
	// PrivateStateKey is a SCHNORR_SIGNING_KEY~… given directly; "" when not given.
	PrivateStateKey Secret

	// L1 holds the L1 client options (docs/operator.md, "L1").
	L1 L1Options
	// Catchup holds the catchup backoff and proposal fetcher options.
	Catchup CatchupOptions
	// Consensus holds the consensus timing parameters (docs/operator.md,
	// "Consensus").
	Consensus ConsensusOptions
	// ConsensusStorage holds the consensus-storage retention options
	// (docs/storage.md, "Consensus storage retention").
	ConsensusStorage ConsensusStorageOptions
	// Identity holds the node validator dashboard identity.
	Identity Identity
	// Marketplace holds the marketplace (protocol 0.99) options: parsed and
	// stored, unused until 0.99 is implemented.
	Marketplace MarketplaceOptions
	// Gossip holds the libp2p gossipsub tunables.
	Gossip GossipOptions
	// Log holds the logging options.
	Log LogOptions
}

// L1Options configures the L1 client (docs/operator.md, "L1").
type L1Options struct {
	// ProviderURLs are JSON-RPC URLs in failover order.
	ProviderURLs []*url.URL
	// WSProviderURLs are WebSocket URLs for head subscriptions; nil = poll.
	WSProviderURLs []*url.URL
	// EventsMaxBlockRange is the most blocks per eth_getLogs call.
	EventsMaxBlockRange uint64
	// RetryDelay is the delay between failed L1 requests.
	RetryDelay time.Duration
	// PollingInterval is the HTTP polling period for new L1 blocks.
	PollingInterval time.Duration
	// BlocksCacheSize is the number of cached L1 block infos.
	BlocksCacheSize uint64
	// EventsChannelCapacity is the internal L1 event buffer size.
	EventsChannelCapacity uint64
	// SubscriptionTimeout reconnects a silent WebSocket stream.
	SubscriptionTimeout time.Duration
	// FrequentFailureTolerance fails over when failures recur within it.
	FrequentFailureTolerance time.Duration
	// ConsecutiveFailureTolerance fails over after this many failures in a row.
	ConsecutiveFailureTolerance uint64
	// RateLimitDelay is an extra delay after a rate-limit reply; 0 = none.
	RateLimitDelay time.Duration
}

// CatchupOptions configures state catchup retries and the proposal fetcher.
type CatchupOptions struct {
	// BackoffDisable turns off exponential backoff.
	BackoffDisable bool
	// BaseRetryDelay is the first retry delay.
	BaseRetryDelay time.Duration
	// MaxRetryDelay caps the backoff.
	MaxRetryDelay time.Duration
	// BackoffFactor multiplies the delay after each failure.
	BackoffFactor uint64
	// BackoffJitter is the jitter fraction (at most 1).
	BackoffJitter Ratio
	// ProposalFetcherNumWorkers is the number of workers fetching missing proposals.
	ProposalFetcherNumWorkers uint64
	// ProposalFetcherFetchTimeout bounds one proposal fetch.
	ProposalFetcherFetchTimeout time.Duration
}

// ConsensusOptions are the consensus timing parameters (docs/operator.md,
// "Consensus"; orchestrator-supplied values win when an orchestrator is used).
type ConsensusOptions struct {
	// NextViewTimeout is the base view timeout.
	NextViewTimeout time.Duration
	// ViewSyncTimeout is the per-attempt view-sync timeout.
	ViewSyncTimeout time.Duration
	// BuilderTimeout is how long a leader waits for transactions.
	BuilderTimeout time.Duration
}

// ConsensusStorageOptions are the consensus-storage retention options
// (docs/storage.md, "Consensus storage retention").
type ConsensusStorageOptions struct {
	// TargetRetention is the number of views to keep undecided data.
	TargetRetention uint64
	// MinimumRetention is the number of views kept when over TargetUsage.
	MinimumRetention uint64
	// TargetUsage is the consensus storage size, in bytes, above which
	// MinimumRetention applies.
	TargetUsage uint64
}

// Identity is what the node validator dashboard shows about this node.
type Identity struct {
	NodeName        string   // display name; "" when not given
	CompanyName     string   // operator organisation; "" when not given
	CompanyWebsite  *url.URL // operator homepage; nil when not given
	OperatingSystem string   // defaults to runtime.GOOS
	NodeType        string   // defaults to "espresso-sequencer gospresso-<version>"
	NetworkType     string   // Residential, Hosted, AWS, GCP, Azure, ...; "" when not given
	CountryCode     string   // ISO 3166 alpha-2, upper case; "" when not given
	Latitude        *float64 // only together with Longitude; nil when not given
	Longitude       *float64 // only together with Latitude; nil when not given
}

// MarketplaceOptions are the marketplace (protocol 0.99) options.
type MarketplaceOptions struct {
	AuctionResultsSolverURL *url.URL // ESPRESSO_AUCTION_RESULTS_SOLVER_URL
	MarketplaceSolverPath   string   // ESPRESSO_MARKETPLACE_SOLVER_PATH
	AuctionResultsPath      string   // ESPRESSO_AUCTION_RESULTS_PATH
	FallbackBuilderURL      *url.URL // ESPRESSO_FALLBACK_BUILDER_URL
}

// GossipOptions are the libp2p gossipsub tunables. Each field is read from
// ESPRESSO_SEQUENCER_LIBP2P_<FIELD IN UPPER SNAKE CASE> (e.g. MeshNHigh from
// ..._MESH_N_HIGH) and --libp2p-<field in kebab case>; see GlobalHelp for
// each one's meaning and default. gospresso's own gossip layer may map them;
// they are always accepted.
type GossipOptions struct {
	HeartbeatInterval            time.Duration
	HistoryGossip                uint64
	HistoryLength                uint64
	MeshN                        uint64
	MeshNHigh                    uint64
	MeshNLow                     uint64
	MeshOutboundMin              uint64
	MaxIHaveLength               uint64
	MaxIHaveMessages             uint64
	PublishedMessageIDsCacheTime time.Duration
	MaxIWantFollowupTime         time.Duration
	GossipRetransmission         uint64
	FloodPublish                 bool
	DuplicateCacheTime           time.Duration
	FanoutTTL                    time.Duration
	HeartbeatInitialDelay        time.Duration
	GossipFactor                 float64
	GossipLazy                   uint64
	MaxGossipTransmitSize        uint64 // bytes
	MaxDirectTransmitSize        uint64 // bytes
	MaxMessagesPerRPC            uint64 // 0 = no limit
}

// LogOptions are the logging options, read under the reference's names.
type LogOptions struct {
	// Filter is the RUST_LOG filter (e.g. "info", "warn,gospresso=debug").
	Filter string
	// Format is "full", "compact" or "json".
	Format string
}

// Option groups, in help order.
const (
	groupNetwork     = "Network"
	groupKeys        = "Genesis and keys (either --key-file, or both private keys)"
	groupL1          = "L1"
	groupCatchup     = "Catchup"
	groupConsensus   = "Consensus"
	groupRetention   = "Consensus storage retention"
	groupIdentity    = "Node identity (node validator dashboard)"
	groupMarketplace = "Marketplace (protocol 0.99; parsed and stored, unused before 0.99)"
	groupGossip      = "libp2p gossipsub tuning"
	groupLog         = "Logging"
)

const maxU64 = math.MaxUint64

// URL schemes accepted by the URL options.
func httpSchemes() []string { return []string{"http", "https"} }
func wsSchemes() []string   { return []string{"ws", "wss"} }

// defaultNodeType keeps the reference's "<binary> <version>" pattern with
// gospresso's own version (the main module version, or "devel").
func defaultNodeType() string {
	v := "devel"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	return "espresso-sequencer gospresso-" + v
}

// globalOptions is the table of global options, bound to g.
func globalOptions(g *Global) []*option {
	l1, cu, cs, rt, id, mk, gs := &g.L1, &g.Catchup, &g.Consensus, &g.ConsensusStorage, &g.Identity, &g.Marketplace, &g.Gossip
	const sq = "ESPRESSO_SEQUENCER_"
	gossip := func(flag, env, def, help string, v value) *option {
		return &option{flag: "libp2p-" + flag, env: []string{sq + "LIBP2P_" + env}, def: def, help: help, group: groupGossip, val: v}
	}
	return []*option{
		{flag: "orchestrator-url", env: []string{sq + "ORCHESTRATOR_URL"}, def: "http://localhost:8080", group: groupNetwork,
			help: "URL of the orchestrator (stake table and network config source)", val: urlVar(&g.OrchestratorURL, httpSchemes()...)},
		{flag: "cdn-endpoint", env: []string{sq + "CDN_ENDPOINT"}, def: "127.0.0.1:8081", group: groupNetwork,
			help: "CDN marshal entry point, host:port", val: hostPortVar(&g.CDNEndpoint)},
		{flag: "libp2p-bind-address", env: []string{sq + "LIBP2P_BIND_ADDRESS"}, def: "0.0.0.0:1769", group: groupNetwork,
			help: "libp2p listen address, host:port (a UDP port: QUIC)", val: hostPortVar(&g.Libp2pBindAddress)},
		{flag: "libp2p-advertise-address", env: []string{sq + "LIBP2P_ADVERTISE_ADDRESS"}, def: "localhost:1769", group: groupNetwork,
			help: "libp2p address advertised to peers, host:port (UDP)", val: hostPortVar(&g.Libp2pAdvertiseAddress)},
		{flag: "libp2p-bootstrap-nodes", env: []string{sq + "LIBP2P_BOOTSTRAP_NODES"}, group: groupNetwork,
			help: "comma list of bootstrap peer multiaddrs ending in /p2p/<peer id>; overrides orchestrator and persisted values",
			val:  multiaddrListVar(&g.Libp2pBootstrapNodes)},
		{flag: "public-api-url", env: []string{sq + "PUBLIC_API_URL"}, group: groupNetwork,
			help: "this node's public HTTP URL, advertised to peers", val: urlVar(&g.PublicAPIURL, httpSchemes()...)},
		{flag: "state-relay-server-url", env: []string{"ESPRESSO_STATE_RELAY_SERVER_URL"}, def: "http://localhost:8083", group: groupNetwork,
			help: "state relay server that state signatures are POSTed to", val: urlVar(&g.StateRelayServerURL, httpSchemes()...)},
		{flag: "is-da", env: []string{sq + "IS_DA"}, def: "false", group: groupNetwork,
			help: "register for and take part in the DA committee", val: boolVar(&g.IsDA)},
		{flag: "state-peers", env: []string{sq + "STATE_PEERS"}, group: groupNetwork,
			help: "comma list of peer API URLs for state catchup", val: urlListVar(&g.StatePeers, httpSchemes()...)},
		{flag: "config-peers", env: []string{sq + "CONFIG_PEERS"}, group: groupNetwork,
			help: "comma list of peer API URLs to fetch the network config from when none is stored", val: urlListVar(&g.ConfigPeers, httpSchemes()...)},

		{flag: "genesis-file", env: []string{sq + "GENESIS_FILE"}, def: "/genesis/demo.toml", group: groupKeys,
			help: "genesis TOML file", val: pathVar(&g.GenesisFile)},
		{flag: "key-file", env: []string{sq + "KEY_FILE"}, group: groupKeys,
			help: ".env file with the private keys (conflicts with the direct private keys)", val: pathVar(&g.KeyFile)},
		{flag: "private-staking-key", env: []string{sq + "PRIVATE_STAKING_KEY"}, group: groupKeys,
			help: "private staking key BLS_SIGNING_KEY~...; needs --private-state-key too", val: secretVar(&g.PrivateStakingKey)},
		{flag: "private-state-key", env: []string{sq + "PRIVATE_STATE_KEY"}, group: groupKeys,
			help: "private state key SCHNORR_SIGNING_KEY~...; needs --private-staking-key too", val: secretVar(&g.PrivateStateKey)},

		{flag: "l1-provider-url", env: []string{sq + "L1_PROVIDER"}, def: "http://localhost:8545", group: groupL1,
			help: "L1 JSON-RPC URL; a comma list is a failover order", val: urlListVar(&l1.ProviderURLs, httpSchemes()...)},
		{flag: "l1-ws-provider", env: []string{sq + "L1_WS_PROVIDER"}, group: groupL1,
			help: "comma list of L1 WebSocket URLs for head subscriptions (none: poll over HTTP)", val: urlListVar(&l1.WSProviderURLs, wsSchemes()...)},
		{flag: "l1-events-max-block-range", env: []string{sq + "L1_EVENTS_MAX_BLOCK_RANGE"}, def: "10000", group: groupL1,
			help: "most blocks per eth_getLogs call", val: uintVar(&l1.EventsMaxBlockRange, 1, maxU64)},
		{flag: "l1-retry-delay", env: []string{sq + "L1_RETRY_DELAY"}, def: "1s", group: groupL1,
			help: "delay between failed L1 requests", val: durationVar(&l1.RetryDelay)},
		{flag: "l1-polling-interval", env: []string{sq + "L1_POLLING_INTERVAL"}, def: "7s", group: groupL1,
			help: "HTTP polling period for new L1 blocks", val: durationVar(&l1.PollingInterval)},
		{flag: "l1-blocks-cache-size", env: []string{sq + "L1_BLOCKS_CACHE_SIZE"}, def: "100", group: groupL1,
			help: "number of cached L1 block infos", val: uintVar(&l1.BlocksCacheSize, 1, maxU64)},
		{flag: "l1-events-channel-capacity", env: []string{sq + "L1_EVENTS_CHANNEL_CAPACITY"}, def: "100", group: groupL1,
			help: "internal L1 event buffer size", val: uintVar(&l1.EventsChannelCapacity, 1, maxU64)},
		{flag: "l1-subscription-timeout", env: []string{sq + "L1_SUBSCRIPTION_TIMEOUT"}, def: "1m", group: groupL1,
			help: "reconnect the WebSocket stream after this long without a block", val: durationVar(&l1.SubscriptionTimeout)},
		{flag: "l1-frequent-failure-tolerance", env: []string{sq + "L1_FREQUENT_FAILURE_TOLERANCE"}, def: "1m", group: groupL1,
			help: "fail over to the next provider when failures recur within this window", val: durationVar(&l1.FrequentFailureTolerance)},
		{flag: "l1-consecutive-failure-tolerance", env: []string{sq + "L1_CONSECUTIVE_FAILURE_TOLERANCE"}, def: "10", group: groupL1,
			help: "fail over to the next provider after this many consecutive failures", val: uintVar(&l1.ConsecutiveFailureTolerance, 1, maxU64)},
		{flag: "l1-rate-limit-delay", env: []string{sq + "L1_RATE_LIMIT_DELAY"}, group: groupL1,
			help: "extra delay after a rate-limit reply", val: durationVar(&l1.RateLimitDelay)},

		{flag: "catchup-backoff-disable", env: []string{sq + "CATCHUP_BACKOFF_DISABLE"}, def: "false", group: groupCatchup,
			help: "disable exponential backoff between catchup retries", val: boolVar(&cu.BackoffDisable)},
		{flag: "catchup-base-retry-delay", env: []string{sq + "CATCHUP_BASE_RETRY_DELAY"}, def: "500ms", group: groupCatchup,
			help: "first catchup retry delay", val: durationVar(&cu.BaseRetryDelay)},
		{flag: "catchup-max-retry-delay", env: []string{sq + "CATCHUP_MAX_RETRY_DELAY"}, def: "5s", group: groupCatchup,
			help: "largest catchup retry delay", val: durationVar(&cu.MaxRetryDelay)},
		{flag: "catchup-backoff-factor", env: []string{sq + "CATCHUP_BACKOFF_FACTOR"}, def: "2", group: groupCatchup,
			help: "backoff multiplier", val: uintVar(&cu.BackoffFactor, 1, math.MaxUint32)},
		{flag: "catchup-backoff-jitter", env: []string{sq + "CATCHUP_BACKOFF_JITTER"}, def: "1:10", group: groupCatchup,
			help: "backoff jitter fraction, N:D (or a decimal such as 0.1), at most 1", val: ratioVar(&cu.BackoffJitter, big.NewRat(1, 1))},
		{flag: "proposal-fetcher-num-workers", env: []string{sq + "PROPOSAL_FETCHER_NUM_WORKERS"}, def: "2", group: groupCatchup,
			help: "workers fetching missing proposals (default unverified)", val: uintVar(&cu.ProposalFetcherNumWorkers, 1, 1<<16)},
		{flag: "proposal-fetcher-fetch-timeout", env: []string{sq + "PROPOSAL_FETCHER_FETCH_TIMEOUT"}, def: "2s", group: groupCatchup,
			help: "timeout of one proposal fetch (default unverified)", val: durationVar(&cu.ProposalFetcherFetchTimeout)},

		{flag: "next-view-timeout", env: []string{sq + "NEXT_VIEW_TIMEOUT"}, def: "12s", group: groupConsensus,
			help: "base view timeout (an orchestrator-supplied value wins)", val: durationVar(&cs.NextViewTimeout)},
		{flag: "view-sync-timeout", env: []string{sq + "VIEW_SYNC_TIMEOUT"}, def: "2s", group: groupConsensus,
			help: "view-sync attempt timeout (an orchestrator-supplied value wins)", val: durationVar(&cs.ViewSyncTimeout)},
		{flag: "builder-timeout", env: []string{sq + "BUILDER_TIMEOUT"}, def: "1s", group: groupConsensus,
			help: "how long a leader waits for transactions before proposing an empty block", val: durationVar(&cs.BuilderTimeout)},

		{flag: "consensus-storage-target-retention", env: []string{sq + "CONSENSUS_STORAGE_TARGET_RETENTION"}, def: "302000", group: groupRetention,
			help: "views of undecided consensus data to keep (~1 week at 2 s/view)", val: uintVar(&rt.TargetRetention, 0, maxU64)},
		{flag: "consensus-storage-minimum-retention", env: []string{sq + "CONSENSUS_STORAGE_MINIMUM_RETENTION"}, def: "130000", group: groupRetention,
			help: "views kept when consensus storage exceeds the target usage (~3 days)", val: uintVar(&rt.MinimumRetention, 0, maxU64)},
		{flag: "consensus-storage-target-usage", env: []string{sq + "CONSENSUS_STORAGE_TARGET_USAGE"}, def: "1000000000", group: groupRetention,
			help: "consensus storage size above which only the minimum retention is kept (size, e.g. 1 GB)", val: sizeVar(&rt.TargetUsage)},

		{flag: "node-name", env: []string{sq + "IDENTITY_NODE_NAME"}, group: groupIdentity,
			help: "display name, e.g. espresso-sequencer-01", val: stringVar(&id.NodeName)},
		{flag: "company-name", env: []string{sq + "IDENTITY_COMPANY_NAME"}, group: groupIdentity,
			help: "operator organisation, e.g. Espresso Systems", val: stringVar(&id.CompanyName)},
		{flag: "company-website", env: []string{sq + "IDENTITY_COMPANY_WEBSITE"}, group: groupIdentity,
			help: "operator homepage URL, e.g. https://www.espressosys.com", val: urlVar(&id.CompanyWebsite, httpSchemes()...)},
		{flag: "operating-system", env: []string{sq + "IDENTITY_OPERATING_SYSTEM"}, def: runtime.GOOS, group: groupIdentity,
			help: "operating system and version, e.g. the output of `uname -sr`", val: stringVar(&id.OperatingSystem)},
		{flag: "node-type", env: []string{sq + "IDENTITY_NODE_TYPE"}, def: defaultNodeType(), group: groupIdentity,
			help: "binary name and version", val: stringVar(&id.NodeType)},
		{flag: "network-type", env: []string{sq + "IDENTITY_NETWORK_TYPE"}, group: groupIdentity,
			help: "Residential, Hosted, AWS, GCP, Azure or Cloud Provider, optionally with a zone (AWS us-west-2)", val: stringVar(&id.NetworkType)},
		{flag: "country-code", env: []string{sq + "IDENTITY_COUNTRY_CODE"}, group: groupIdentity,
			help: "ISO 3166 alpha-2 country code, e.g. US", val: countryCodeVar(&id.CountryCode)},
		{flag: "latitude", env: []string{sq + "IDENTITY_LATITUDE"}, group: groupIdentity,
			help: "approximate latitude in decimal degrees; only together with --longitude", val: optFloatVar(&id.Latitude, -90, 90)},
		{flag: "longitude", env: []string{sq + "IDENTITY_LONGITUDE"}, group: groupIdentity,
			help: "approximate longitude in decimal degrees; only together with --latitude", val: optFloatVar(&id.Longitude, -180, 180)},

		{flag: "auction-results-solver-url", env: []string{"ESPRESSO_AUCTION_RESULTS_SOLVER_URL"}, def: "http://localhost:25000", group: groupMarketplace,
			help: "auction results solver URL", val: urlVar(&mk.AuctionResultsSolverURL, httpSchemes()...)},
		{flag: "marketplace-solver-path", env: []string{"ESPRESSO_MARKETPLACE_SOLVER_PATH"}, def: "marketplace-solver/", group: groupMarketplace,
			help: "solver API path prefix", val: stringVar(&mk.MarketplaceSolverPath)},
		{flag: "auction-results-path", env: []string{"ESPRESSO_AUCTION_RESULTS_PATH"}, def: "auction_results/", group: groupMarketplace,
			help: "auction results API path", val: stringVar(&mk.AuctionResultsPath)},
		{flag: "fallback-builder-url", env: []string{"ESPRESSO_FALLBACK_BUILDER_URL"}, def: "http://localhost:31004", group: groupMarketplace,
			help: "fallback builder URL", val: urlVar(&mk.FallbackBuilderURL, httpSchemes()...)},

		gossip("heartbeat-interval", "HEARTBEAT_INTERVAL", "1s", "gossipsub heartbeat interval", durationVar(&gs.HeartbeatInterval)),
		gossip("history-gossip", "HISTORY_GOSSIP", "3", "heartbeats of message IDs gossiped", uintVar(&gs.HistoryGossip, 0, maxU64)),
		gossip("history-length", "HISTORY_LENGTH", "5", "heartbeats of messages kept in the cache", uintVar(&gs.HistoryLength, 0, maxU64)),
		gossip("mesh-n", "MESH_N", "8", "target mesh degree", uintVar(&gs.MeshN, 1, maxU64)),
		gossip("mesh-n-high", "MESH_N_HIGH", "12", "upper mesh degree bound", uintVar(&gs.MeshNHigh, 1, maxU64)),
		gossip("mesh-n-low", "MESH_N_LOW", "6", "lower mesh degree bound", uintVar(&gs.MeshNLow, 1, maxU64)),
		gossip("mesh-outbound-min", "MESH_OUTBOUND_MIN", "2", "minimum outbound peers in the mesh", uintVar(&gs.MeshOutboundMin, 0, maxU64)),
		gossip("max-ihave-length", "MAX_IHAVE_LENGTH", "5000", "most message IDs per IHAVE", uintVar(&gs.MaxIHaveLength, 0, maxU64)),
		gossip("max-ihave-messages", "MAX_IHAVE_MESSAGES", "10", "most IHAVE messages accepted per heartbeat", uintVar(&gs.MaxIHaveMessages, 0, maxU64)),
		gossip("published-message-ids-cache-time", "PUBLISHED_MESSAGE_IDS_CACHE_TIME", "10s", "how long published message IDs are remembered",
			durationVar(&gs.PublishedMessageIDsCacheTime)),
		gossip("max-iwant-followup-time", "MAX_IWANT_FOLLOWUP_TIME", "3s", "how long to wait for a message after an IWANT", durationVar(&gs.MaxIWantFollowupTime)),
		gossip("gossip-retransmission", "GOSSIP_RETRANSMISSION", "3", "most IWANT replies per message and peer", uintVar(&gs.GossipRetransmission, 0, maxU64)),
		gossip("flood-publish", "FLOOD_PUBLISH", "true", "publish own messages to all peers (use --libp2p-flood-publish=false to turn off)", boolVar(&gs.FloodPublish)),
		gossip("duplicate-cache-time", "DUPLICATE_CACHE_TIME", "20m", "how long seen message IDs are remembered", durationVar(&gs.DuplicateCacheTime)),
		gossip("fanout-ttl", "FANOUT_TTL", "60s", "lifetime of fanout peers of topics not subscribed to", durationVar(&gs.FanoutTTL)),
		gossip("heartbeat-initial-delay", "HEARTBEAT_INITIAL_DELAY", "5s", "delay before the first heartbeat", durationVar(&gs.HeartbeatInitialDelay)),
		gossip("gossip-factor", "GOSSIP_FACTOR", "0.25", "fraction of peers to gossip to, 0..1", floatVar(&gs.GossipFactor, 0, 1)),
		gossip("gossip-lazy", "GOSSIP_LAZY", "6", "minimum peers to gossip to", uintVar(&gs.GossipLazy, 0, maxU64)),
		gossip("max-gossip-transmit-size", "MAX_GOSSIP_TRANSMIT_SIZE", "2000000", "largest gossiped message (size, e.g. 2 MB)", sizeVar(&gs.MaxGossipTransmitSize)),
		gossip("max-direct-transmit-size", "MAX_DIRECT_TRANSMIT_SIZE", "20000000", "largest direct message (size, e.g. 20 MB)", sizeVar(&gs.MaxDirectTransmitSize)),
		gossip("max-messages-per-rpc", "MAX_MESSAGES_PER_RPC", "", "most messages per RPC (none: no limit)", uintVar(&gs.MaxMessagesPerRPC, 1, maxU64)),

		{env: []string{"RUST_LOG"}, def: "info", group: groupLog,
			help: "log filter, e.g. info or warn,gospresso=debug (default unverified)", val: stringVar(&g.Log.Filter)},
		{env: []string{"RUST_LOG_FORMAT"}, def: "full", group: groupLog,
			help: "log format", val: enumVar(&g.Log.Format, "full", "compact", "json")},
	}
}
