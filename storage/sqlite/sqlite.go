package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	// The pure-Go SQLite driver, registered under the name "sqlite".
	_ "modernc.org/sqlite"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/filelock"
)

// Sentinel errors of the SQLite backend (the storage package's sentinels,
// such as storage.ErrLocked, are used for what every backend reports).
var (
	// ErrInvalidOption is returned by Open for an option value it cannot
	// use, such as a negative reader count or an empty path.
	ErrInvalidOption = errors.New("sqlite: invalid option")
	// ErrSchemaTooNew is returned by Open for a database whose schema was
	// written by a newer program (it records migrations this one lacks).
	ErrSchemaTooNew = errors.New("sqlite: database schema is newer than this program")
	// ErrBadMigration is returned for an embedded migration file that is
	// misnamed or out of sequence (a programming error caught by tests).
	ErrBadMigration = errors.New("sqlite: bad migration")
	// ErrOutOfRange is returned for a height, view or timestamp at or above
	// 2^63, which SQLite's signed 64-bit integers cannot hold.
	ErrOutOfRange = errors.New("sqlite: value out of range")
	// ErrCorrupt is returned when a stored row cannot be decoded or
	// contradicts the rows beside it.
	ErrCorrupt = errors.New("sqlite: corrupt data")
	// ErrDatabaseGone is returned by every write once the database file the
	// store opened is no longer at its path (the file or its directory was
	// deleted, or another file put in its place): what the store writes
	// would be lost, so the write fails and the node halts.
	ErrDatabaseGone = errors.New("sqlite: the database file was deleted or replaced while the store was open")
)

// Defaults of the connection pool (docs/storage.md, "SQLite").
const (
	// DefaultMaxReaders is the default size of the reader pool
	// (ESPRESSO_SEQUENCER_DATABASE_MAX_CONNECTIONS).
	DefaultMaxReaders = 25
	// DefaultIdleTimeout closes reader connections idle this long
	// (ESPRESSO_SEQUENCER_DATABASE_IDLE_CONNECTION_TIMEOUT).
	DefaultIdleTimeout = 10 * time.Minute
	// DefaultMaxLifetime replaces reader connections this old
	// (ESPRESSO_SEQUENCER_DATABASE_CONNECTION_TIMEOUT).
	DefaultMaxLifetime = 30 * time.Minute
	// DefaultSlowThreshold is the duration above which an operation is
	// logged as slow (ESPRESSO_SEQUENCER_DATABASE_SLOW_STATEMENT_THRESHOLD).
	DefaultSlowThreshold = time.Second
	// DefaultBusyTimeout is how long a connection waits for a lock another
	// connection holds (only WAL checkpoints and recovery ever wait).
	DefaultBusyTimeout = 5 * time.Second
)

// Option configures Open.
type Option func(*config)

type config struct {
	maxReaders    int
	idleTimeout   time.Duration
	maxLifetime   time.Duration
	busyTimeout   time.Duration
	slowThreshold time.Duration
	logger        *slog.Logger
	consensusOnly bool
}

func defaultConfig() config {
	return config{
		maxReaders:    DefaultMaxReaders,
		idleTimeout:   DefaultIdleTimeout,
		maxLifetime:   DefaultMaxLifetime,
		busyTimeout:   DefaultBusyTimeout,
		slowThreshold: DefaultSlowThreshold,
		logger:        slog.New(slog.DiscardHandler),
	}
}

// WithMaxReaders sets the most reader connections open at once (default
// DefaultMaxReaders; at least 1). The writer connection is separate. Idle
// readers stay open until the idle timeout; database/sql keeps no minimum
// number of connections, so the minimum-connections setting (0 by default;
// docs/storage.md, "SQLite") has no equivalent here.
func WithMaxReaders(n int) Option { return func(c *config) { c.maxReaders = n } }

// WithIdleTimeout closes reader connections idle for d (default
// DefaultIdleTimeout; 0 keeps them).
func WithIdleTimeout(d time.Duration) Option { return func(c *config) { c.idleTimeout = d } }

// WithMaxLifetime replaces reader connections older than d (default
// DefaultMaxLifetime; 0 keeps them forever).
func WithMaxLifetime(d time.Duration) Option { return func(c *config) { c.maxLifetime = d } }

// WithBusyTimeout sets SQLite's busy_timeout (default DefaultBusyTimeout,
// at least 1 ms).
func WithBusyTimeout(d time.Duration) Option { return func(c *config) { c.busyTimeout = d } }

// WithSlowThreshold logs, at warning level, every store operation that takes
// longer than d (default DefaultSlowThreshold; 0 turns the log off).
func WithSlowThreshold(d time.Duration) Option { return func(c *config) { c.slowThreshold = d } }

