package options

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gospresso/gospresso/storage/postgres"
)

// Module names (canonical). "storage" is accepted as an alias of
// [ModuleStorageFS].
const (
	ModuleHTTP          = "http"
	ModuleQuery         = "query"
	ModuleSubmit        = "submit"
	ModuleStatus        = "status"
	ModuleCatchup       = "catchup"
	ModuleConfig        = "config"
	ModuleExplorer      = "explorer"
	ModuleHotShotEvents = "hotshot-events"
	ModuleStorageFS     = "storage-fs"
	ModuleStorageSQL    = "storage-sql"
)

// HTTPModule is the `http` module: the HTTP server with /healthcheck and
// /version that the API modules extend.
type HTTPModule struct {
	// Port is the API port.
	Port uint16
	// MaxConnections limits concurrent connections (excess ones get HTTP
	// 429); 0 = not given: the API server's default bound
	// (api.DefaultMaxConnections, 1024).
	MaxConnections uint64
}

// QueryModule is the `query` module: the query service.
type QueryModule struct {
	// Peers are peer query service URLs to fetch missing data from.
	Peers []*url.URL
}

// SubmitModule is the `submit` module (no options).
type SubmitModule struct{}

// StatusModule is the `status` module (no options).
type StatusModule struct{}

// CatchupModule is the `catchup` module (no options).
type CatchupModule struct{}

// ConfigModule is the `config` module (no options).
type ConfigModule struct{}

// ExplorerModule is the `explorer` module (no options; needs storage-sql).
type ExplorerModule struct{}

// HotShotEventsModule is the `hotshot-events` module: a separate HTTP server
// streaming consensus events.
type HotShotEventsModule struct {
	// EventsServicePort is that server's port (required).
	EventsServicePort uint16
}

// StorageFSModule is the `storage-fs` module (alias `storage`): file-system
// consensus and query storage (docs/storage.md, "File-system storage").
type StorageFSModule struct {
	// Path is the storage directory.
	Path string
	// ConsensusViewRetention is the number of views of consensus data kept.
	ConsensusViewRetention uint64
	// StoreUndecidedState keeps undecided state on disk (hidden option).
	StoreUndecidedState bool
}

// Storage backends of the storage-sql module.
const (
	BackendPostgres = "postgres"
	BackendSQLite   = "sqlite"
)

// StorageSQLModule is the `storage-sql` module: Postgres or SQLite
// consensus and query storage (docs/storage.md, "The storage-sql module").
// After [Parse], Host, Port,
// Database, User and Password are the effective Postgres settings: a flag or
// environment variable beats the URI, which beats the default.
type StorageSQLModule struct {
	// URI is the connection URI (positional or --uri); "" when not given.
	URI string
	// Params are the query parameters of a Postgres URI (e.g. sslmode).
	Params url.Values
	// Host, Port, Database, User and Password locate the Postgres server.
	Host     string
	Port     uint16
	Database string
	User     string
	Password Secret
	// UseTLS connects to Postgres over TLS (only through this option).
	UseTLS bool
	// Path is the storage directory; the SQLite default lives below it.
	Path string
	// SQLitePath is the SQLite database file when Backend() is "sqlite".
	SQLitePath string

	// Prune enables pruning (DA mode); it conflicts with Archive.
	Prune bool
	// Archive keeps everything and re-fetches pruned data.
	Archive bool
	// Lightweight keeps leaf-only query storage.
	Lightweight bool
	// PruningThreshold is the storage size, in bytes, above which data
	// younger than TargetRetention is pruned.
	PruningThreshold uint64
	// MinimumRetention is how long data is kept whatever the usage.
	MinimumRetention time.Duration
	// TargetRetention is how long data is kept when storage permits.
	TargetRetention time.Duration
	// BatchSize is the number of blocks deleted per transaction.
	BatchSize uint64
	// MaxUsage is the fraction of PruningThreshold to prune back to, in
	// basis points (0..10000).
	MaxUsage uint16
	// Interval is the pruner period.
	Interval time.Duration

	// FetchRateLimit caps simultaneous peer fetches; 0 = no limit.
	FetchRateLimit uint64
	// ActiveFetchDelay is the minimum delay between active fetches.
	ActiveFetchDelay time.Duration
	// ChunkFetchDelay is the minimum delay between stream chunk loads.
	ChunkFetchDelay time.Duration

	// Connection pool settings.
	IdleConnectionTimeout  time.Duration
	ConnectionTimeout      time.Duration
	SlowStatementThreshold time.Duration
	MinConnections         uint64
	MaxConnections         uint64

	backend string
}

