package postgres

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"

	"github.com/gospresso/gospresso/storage"
)

// Store is a storage.Store and storage.Pruner in one Postgres schema. It is
// safe for concurrent use: reads run in parallel on the pool, writes are
// serialised.
type Store struct {
	db       *sql.DB
	lockDB   *sql.DB
	lockConn *sql.Conn
	lockKey  int64
	lockPID  int64
	target   string
	schema   string
	log      *slog.Logger
	slow     time.Duration
	// consensusOnly prunes below the last block in every SaveDecided.
	consensusOnly bool
	// stmts are the pooled statements, prepared at Open.
	stmts map[string]*sql.Stmt

	closed atomic.Bool
	// writeMu serialises writes, and Close against them, so that the lock
	// is released only after the last write finished.
	writeMu sync.Mutex
}

var (
	_ storage.Store  = (*Store)(nil)
	_ storage.Pruner = (*Store)(nil)
)

// Option tunes Open beyond the Config.
type Option func(*options)

type options struct {
	log           *slog.Logger
	lockTimeout   time.Duration
	consensusOnly bool
}

// WithConsensusOnly opens the store in consensus-only mode, the storage of
// a lightweight node (docs/storage.md, "Modes"): every SaveDecided, in its own
// transaction, also prunes every block below the last one (as PruneBefore
// does, recording the pruned height and lowering the live size), so the
// store keeps the last decided block only. Reads below it return
// storage.ErrPruned. A store that keeps history below its last block is
// refused with storage.ErrModeMismatch rather than pruned (dropping the
// query module must never delete history).
func WithConsensusOnly() Option {
	return func(o *options) { o.consensusOnly = true }
}

// WithLogger sets the logger for the open message and slow statements; the
// default discards. The password is never logged.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

// WithLockTimeout makes Open retry the schema lock for up to d before
// failing with storage.ErrLocked (default 0: fail at once). A process
// restarted right after a crash may need it while the server notices that
// the old connection is gone.
func WithLockTimeout(d time.Duration) Option {
	return func(o *options) { o.lockTimeout = d }
}

// lockRetry is the pause between attempts to take the schema lock.
const lockRetry = 50 * time.Millisecond

// Open connects, locks the schema, applies the migrations and returns the
// store. Errors: ErrInvalidConfig for a bad Config; storage.ErrLocked when
// another Store holds the schema; ErrSchemaVersion for a schema migrated by
// a newer build; connection errors from the driver, wrapped with the target
// (never the password).
func Open(ctx context.Context, cfg Config, opts ...Option) (*Store, error) {
	o := options{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, opt := range opts {
		opt(&o)
	}
	set, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	target := set.target()

	// The lock connection is a pool of one, held as a *sql.Conn until
	// Close, so the pool never recycles it.
	lockConnector, err := pq.NewConnectorConfig(set.pqConfig())
	if err != nil {
		return nil, fmt.Errorf("postgres: open %s: %w", target, err)
	}
	connector, err := pq.NewConnectorConfig(set.pqConfig())
	if err != nil {
		return nil, fmt.Errorf("postgres: open %s: %w", target, err)
	}
	s := &Store{
		lockKey: lockKey(set.schema),
		target:  target,
		schema:  set.schema,
		log:     o.log,
		slow:    set.slowThreshold,

		consensusOnly: o.consensusOnly,
	}
	s.lockDB = sql.OpenDB(lockConnector)
	s.lockDB.SetMaxOpenConns(1)
	if err := s.acquireLock(ctx, o.lockTimeout); err != nil {
		s.lockDB.Close()
		return nil, err
	}

	s.db = sql.OpenDB(connector)
	s.db.SetMaxOpenConns(set.maxConns)
	s.db.SetMaxIdleConns(set.maxConns)
	s.db.SetConnMaxIdleTime(set.idleTimeout)
	s.db.SetConnMaxLifetime(set.maxLifetime)
	if err := s.migrate(ctx); err != nil {
		s.release()
		return nil, err
	}
	if err := s.prepare(ctx); err != nil {
		s.release()
		return nil, err
	}
	if err := s.warm(ctx, set.minConns); err != nil {
		s.release()
		return nil, err
	}
	if o.consensusOnly {
		if err := storage.RefuseHistory(ctx, s); err != nil {
			s.Close()
			return nil, fmt.Errorf("postgres: open %s: %w", target, err)
		}
	}
	s.log.Info("postgres: store opened", "target", target, "max_connections", set.maxConns)
	return s, nil
}

// lockKey derives the advisory-lock key of a schema. Advisory locks are
// scoped to the database, so the schema name alone identifies the store.
func lockKey(schema string) int64 {
	sum := sha256.Sum256([]byte("gospresso/storage/postgres/lock/" + schema))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

// acquireLock takes the schema's advisory lock on a dedicated connection.
func (s *Store) acquireLock(ctx context.Context, wait time.Duration) error {
	conn, err := s.lockDB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("postgres: connect to %s: %w", s.target, ctxErr(ctx, err))
	}
	// A server-wide idle_session_timeout (PostgreSQL 14+) must not end the
	// session that holds the lock; older servers reject the setting, which
	// is harmless.
	if _, err := conn.ExecContext(ctx, "SET idle_session_timeout = 0"); err != nil && pq.As(err, pqerror.UndefinedObject) == nil {
		conn.Close()
		return fmt.Errorf("postgres: connect to %s: %w", s.target, ctxErr(ctx, err))
	}
	deadline := time.Now().Add(wait)
	for {
		var ok bool
		if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1), pg_backend_pid()", s.lockKey).Scan(&ok, &s.lockPID); err != nil {
			conn.Close()
			return fmt.Errorf("postgres: lock schema %q at %s: %w", s.schema, s.target, ctxErr(ctx, err))
		}
		if ok {
			s.lockConn = conn
			return nil
		}
		if !time.Now().Before(deadline) {
			conn.Close()
			return fmt.Errorf("postgres: schema %q at %s: %w", s.schema, s.target, storage.ErrLocked)
		}
		select {
		case <-ctx.Done():
			conn.Close()
			return fmt.Errorf("postgres: lock schema %q at %s: %w", s.schema, s.target, ctx.Err())
		case <-time.After(lockRetry):
		}
	}
}