// WithLogger sets the logger for slow operations and schema migrations
// (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithConsensusOnly opens the store in consensus-only mode, the storage of
// a lightweight node (docs/storage.md, "Modes"): every SaveDecided, in its own
// transaction, also prunes every block below the last one (as PruneBefore
// does, recording the pruned height), so the store keeps the last decided
// block only and stays small however long it runs. Reads below it return
// storage.ErrPruned. A store that keeps history below its last block is
// refused with storage.ErrModeMismatch rather than pruned (dropping the
// query module must never delete history); a consensus-only store opened
// without this option keeps growing from its last block (the pruned
// heights stay pruned).
func WithConsensusOnly() Option { return func(c *config) { c.consensusOnly = true } }

func (c *config) validate() error {
	switch {
	case c.maxReaders < 1:
		return fmt.Errorf("%w: max_readers: %d: want at least 1", ErrInvalidOption, c.maxReaders)
	case c.idleTimeout < 0:
		return fmt.Errorf("%w: idle_timeout: %s: want 0 or more", ErrInvalidOption, c.idleTimeout)
	case c.maxLifetime < 0:
		return fmt.Errorf("%w: max_lifetime: %s: want 0 or more", ErrInvalidOption, c.maxLifetime)
	case c.busyTimeout < time.Millisecond:
		return fmt.Errorf("%w: busy_timeout: %s: want at least 1ms", ErrInvalidOption, c.busyTimeout)
	case c.slowThreshold < 0:
		return fmt.Errorf("%w: slow_threshold: %s: want 0 or more", ErrInvalidOption, c.slowThreshold)
	}
	return nil
}

// Store is a SQLite storage.Store and storage.Pruner, safe for concurrent
// use. Open it with Open; Close releases the database and the process lock.
type Store struct {
	path string
	cfg  config

	w  *sql.DB // the single writer connection
	r  *sql.DB // query_only readers
	ws *writeStmts
	rs *readStmts

	ckdb *sql.DB // the checkpointer's connection
	ck   *checkpointer

	// wmu serializes writes: every write runs in one transaction on w.
	wmu sync.Mutex

	// life guards closed: operations hold it shared, Close exclusively.
	life   sync.RWMutex
	closed bool

	lock *os.File

	// ident is the database file as opened, which every write transaction
	// compares with what is at path (checkFile).
	ident os.FileInfo
}

var (
	_ storage.Store  = (*Store)(nil)
	_ storage.Pruner = (*Store)(nil)
)

// Open opens (creating if needed) the SQLite store at path, the database
// file (its directory is created too). It takes the store's exclusive lock
// (an error wrapping storage.ErrLocked when another Open holds it), applies
// pending schema migrations in one transaction and prepares the statements
// the store uses.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if path == "" {
		return nil, fmt.Errorf("%w: path: %q: want the database file path", ErrInvalidOption, path)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: create directory: %w", path, err)
	}
	lock, err := filelock.Lock(abs + ".lock")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s := &Store{path: abs, cfg: cfg, lock: lock}
	if err := s.open(ctx); err != nil {
		s.release()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if cfg.consensusOnly {
		if err := storage.RefuseHistory(ctx, s); err != nil {
			s.Close()
			return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
		}
	}
	return s, nil
}

