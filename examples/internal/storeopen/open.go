package storeopen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/gospresso/gospresso/examples/internal/options"
	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/fs"
	"github.com/gospresso/gospresso/storage/postgres"
	"github.com/gospresso/gospresso/storage/pruner"
	"github.com/gospresso/gospresso/storage/sqlite"
)

// Sentinel errors of the package.
var (
	// ErrConfig is matched by the errors for a configuration that selects
	// no single store (nil, or two storage modules).
	ErrConfig = errors.New("storeopen: invalid storage configuration")
	// ErrNotStore is matched by Reset's refusal to delete a directory or
	// file that does not look like a store of the backend.
	ErrNotStore = errors.New("storeopen: not a gospresso store")
)

// Backend names reported in [Info].Backend.
const (
	BackendFS       = "fs"
	BackendSQLite   = "sqlite"
	BackendPostgres = "postgres"
)

// DefaultPath is the storage directory of a node started without a storage
// module (and the default --path of the storage modules).
const DefaultPath = "./storage"

// Info describes the store Open chose.
type Info struct {
	// Backend is BackendFS, BackendSQLite or BackendPostgres.
	Backend string
	// Description is one line for the start-up output, without secrets,
	// e.g. "storage-sql: SQLite at storage/sqlite/database, pruning (...)".
	Description string
	// Location names the store without secrets: "file-system storage
	// ./storage", "SQLite storage/sqlite/database" or "Postgres
	// user@host:5432/database schema public".
	Location string
	// Notice is set when no storage module was given: the caller prints it
	// ("no storage module: consensus data in file-system storage at
	// ./storage").
	Notice string
	// Prune is the pruner configuration when pruning is on (storage-sql
	// --prune); nil otherwise. The store implements storage.Pruner then.
	Prune *pruner.Config
	// Archive reports archive mode (storage-sql --archive): Open reset the
	// store's pruned height so pruned data is fetched again.
	Archive bool
	// Lightweight reports storage-sql --lightweight (leaf-only query
	// storage), for the node to honour.
	Lightweight bool
	// ConsensusOnly reports that the command line has no query module: the
	// node is a lightweight node (docs/storage.md, "Modes") and Open opened the store in
	// consensus-only mode, keeping the last decided block only (reads
	// below it return storage.ErrPruned).
	ConsensusOnly bool
}

// Option configures Open.
type Option func(*settings)

type settings struct {
	env    func(string) (string, bool)
	logger *slog.Logger
	schema string
}

func newSettings(opts []Option) settings {
	s := settings{logger: slog.New(slog.DiscardHandler), schema: postgres.DefaultSchema}
	for _, o := range opts {
		o(&s)
	}
	return s
}

// WithEnv gives Open the environment (os.LookupEnv in a binary), so that it
// can refuse the operator guide's pruning variables
// (ESPRESSO_SEQUENCER_POSTGRES_PRUNE, ESPRESSO_SEQUENCER_DATABASE_PRUNE) set
// to true for a storage-fs node, which options.Parse does not read without
// storage-sql. Without it nothing is looked up.
func WithEnv(lookup func(string) (string, bool)) Option {
	return func(s *settings) { s.env = lookup }
}

// WithLogger sets the logger the backends log recovery, migrations and slow
// statements to (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(s *settings) {
		if l != nil {
			s.logger = l
		}
	}
}

// WithSchema sets the Postgres schema that holds the store (default
// "public"; the command line has no option for it). Several stores, or
// tests, can share a database in different schemas.
func WithSchema(name string) Option {
	return func(s *settings) { s.schema = name }
}

// pruneEnv are the environment variables that turn pruning on (docs/storage.md,
// "Pruning").
var pruneEnv = [...]string{"ESPRESSO_SEQUENCER_DATABASE_PRUNE", "ESPRESSO_SEQUENCER_POSTGRES_PRUNE"}

// target is a resolved choice of store.
type target struct {
	backend string
	path    string          // fs directory or SQLite file
	pg      postgres.Config // Postgres
	info    Info
	sql     *options.StorageSQLModule
	fsm     *options.StorageFSModule
}

// Plan returns the Info that Open would return for cfg, without opening
// anything (no I/O).
func Plan(cfg *options.Config, opts ...Option) (Info, error) {
	t, err := plan(cfg, newSettings(opts))
	if err != nil {
		return Info{}, err
	}
	return t.info, nil
}

// consensusOnlyDesc ends the description of a store opened for a node
// without the query module.
const consensusOnlyDesc = ", lightweight: consensus data only"

