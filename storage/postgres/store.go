package postgres

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
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
	db *sql.DB
	// lockConnector, lockDB, lockConn and lockPID are the connection that
	// holds the schema lock; after Open they change only under writeMu
	// (relock), as does lockGone.
	lockConnector driver.Connector
	lockDB        *sql.DB
	lockConn      *sql.Conn
	lockKey       int64
	lockPID       int64
	// reconnect bounds relock (WithReconnectWindow).
	reconnect time.Duration
	// lockGone, once set, is the error of every write: another session
	// took the schema lock while this store's lock connection was down.
	lockGone error
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
	reconnect     time.Duration
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

// WithReconnectWindow bounds how long a write that finds the schema lock's
// connection gone (server restart, network cut, terminated backend) tries
// to reconnect and take the lock back before failing with ErrConnectionLost
// (default DefaultReconnectWindow; d <= 0 keeps the default). The write
// waits meanwhile, as do the writes behind it.
func WithReconnectWindow(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.reconnect = d
		}
	}
}

// ErrConnectionLost is returned by a write that found the connection
// holding the schema lock gone and could not reconnect to the server within
// the reconnect window (WithReconnectWindow). Nothing was written. It does
// not wrap storage.ErrLocked: no other process is known to hold the store,
// and a later write tries to reconnect again.
var ErrConnectionLost = errors.New("postgres: database connection lost")

const (
	// lockRetry is the pause between attempts to take the schema lock.
	lockRetry = 50 * time.Millisecond
	// DefaultReconnectWindow is how long a write tries to get the schema
	// lock back after its connection was lost.
	DefaultReconnectWindow = 10 * time.Second
	// reconnectBackoff and reconnectBackoffMax are the first and the
	// longest pause between reconnection attempts (doubling in between).
	reconnectBackoff    = 50 * time.Millisecond
	reconnectBackoffMax = time.Second
)

// Open connects, locks the schema, applies the migrations and returns the
// store. Errors: ErrInvalidConfig for a bad Config; storage.ErrLocked when
// another Store holds the schema; ErrSchemaVersion for a schema migrated by
// a newer build; connection errors from the driver, wrapped with the target
// (never the password).
func Open(ctx context.Context, cfg Config, opts ...Option) (*Store, error) {
	o := options{log: slog.New(slog.NewTextHandler(io.Discard, nil)), reconnect: DefaultReconnectWindow}
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
		lockConnector: lockConnector,
		lockKey:       lockKey(set.schema),
		reconnect:     o.reconnect,
		target:        target,
		schema:        set.schema,
		log:           o.log,
		slow:          set.slowThreshold,

		consensusOnly: o.consensusOnly,
	}
	if err := s.acquireLock(ctx, o.lockTimeout); err != nil {
		s.dropLock()
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

// acquireLock takes the schema's advisory lock on a dedicated connection,
// retrying for up to wait while another session holds it.
func (s *Store) acquireLock(ctx context.Context, wait time.Duration) error {
	conn, err := s.connectLock(ctx)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(wait)
	for {
		ok, err := s.tryLock(ctx, conn)
		if err != nil {
			conn.Close()
			return err
		}
		if ok {
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

// connectLock opens the lock connection: a pool of one (s.lockDB, opened
// on s.lockConnector when nil), held as a *sql.Conn so that the pool never
// recycles it.
func (s *Store) connectLock(ctx context.Context) (*sql.Conn, error) {
	if s.lockDB == nil {
		s.lockDB = sql.OpenDB(s.lockConnector)
		s.lockDB.SetMaxOpenConns(1)
	}
	conn, err := s.lockDB.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect to %s: %w", s.target, ctxErr(ctx, err))
	}
	// A server-wide idle_session_timeout (PostgreSQL 14+) must not end the
	// session that holds the lock; older servers reject the setting, which
	// is harmless.
	if _, err := conn.ExecContext(ctx, "SET idle_session_timeout = 0"); err != nil && pq.As(err, pqerror.UndefinedObject) == nil {
		conn.Close()
		return nil, fmt.Errorf("postgres: connect to %s: %w", s.target, ctxErr(ctx, err))
	}
	return conn, nil
}

// tryLock tries once to take the schema lock on conn; when it does, conn
// becomes the lock connection.
func (s *Store) tryLock(ctx context.Context, conn *sql.Conn) (bool, error) {
	var (
		ok  bool
		pid int64
	)
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1), pg_backend_pid()", s.lockKey).Scan(&ok, &pid); err != nil {
		return false, fmt.Errorf("postgres: lock schema %q at %s: %w", s.schema, s.target, ctxErr(ctx, err))
	}
	if ok {
		s.lockConn, s.lockPID = conn, pid
	}
	return ok, nil
}

// dropLock closes the lock connection and its pool, if any. Ending the
// session frees the lock if it still held it.
func (s *Store) dropLock() {
	if s.lockConn != nil {
		s.lockConn.Close()
		s.lockConn = nil
	}
	if s.lockDB != nil {
		s.lockDB.Close()
		s.lockDB = nil
	}
}

// relock is called, under writeMu, by a write that found the schema lock
// no longer held by the lock connection's session: that connection was lost
// (the server ends a session's advisory locks with it). It reconnects and
// takes the lock again, retrying with backoff for up to s.reconnect while
// the server is unreachable. When another session holds the lock, that
// process took the store meanwhile: the store then refuses every later
// write (lockGone), as this process can no longer know what was written.
// Errors: wrapping ErrLockLost and storage.ErrLocked when another session
// holds the lock; ErrConnectionLost when the server stayed unreachable;
// ctx's error when ctx ended first.
func (s *Store) relock(ctx context.Context, op string) error {
	s.log.Warn("postgres: the connection holding the schema lock was lost; reconnecting", "schema", s.schema, "target", s.target, "pid", s.lockPID)
	s.dropLock()
	start := time.Now()
	rctx, cancel := context.WithTimeout(ctx, s.reconnect)
	defer cancel()
	pause := reconnectBackoff
	var last error
	for attempt := 1; ; attempt++ {
		conn, err := s.connectLock(rctx)
		if err == nil {
			var ok bool
			ok, err = s.tryLock(rctx, conn)
			switch {
			case err != nil:
				conn.Close()
			case ok:
				s.log.Warn("postgres: schema lock taken back after reconnecting", "schema", s.schema, "pid", s.lockPID, "attempts", attempt, "after", time.Since(start))
				return nil
			default:
				conn.Close()
				s.dropLock()
				s.lockGone = fmt.Errorf("schema %q at %s: another process took the store while this one's connection to the database was down: %w: %w", s.schema, s.target, ErrLockLost, storage.ErrLocked)
				s.log.Error("postgres: another process took the store while its lock connection was down; refusing to write", "schema", s.schema, "target", s.target)
				return fmt.Errorf("postgres: %s: %w", op, s.lockGone)
			}
		}
		s.dropLock()
		if ctx.Err() != nil {
			return fmt.Errorf("postgres: %s: reconnecting to take the schema lock back: %w", op, ctx.Err())
		}
		if last == nil || rctx.Err() == nil {
			// Keep the server's error rather than the window's end.
			last = err
		}
		if rctx.Err() != nil || time.Until(deadlineOf(rctx)) < pause {
			return fmt.Errorf("postgres: %s: schema %q: %w: could not reconnect to %s to take the schema lock back (%d attempts in %v): %v",
				op, s.schema, ErrConnectionLost, s.target, attempt, time.Since(start).Round(time.Millisecond), last)
		}
		select {
		case <-rctx.Done():
		case <-time.After(pause):
		}
		pause = min(2*pause, reconnectBackoffMax)
	}
}

// deadlineOf is ctx's deadline (relock's ctx always has one).
func deadlineOf(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
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
	if s.lockConn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, uerr := s.lockConn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", s.lockKey); uerr != nil {
			s.log.Warn("postgres: unlock schema failed; closing its connection frees the lock", "schema", s.schema, "err", uerr)
		}
	}
	s.dropLock()
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