// Backend is "postgres" when a postgres:// or postgresql:// URI or a host
// (flag or environment) was given, else "sqlite" (docs/storage.md, "The
// storage-sql module"): a sqlite:// URI,
// or no URI and no host, which means SQLite at <path>/sqlite/database.
func (m *StorageSQLModule) Backend() string { return m.backend }

// moduleSpec describes one module: its name, what it needs and its options.
type moduleSpec struct {
	name     string
	aliases  []string
	summary  string
	requires []string // modules that must come earlier (docs/operator.md, "Grammar")
	// positional names the one positional argument the module takes ("" = none).
	positional string
	// attach allocates the module in c unless it is there already and
	// returns its option table bound to it.
	attach func(c *Config) []*option
	// finish runs after the options are resolved (positional args, derived fields).
	finish func(c *Config, s *optionSet) error
}

// ensure allocates *p if it is nil and returns it.
func ensure[T any](p **T) *T {
	if *p == nil {
		*p = new(T)
	}
	return *p
}

// modules lists every module in help order.
func modules() []*moduleSpec {
	const sq = "ESPRESSO_SEQUENCER_"
	none := func(set func(c *Config)) func(c *Config) []*option {
		return func(c *Config) []*option { set(c); return nil }
	}
	needHTTP := []string{ModuleHTTP}
	return []*moduleSpec{
		{name: ModuleHTTP, summary: "HTTP server with /healthcheck and /version; the API modules below extend it",
			attach: func(c *Config) []*option {
				m := ensure(&c.HTTP)
				return []*option{
					{flag: "port", env: []string{sq + "API_PORT"}, def: "8080", help: "HTTP API port", val: portVar(&m.Port)},
					{flag: "max-connections", env: []string{sq + "MAX_CONNECTIONS"},
						help: "most concurrent HTTP connections; excess ones get HTTP 429 (none: the server's default, 1024)", val: uintVar(&m.MaxConnections, 1, maxU64)},
				}
			}},
		{name: ModuleQuery, requires: needHTTP, summary: "query service (availability, node, status, ...); needs a storage module",
			attach: func(c *Config) []*option {
				m := ensure(&c.Query)
				return []*option{
					{flag: "peers", env: []string{sq + "API_PEERS"}, help: "comma list of peer query service URLs to fetch missing data from",
						val: urlListVar(&m.Peers, httpSchemes()...)},
				}
			}},
		{name: ModuleSubmit, requires: needHTTP, summary: "transaction submission: POST /v0/submit/submit and /batch",
			attach: none(func(c *Config) { ensure(&c.Submit) })},
		{name: ModuleStatus, requires: needHTTP, summary: "status API and Prometheus metrics at /v0/status/metrics",
			attach: none(func(c *Config) { ensure(&c.Status) })},
		{name: ModuleCatchup, requires: needHTTP, summary: "catchup API serving consensus state to peers that fell behind",
			attach: none(func(c *Config) { ensure(&c.Catchup) })},
		{name: ModuleConfig, requires: needHTTP, summary: "node configuration at /v0/config/hotshot and /v0/config/env",
			attach: none(func(c *Config) { ensure(&c.Config) })},
		{name: ModuleExplorer, requires: []string{ModuleHTTP, ModuleStorageSQL}, summary: "block explorer API at /v0/explorer (needs storage-sql)",
			attach: none(func(c *Config) { ensure(&c.Explorer) })},
		{name: ModuleHotShotEvents, requires: needHTTP, summary: "consensus event stream on a separate HTTP server",
			attach: func(c *Config) []*option {
				m := ensure(&c.HotShotEvents)
				return []*option{
					{flag: "events-service-port", env: []string{sq + "HOTSHOT_EVENT_STREAMING_API_PORT"}, required: true,
						help: "port of the event streaming server", val: portVar(&m.EventsServicePort)},
				}
			}},
		{name: ModuleStorageFS, aliases: []string{"storage"}, summary: "file-system consensus and query storage (no pruning)",
			attach: func(c *Config) []*option {
				m := ensure(&c.StorageFS)
				return []*option{
					{flag: "path", env: []string{sq + "STORAGE_PATH"}, def: "./storage", help: "storage directory", val: pathVar(&m.Path)},
					{flag: "consensus-view-retention", env: []string{sq + "CONSENSUS_VIEW_RETENTION"}, def: "130000",
						help: "views of consensus data to keep", val: uintVar(&m.ConsensusViewRetention, 0, maxU64)},
					{flag: "store-undecided-state", env: []string{sq + "STORE_UNDECIDED_STATE"}, def: "false", hidden: true,
						help: "keep undecided state on disk", val: boolVar(&m.StoreUndecidedState)},
				}
			}},
		{name: ModuleStorageSQL, positional: "URI", summary: "Postgres or SQLite consensus and query storage (SQLite when no URI and no host)",
			attach: storageSQLOptions, finish: finishStorageSQL},
	}
}