// warm opens n pool connections so that they sit idle in the pool.
func (s *Store) warm(ctx context.Context, n int) error {
	conns := make([]*sql.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := s.db.Conn(ctx)
		if err == nil {
			err = c.PingContext(ctx)
		}
		if err != nil {
			return fmt.Errorf("postgres: open %d connections to %s: %w", n, s.target, ctxErr(ctx, err))
		}
		conns = append(conns, c)
	}
	return nil
}

// release closes the pool, then gives the lock up. Only the pool's error
// is returned: ending the lock connection's session frees the lock in any
// case, and a lock connection that already died has nothing to free.
func (s *Store) release() error {
	var err error
	for _, st := range s.stmts {
		st.Close()
	}
	if s.db != nil {
		if err = s.db.Close(); err != nil {
			err = fmt.Errorf("postgres: close: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, uerr := s.lockConn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", s.lockKey); uerr != nil {
		s.log.Warn("postgres: unlock schema failed; closing its connection frees the lock", "schema", s.schema, "err", uerr)
	}
	s.lockConn.Close()
	s.lockDB.Close()
	return err
}

// Close waits for the write in progress, closes the pool and releases the
// schema lock. Later calls return storage.ErrClosed; closing twice is a
// no-op.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	err := s.release()
	s.log.Info("postgres: store closed", "target", s.target)
	return err
}

// Target describes where the store lives (URI without password, schema,
// TLS mode), as Config.String does.
func (s *Store) Target() string { return s.target }

// ctxErr returns ctx's error when ctx ended (the driver reports a canceled
// statement in its own words), else err.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return err
}

// check is the entry test of every method: open store, live context.
func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return storage.ErrClosed
	}
	return ctx.Err()
}

// fail wraps an error of operation op: ctx's error if ctx ended, ErrClosed
// if the store was closed meanwhile, else err with context.
func (s *Store) fail(ctx context.Context, op string, err error) error {
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("postgres: %s: %w", op, ctx.Err())
	case s.closed.Load():
		return fmt.Errorf("postgres: %s: %w", op, storage.ErrClosed)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// querier is what *sql.DB, *sql.Tx and *sql.Conn have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// timed logs a statement that took longer than the slow threshold.
func (s *Store) timed(name string, start time.Time) {
	if d := time.Since(start); s.slow > 0 && d >= s.slow {
		s.log.Warn("postgres: slow statement", "statement", name, "duration", d, "threshold", s.slow)
	}
}

// scan runs a one-row query and scans it; sql.ErrNoRows when there is no row.
func (s *Store) scan(ctx context.Context, q querier, name, query string, args []any, dest ...any) error {
	defer s.timed(name, time.Now())
	return q.QueryRowContext(ctx, query, args...).Scan(dest...)
}

// exec runs a statement.
func (s *Store) exec(ctx context.Context, q querier, name, query string, args ...any) (sql.Result, error) {
	defer s.timed(name, time.Now())
	return q.ExecContext(ctx, query, args...)
}

// each runs a query and calls row for every row.
func (s *Store) each(ctx context.Context, q querier, name, query string, args []any, row func(*sql.Rows) error) error {
	defer s.timed(name, time.Now())
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	return eachRow(rows, row)
}

// lockArgs are the arguments of lockHeld.
func (s *Store) lockArgs() []any {
	k := uint64(s.lockKey)
	return []any{s.lockPID, int64(k >> 32), int64(k & 0xffffffff)}
}

// lostLock is the error of a write that found the lock gone.
func (s *Store) lostLock(op string) error {
	return fmt.Errorf("postgres: %s: schema %q: %w: %w", op, s.schema, ErrLockLost, storage.ErrLocked)
}

// write runs f in one transaction, serialised with the other writes, after
// checking that the schema lock is still held.
func (s *Store) write(ctx context.Context, op string, f func(tx *sql.Tx) error) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.check(ctx); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.fail(ctx, op, err)
	}
	defer tx.Rollback()
	var held bool
	if err := s.scan(ctx, tx, "check_lock", "SELECT "+lockHeld, s.lockArgs(), &held); err != nil {
		return s.fail(ctx, op, err)
	}
	if !held {
		return s.lostLock(op)
	}
	if err := f(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return s.fail(ctx, op+": commit", err)
	}
	return nil
}