// plan resolves the backend and its settings without any I/O.
func plan(cfg *options.Config, s settings) (*target, error) {
	t, err := planTarget(cfg, s)
	if err != nil {
		return nil, err
	}
	t.info.Location = t.where()
	// Without the query module nothing reads the chain's history: the node
	// is a lightweight node (docs/storage.md, "Modes") and keeps consensus data only. With
	// query, ESPRESSO_SEQUENCER_LIGHTWEIGHT (Info.Lightweight) still opens
	// a full store: leaf-only query storage is a later refinement.
	if cfg.Query == nil {
		t.info.ConsensusOnly = true
		t.info.Description += consensusOnlyDesc
	}
	return t, nil
}

func planTarget(cfg *options.Config, s settings) (*target, error) {
	switch {
	case cfg == nil:
		return nil, fmt.Errorf("%w: no configuration", ErrConfig)
	case cfg.StorageFS != nil && cfg.StorageSQL != nil:
		return nil, fmt.Errorf("%w: only one storage module can be used: got both storage-fs and storage-sql", ErrConfig)
	case cfg.StorageFS != nil:
		m := cfg.StorageFS
		return &target{backend: BackendFS, path: m.Path, fsm: m, info: Info{Backend: BackendFS,
			Description: fmt.Sprintf("storage-fs: file-system storage at %s (consensus view retention %d)", m.Path, m.ConsensusViewRetention)}}, nil
	case cfg.StorageSQL == nil:
		return &target{backend: BackendFS, path: DefaultPath, info: Info{Backend: BackendFS,
			Description: "file-system storage at " + DefaultPath + " (no storage module)",
			Notice:      "no storage module: consensus data in file-system storage at " + DefaultPath}}, nil
	}
	m := cfg.StorageSQL
	t := &target{sql: m}
	var desc string
	switch m.Backend() {
	case options.BackendSQLite:
		if m.SQLitePath == "" {
			return nil, fmt.Errorf("%w: storage-sql: no SQLite path (was the configuration parsed by options.Parse?)", ErrConfig)
		}
		t.backend, t.path = BackendSQLite, m.SQLitePath
		desc = "storage-sql: SQLite at " + m.SQLitePath
	case options.BackendPostgres:
		t.backend = BackendPostgres
		t.pg = postgresConfig(m, s.schema)
		desc = fmt.Sprintf("storage-sql: Postgres %s@%s:%d/%s (schema %s, TLS %s)", m.User, m.Host, m.Port, m.Database,
			t.pg.Schema, onOff(m.UseTLS))
	default:
		return nil, fmt.Errorf("%w: storage-sql: backend %q (want %q or %q; was the configuration parsed by options.Parse?)",
			ErrConfig, m.Backend(), options.BackendSQLite, options.BackendPostgres)
	}
	t.info = Info{Backend: t.backend, Archive: m.Archive, Lightweight: m.Lightweight}
	if m.Prune {
		pc := pruner.Config{Threshold: m.PruningThreshold, MinimumRetention: m.MinimumRetention, TargetRetention: m.TargetRetention,
			BatchSize: m.BatchSize, MaxUsage: m.MaxUsage, Interval: m.Interval}
		if err := pc.Validate(); err != nil {
			return nil, fmt.Errorf("storage-sql pruning options: %w", err)
		}
		t.info.Prune = &pc
		desc += fmt.Sprintf(", pruning (above %d bytes down to %d.%02d %% of it; keep %v, up to %v when space permits; %d blocks per batch; every %v)",
			pc.Threshold, pc.MaxUsage/100, pc.MaxUsage%100, pc.MinimumRetention, pc.TargetRetention, pc.BatchSize, pc.Interval)
	}
	if m.Archive {
		desc += ", archive (pruned data is fetched again)"
	}
	if m.Lightweight {
		desc += ", lightweight (leaves and headers only)"
	}
	t.info.Description = desc
	return t, nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// postgresConfig maps the storage-sql options onto the Postgres backend's
// configuration. The connection fields are the effective ones (options.Parse
// merged the URI under the flags and environment); the URI still goes along
// for its query parameters.
func postgresConfig(m *options.StorageSQLModule, schema string) postgres.Config {
	return postgres.Config{
		URI:                    m.URI,
		Host:                   m.Host,
		Port:                   m.Port,
		Database:               m.Database,
		User:                   m.User,
		Password:               m.Password.Reveal(),
		UseTLS:                 m.UseTLS,
		Schema:                 schema,
		MaxConnections:         int(min(m.MaxConnections, 1<<20)),
		MinConnections:         int(min(m.MinConnections, 1<<20)),
		IdleConnectionTimeout:  m.IdleConnectionTimeout,
		ConnectionTimeout:      m.ConnectionTimeout,
		SlowStatementThreshold: m.SlowStatementThreshold,
	}
}

// Open opens the store cfg selects (see the package doc) and returns it with
// a description. cfg comes from options.Parse (and Config.Validate). The
// caller closes the store; when Info.Prune is set it may run
// pruner.New(store, *Info.Prune). Errors name the backend and its location
// and wrap the backend's error (storage.ErrLocked when another process holds
// the store; fs.ErrPruningUnsupported for pruning on the file system).
func Open(ctx context.Context, cfg *options.Config, opts ...Option) (storage.Store, Info, error) {
	s := newSettings(opts)
	t, err := plan(cfg, s)
	if err != nil {
		return nil, Info{}, err
	}
	if t.backend == BackendFS && t.fsm != nil && s.env != nil {
		for _, name := range pruneEnv {
			if v, ok := s.env(name); ok && isTrue(v) {
				return nil, t.info, fmt.Errorf("storage-fs: %s=%s asks for pruning: %w", name, v, fs.ErrPruningUnsupported)
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, t.info, err
	}
	var st storage.Store
	switch t.backend {
	case BackendFS:
		var fopts []fs.Option
		fopts = append(fopts, fs.WithLogger(s.logger))
		if t.fsm != nil {
			fopts = append(fopts, fs.WithViewRetention(t.fsm.ConsensusViewRetention))
		}
		if t.info.ConsensusOnly {
			fopts = append(fopts, fs.WithConsensusOnly())
		}
		var fst *fs.Store
		fst, err = fs.Open(ctx, t.path, fopts...)
		if err == nil {
			st = fst
		}
		if err != nil && t.fsm != nil && t.fsm.ConsensusViewRetention == 0 {
			err = fmt.Errorf("--consensus-view-retention 0: %w", err)
		}
	case BackendSQLite:
		m := t.sql
		sopts := []sqlite.Option{
			sqlite.WithLogger(s.logger),
			sqlite.WithMaxReaders(maxReaders(m.MaxConnections)),
			sqlite.WithIdleTimeout(m.IdleConnectionTimeout),
			sqlite.WithMaxLifetime(m.ConnectionTimeout),
			sqlite.WithSlowThreshold(m.SlowStatementThreshold),
		}
		if t.info.ConsensusOnly {
			sopts = append(sopts, sqlite.WithConsensusOnly())
		}
		var sst *sqlite.Store
		sst, err = sqlite.Open(ctx, t.path, sopts...)
		if err == nil {
			st = sst
		}
	case BackendPostgres:
		var pst *postgres.Store
		popts := []postgres.Option{postgres.WithLogger(s.logger)}
		if t.info.ConsensusOnly {
			popts = append(popts, postgres.WithConsensusOnly())
		}
		pst, err = postgres.Open(ctx, t.pg, popts...)
		if err == nil {
			st = pst
		}
	}
	if err != nil {
		return nil, t.info, fmt.Errorf("storage: open %s: %w", t.where(), err)
	}
	if t.info.Prune != nil || t.info.Archive {
		p, ok := st.(storage.Pruner)
		if !ok {
			st.Close()
			return nil, t.info, fmt.Errorf("storage: %s: %T cannot prune: %w", t.where(), st, storage.ErrNotSupported)
		}
		if t.info.Archive {
			if err := p.ResetPrunedHeight(ctx); err != nil {
				st.Close()
				return nil, t.info, fmt.Errorf("storage: %s: archive mode: reset the pruned height: %w", t.where(), err)
			}
		}
	}
	return st, t.info, nil
}

// where names the store for errors, without secrets.
func (t *target) where() string {
	switch t.backend {
	case BackendPostgres:
		return fmt.Sprintf("Postgres %s@%s:%d/%s schema %s", t.pg.User, t.pg.Host, t.pg.Port, t.pg.Database, t.pg.Schema)
	case BackendSQLite:
		return "SQLite " + t.path
	}
	return "file-system storage " + t.path
}

// isTrue reads a boolean the way options does (true/1, any case).
func isTrue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1":
		return true
	}
	return false
}

// maxReaders maps --database-max-connections to SQLite's reader pool: 0
// (unset) means the backend's default.
func maxReaders(n uint64) int {
	if n == 0 {
		return sqlite.DefaultMaxReaders
	}
	return int(min(n, 1<<20))
}