// lostLock is the error of a write that found the lock gone right after
// relock had taken it back.
func (s *Store) lostLock(op string) error {
	return fmt.Errorf("postgres: %s: schema %q: %w: %w", op, s.schema, ErrLockLost, storage.ErrLocked)
}

// whileLocked runs attempt, a write that commits only while the lock
// connection's session holds the schema lock and reports whether it did
// (held false: nothing was written). Called under writeMu. When the lock
// was lost it reconnects, takes the lock back (relock) and runs attempt
// once more; when another process took the store meanwhile, this and every
// later write fail with an error wrapping storage.ErrLocked. attempt's
// error is returned as it is.
func (s *Store) whileLocked(ctx context.Context, op string, attempt func() (held bool, err error)) error {
	if s.lockGone != nil {
		return fmt.Errorf("postgres: %s: %w", op, s.lockGone)
	}
	if s.lockConn != nil {
		held, err := attempt()
		if err != nil || held {
			return err
		}
	}
	// No lock connection (a relock that failed) or a lost one.
	if err := s.relock(ctx, op); err != nil {
		return err
	}
	held, err := attempt()
	if err != nil || held {
		return err
	}
	return s.lostLock(op)
}

// writeStatement runs the pooled statement name, a write that writes only
// while the schema lock is held (its first arguments are lockArgs) and
// returns whether it was; args are its other arguments.
func (s *Store) writeStatement(ctx context.Context, op, name string, args ...any) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.check(ctx); err != nil {
		return err
	}
	return s.whileLocked(ctx, op, func() (bool, error) {
		var held bool
		if err := s.poolRow(ctx, name, append(s.lockArgs(), args...), &held); err != nil {
			return false, s.fail(ctx, op, err)
		}
		return held, nil
	})
}

// write runs f in one transaction, serialised with the other writes, that
// commits only while the schema lock is held: the lock is checked in the
// transaction before f and again before the commit, so a lock lost while f
// ran rolls the transaction back (and whileLocked retries it once the lock
// is taken back).
func (s *Store) write(ctx context.Context, op string, f func(tx *sql.Tx) error) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.check(ctx); err != nil {
		return err
	}
	return s.whileLocked(ctx, op, func() (bool, error) {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return false, s.fail(ctx, op, err)
		}
		defer tx.Rollback()
		held, err := s.lockHeldIn(ctx, tx, op)
		if err != nil || !held {
			return false, err
		}
		if err := f(tx); err != nil {
			return true, err
		}
		if held, err = s.lockHeldIn(ctx, tx, op); err != nil || !held {
			return false, err
		}
		if err := tx.Commit(); err != nil {
			return true, s.fail(ctx, op+": commit", err)
		}
		return true, nil
	})
}

// lockHeldIn reports, in tx, whether the lock connection's session holds
// the schema lock.
func (s *Store) lockHeldIn(ctx context.Context, tx *sql.Tx, op string) (bool, error) {
	var held bool
	if err := s.scan(ctx, tx, "check_lock", "SELECT "+lockHeld, s.lockArgs(), &held); err != nil {
		return false, s.fail(ctx, op, err)
	}
	return held, nil
}