func storageSQLOptions(c *Config) []*option {
	const sq = "ESPRESSO_SEQUENCER_"
	m := ensure(&c.StorageSQL)
	return []*option{
		{flag: "uri", help: "postgres[ql]://[user[:password]@]host[:port]/database[?params] or sqlite://PATH (also positional); flags and env override its parts",
			val: uriVar(&m.URI)},
		{flag: "host", env: []string{sq + "POSTGRES_HOST"}, def: "localhost", help: "Postgres host; giving it selects Postgres (default unverified)",
			val: stringVar(&m.Host)},
		{flag: "port", env: []string{sq + "POSTGRES_PORT"}, def: "5432", help: "Postgres port (default unverified)", val: portVar(&m.Port)},
		{flag: "database", env: []string{sq + "POSTGRES_DATABASE"}, def: "postgres", help: "Postgres database name (default unverified)",
			val: stringVar(&m.Database)},
		{flag: "user", env: []string{sq + "POSTGRES_USER"}, def: "postgres", help: "Postgres user (default unverified)", val: stringVar(&m.User)},
		{flag: "password", env: []string{sq + "POSTGRES_PASSWORD"}, help: "Postgres password", val: secretVar(&m.Password)},
		{flag: "use-tls", env: []string{sq + "POSTGRES_USE_TLS"}, def: "false", help: "connect to Postgres over TLS (not taken from the URI)",
			val: boolVar(&m.UseTLS)},
		{flag: "path", env: []string{sq + "STORAGE_PATH"}, def: "./storage", help: "storage directory; SQLite default at <path>/sqlite/database",
			val: pathVar(&m.Path)},
		{flag: "prune", env: []string{sq + "DATABASE_PRUNE", sq + "POSTGRES_PRUNE"}, def: "false",
			help: "prune old data (DA node); conflicts with --archive", val: boolVar(&m.Prune)},
		{flag: "archive", env: []string{sq + "ARCHIVE"}, def: "false",
			help: "keep all data and re-fetch data pruned earlier; conflicts with --prune", val: boolVar(&m.Archive)},
		{flag: "lightweight", env: []string{sq + "LIGHTWEIGHT"}, def: "false",
			help: "store leaves and headers only (no payloads, VID, scanner or aggregator)", val: boolVar(&m.Lightweight)},
		{flag: "pruning-threshold", env: []string{sq + "PRUNER_PRUNING_THRESHOLD"}, def: "3 TB",
			help: "storage size above which data younger than the target retention is pruned (size, e.g. 100 GB)", val: sizeVar(&m.PruningThreshold)},
		{flag: "minimum-retention", env: []string{sq + "PRUNER_MINIMUM_RETENTION"}, def: "1d",
			help: "keep data at least this long, whatever the storage usage", val: durationVar(&m.MinimumRetention)},
		{flag: "target-retention", env: []string{sq + "PRUNER_TARGET_RETENTION"}, def: "7d",
			help: "keep data this long when storage permits", val: durationVar(&m.TargetRetention)},
		{flag: "batch-size", env: []string{sq + "PRUNER_BATCH_SIZE"}, def: "30000",
			help: "blocks deleted per transaction (reference code default; its help text says 1000)", val: uintVar(&m.BatchSize, 1, maxU64)},
		{flag: "max-usage", env: []string{sq + "PRUNER_MAX_USAGE"}, def: "8000",
			help: "prune back to this fraction of the threshold, in basis points 0..10000", val: uint16Var(&m.MaxUsage, 0, 10000)},
		{flag: "interval", env: []string{sq + "PRUNER_INTERVAL"}, def: "5400s", defText: "5400s = 1h30m",
			help: "pruner period (reference code default; its help text says 1h)", val: durationVar(&m.Interval)},
		{flag: "fetch-rate-limit", env: []string{sq + "FETCH_RATE_LIMIT"},
			help: "most simultaneous requests fetching missing data from peers, e.g. 25 (none: no limit)", val: uintVar(&m.FetchRateLimit, 1, maxU64)},
		{flag: "active-fetch-delay", env: []string{sq + "ACTIVE_FETCH_DELAY"}, def: "50ms",
			help: "minimum delay between active fetches from a peer (default unverified)", val: durationVar(&m.ActiveFetchDelay)},
		{flag: "chunk-fetch-delay", env: []string{sq + "CHUNK_FETCH_DELAY"}, def: "100ms",
			help: "minimum delay between loading chunks of a stream (default unverified)", val: durationVar(&m.ChunkFetchDelay)},
		{flag: "database-idle-connection-timeout", env: []string{sq + "DATABASE_IDLE_CONNECTION_TIMEOUT"}, def: "10m",
			help: "close pooled connections idle this long", val: durationVar(&m.IdleConnectionTimeout)},
		{flag: "database-connection-timeout", env: []string{sq + "DATABASE_CONNECTION_TIMEOUT"}, def: "30m",
			help: "maximum lifetime of a pooled connection", val: durationVar(&m.ConnectionTimeout)},
		{flag: "database-slow-statement-threshold", env: []string{sq + "DATABASE_SLOW_STATEMENT_THRESHOLD"}, def: "1s",
			help: "log statements slower than this", val: durationVar(&m.SlowStatementThreshold)},
		{flag: "database-min-connections", env: []string{sq + "DATABASE_MIN_CONNECTIONS"}, def: "0",
			help: "connections the pool keeps open", val: uintVar(&m.MinConnections, 0, maxU64)},
		{flag: "database-max-connections", env: []string{sq + "DATABASE_MAX_CONNECTIONS"}, def: "25",
			help: "most connections in the pool", val: uintVar(&m.MaxConnections, 1, maxU64)},
	}
}

