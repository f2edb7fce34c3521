package sqlite

import (
	"context"
	"database/sql"
	"log/slog"
	"sync/atomic"
	"time"
)

// Checkpointing. Committed transactions are appended to the WAL file and
// copied into the database file by checkpoints. SQLite's automatic
// checkpoint runs inside the commit that crosses the threshold, which would
// stall whichever write crosses it (a safety-state save before a vote as
// much as a block). The store instead checkpoints from a goroutine of its
// own, with its own connection, a little after writes; the writer's
// automatic checkpoint stays on as a backstop at a larger WAL size
// (writerAutoCheckpoint) in case the goroutine falls behind.
const (
	// checkpointInterval is the least time between two background
	// checkpoints; writes in between are copied together.
	checkpointInterval = 250 * time.Millisecond
	// writerAutoCheckpoint is the backstop, in pages of the WAL.
	writerAutoCheckpoint = 65536
	// consensusOnlyAutoCheckpoint is the backstop of a consensus-only
	// store (WithConsensusOnly), whose writes are small and whose WAL is
	// to stay small on disk.
	consensusOnlyAutoCheckpoint = 256
)

// checkpointer runs PRAGMA wal_checkpoint(PASSIVE) after writes, at most
// every interval. PASSIVE never waits for readers or the writer: it copies
// what it can, and the next round copies the rest.
type checkpointer struct {
	db       *sql.DB
	log      *slog.Logger
	path     string
	interval time.Duration
	wake     chan struct{} // capacity 1: one pending request is enough
	stop     chan struct{}
	done     chan struct{}
	// rounds counts completed checkpoints.
	rounds atomic.Int64
}

func newCheckpointer(db *sql.DB, log *slog.Logger, path string, interval time.Duration) *checkpointer {
	c := &checkpointer{
		db:       db,
		log:      log,
		path:     path,
		interval: interval,
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go c.run()
	return c
}

// notify asks for a checkpoint; it never blocks.
func (c *checkpointer) notify() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// close stops the goroutine, interrupting a running checkpoint (SQLite
// leaves the files consistent), and waits for it.
func (c *checkpointer) close() {
	close(c.stop)
	<-c.done
}

func (c *checkpointer) run() {
	defer close(c.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-c.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	timer := time.NewTimer(0)
	defer timer.Stop()
	var last time.Time
	for {
		select {
		case <-c.stop:
			return
		case <-c.wake:
		}
		if wait := c.interval - time.Since(last); wait > 0 {
			timer.Reset(wait)
			select {
			case <-c.stop:
				return
			case <-timer.C:
			}
		}
		last = time.Now()
		var busy, walFrames, copied int64
		err := c.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &walFrames, &copied)
		if err != nil {
			if ctx.Err() == nil {
				c.log.Warn("sqlite: background checkpoint failed", "path", c.path, "err", err)
			}
			continue
		}
		c.rounds.Add(1)
		if copied < walFrames {
			// Readers still use older frames: try again later.
			c.notify()
		}
	}
}