// open connects, migrates and prepares; on error the caller releases.
func (s *Store) open(ctx context.Context) error {
	busy := strconv.FormatInt(s.cfg.busyTimeout.Milliseconds(), 10)
	base := (&url.URL{Scheme: "file", Path: s.path}).String()
	q := url.Values{}
	q.Set("_busy_timeout", busy)
	// 4 KiB pages (set only when the file is created; small pages keep
	// the random inserts into the transaction-hash index cheap) and a 32
	// MiB cache that holds a 1 MB block's transaction until commit;
	// statement journals in memory; the WAL file cut back to 64 MiB after
	// checkpoints, which run in the background (checkpoint.go). A
	// consensus-only store, which should stay small on disk too, cuts its
	// WAL back to 1 MiB and checkpoints it from the writer after 256 pages.
	journalLimit, autoCheckpoint := 64<<20, writerAutoCheckpoint
	if s.cfg.consensusOnly {
		journalLimit, autoCheckpoint = 1<<20, consensusOnlyAutoCheckpoint
	}
	q.Add("_pragma", "page_size(4096)")
	q.Add("_pragma", "cache_size(-32768)")
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Add("_pragma", "journal_size_limit("+strconv.Itoa(journalLimit)+")")
	q.Add("_pragma", "wal_autocheckpoint("+strconv.Itoa(autoCheckpoint)+")")
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "FULL")
	q.Set("_foreign_keys", "1")
	q.Set("_txlock", "immediate")
	w, err := sql.Open("sqlite", base+"?"+q.Encode())
	if err != nil {
		return fmt.Errorf("writer: %w", err)
	}
	s.w = w
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		return fmt.Errorf("writer: %w", err)
	}
	migs, err := loadMigrations()
	if err != nil {
		return err
	}
	applied, err := migrate(ctx, w, migs, time.Now())
	if err != nil {
		return err
	}
	for _, m := range applied {
		s.cfg.logger.Info("sqlite: applied schema migration", "path", s.path, "version", m.version, "name", m.name)
	}

	rq := url.Values{}
	rq.Set("_busy_timeout", busy)
	rq.Set("_query_only", "1")
	r, err := sql.Open("sqlite", base+"?"+rq.Encode())
	if err != nil {
		return fmt.Errorf("readers: %w", err)
	}
	s.r = r
	r.SetMaxOpenConns(s.cfg.maxReaders)
	r.SetMaxIdleConns(s.cfg.maxReaders)
	r.SetConnMaxIdleTime(s.cfg.idleTimeout)
	r.SetConnMaxLifetime(s.cfg.maxLifetime)
	if err := r.PingContext(ctx); err != nil {
		return fmt.Errorf("readers: %w", err)
	}
	cq := url.Values{}
	cq.Set("_busy_timeout", busy)
	cq.Set("_synchronous", "FULL")
	ck, err := sql.Open("sqlite", base+"?"+cq.Encode())
	if err != nil {
		return fmt.Errorf("checkpointer: %w", err)
	}
	s.ckdb = ck
	ck.SetMaxOpenConns(1)
	ck.SetMaxIdleConns(1)
	ck.SetConnMaxIdleTime(0)
	ck.SetConnMaxLifetime(0)
	if err := ck.PingContext(ctx); err != nil {
		return fmt.Errorf("checkpointer: %w", err)
	}
	pw := &preparer{ctx: ctx, db: w}
	ws := prepareWrite(pw)
	if pw.err != nil {
		return pw.fail()
	}
	s.ws = ws
	pr := &preparer{ctx: ctx, db: r}
	rs := prepareRead(pr)
	if pr.err != nil {
		return pr.fail()
	}
	s.rs = rs
	s.ck = newCheckpointer(ck, s.cfg.logger, s.path, checkpointInterval)
	fi, err := os.Stat(s.path)
	if err != nil {
		return err
	}
	s.ident = fi
	return nil
}

// checkFile returns an error wrapping ErrDatabaseGone, naming the path, when
// the file at the store's path is no longer the one it opened: SQLite keeps
// writing to an open file after it is unlinked, and everything written
// there would be lost. It costs one stat, and runs before and after every
// write transaction.
func (s *Store) checkFile() error {
	fi, err := os.Stat(s.path)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrDatabaseGone, s.path, err)
	}
	if !os.SameFile(fi, s.ident) {
		return fmt.Errorf("%w: %s is another file now", ErrDatabaseGone, s.path)
	}
	return nil
}

// release closes whatever open set up, then drops the lock; it returns the
// first error.
func (s *Store) release() error {
	var errs []error
	if s.ck != nil {
		s.ck.close()
	}
	if s.ws != nil {
		errs = append(errs, s.ws.close())
	}
	if s.rs != nil {
		errs = append(errs, s.rs.close())
	}
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.ckdb != nil {
		errs = append(errs, s.ckdb.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	if s.lock != nil {
		// Closing the descriptor releases the flock.
		errs = append(errs, s.lock.Close())
	}
	return errors.Join(errs...)
}

// Close implements storage.Store: it waits for running operations, closes
// the connections and releases the process lock. Later calls return
// storage.ErrClosed; closing again is a no-op.
func (s *Store) Close() error {
	s.life.Lock()
	defer s.life.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if err := s.release(); err != nil {
		return fmt.Errorf("sqlite: close %s: %w", s.path, err)
	}
	return nil
}

// Path returns the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// enter starts an operation: it checks ctx and that the store is open, and
// returns the function that ends the operation (logging it when slow).
func (s *Store) enter(ctx context.Context, op string) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.life.RLock()
	if s.closed {
		s.life.RUnlock()
		return nil, storage.ErrClosed
	}
	start := time.Now()
	return func() {
		s.life.RUnlock()
		if d := time.Since(start); s.cfg.slowThreshold > 0 && d > s.cfg.slowThreshold {
			s.cfg.logger.Warn("sqlite: slow operation", "op", op, "elapsed", d, "threshold", s.cfg.slowThreshold)
		}
	}, nil
}

// fail wraps a database error with the database path and the operation
// (an error of SQLite's, such as "attempt to write a readonly database",
// names no file), returning ctx.Err() as such when the context ended.
func (s *Store) fail(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("sqlite: %s: %s: %w (%v)", s.path, op, cerr, err)
	}
	return fmt.Errorf("sqlite: %s: %s: %w", s.path, op, err)
}