// uriVar holds a storage URI; errors and summaries hide its password.
func uriVar(p *string) value {
	return &field[string]{p: p, meta: "URI", parse: parseStorageURI, format: postgres.RedactURI, redact: postgres.RedactURI}
}

// parseStorageURI accepts postgres://, postgresql:// and sqlite:// URIs.
func parseStorageURI(s string) (string, error) {
	const want = "want postgres://[user[:password]@]host[:port]/database, postgresql://... or sqlite://PATH"
	t := strings.TrimSpace(s)
	scheme, rest, ok := strings.Cut(t, "://")
	switch {
	case !ok:
		return "", fmt.Errorf("not a URI (%s)", want)
	case strings.EqualFold(scheme, "sqlite"):
		if rest == "" {
			return "", fmt.Errorf("sqlite URI has no path (%s)", want)
		}
		return t, nil
	case strings.EqualFold(scheme, "postgres"), strings.EqualFold(scheme, "postgresql"):
		u, err := url.Parse(t)
		if err != nil {
			return "", fmt.Errorf("invalid URI (%s)", want)
		}
		if strings.Contains(u.Host, ",") {
			return "", fmt.Errorf("several hosts are not supported (%s)", want)
		}
		if p := u.Port(); p != "" {
			if _, err := parsePort(p); err != nil {
				return "", fmt.Errorf("invalid port %q (%s)", p, want)
			}
		}
		return t, nil
	}
	return "", fmt.Errorf("unsupported scheme %q (%s)", scheme, want)
}

// finishStorageSQL takes the positional URI, chooses the backend and merges
// the URI's parts under the explicit flags and environment.
func finishStorageSQL(c *Config, s *optionSet) error {
	m := c.StorageSQL
	switch {
	case len(s.args) > 1:
		args := make([]string, len(s.args))
		for i, a := range s.args {
			args[i] = postgres.RedactURI(a)
		}
		return usageErr(ErrUnexpectedArgument, fmt.Sprintf("storage-sql takes one URI, got %d arguments: %s", len(s.args), strings.Join(args, " ")))
	case len(s.args) == 1 && m.URI != "":
		return usageErr(ErrConflict, "storage-sql: give the URI either as an argument or with --uri, not both")
	case len(s.args) == 1 && argHint(s.args[0], "") != "":
		return usageErr(ErrUnexpectedArgument, fmt.Sprintf("storage-sql: unexpected argument %q (%s)", s.args[0], argHint(s.args[0], "")))
	case len(s.args) == 1:
		uri, err := parseStorageURI(s.args[0])
		if err != nil {
			return usageErr(ErrInvalidValue, fmt.Sprintf("storage-sql URI: %q: %v", postgres.RedactURI(s.args[0]), err))
		}
		m.URI = uri
	}
	scheme, rest, _ := strings.Cut(m.URI, "://")
	switch {
	case strings.EqualFold(scheme, "sqlite"):
		if s.explicit("host") {
			return usageErr(ErrConflict, "storage-sql: --host (Postgres) cannot be used with a sqlite:// URI")
		}
		m.backend = BackendSQLite
		m.SQLitePath = rest
	case m.URI != "":
		m.backend = BackendPostgres
		return mergePostgresURI(m, s)
	case s.explicit("host"):
		m.backend = BackendPostgres
	default:
		m.backend = BackendSQLite
		m.SQLitePath = filepath.Join(m.Path, "sqlite", "database")
	}
	return nil
}

// mergePostgresURI fills the connection fields from the URI wherever no flag
// or environment variable set them.
func mergePostgresURI(m *StorageSQLModule, s *optionSet) error {
	u, err := url.Parse(m.URI)
	if err != nil {
		return usageErr(ErrInvalidValue, fmt.Sprintf("storage-sql URI: %q: invalid URI", postgres.RedactURI(m.URI)))
	}
	if h := u.Hostname(); h != "" && !s.explicit("host") {
		m.Host = h
	}
	if p := u.Port(); p != "" && !s.explicit("port") {
		v, err := strconv.ParseUint(p, 10, 16)
		if err != nil {
			return usageErr(ErrInvalidValue, fmt.Sprintf("storage-sql URI: %q: invalid port %q", postgres.RedactURI(m.URI), p))
		}
		m.Port = uint16(v)
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" && !s.explicit("database") {
		m.Database = db
	}
	if u.User != nil {
		if name := u.User.Username(); name != "" && !s.explicit("user") {
			m.User = name
		}
		if pw, ok := u.User.Password(); ok && !s.explicit("password") {
			m.Password = Secret(pw)
		}
	}
	if q := u.Query(); len(q) > 0 {
		m.Params = q
	}
	return nil
}
