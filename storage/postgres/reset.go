package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/lib/pq"
)

// storeTables are the tables a store creates (the migrations and the
// migrations table), which Reset drops from the public schema.
var storeTables = []string{
	"migrations", "header", "leaf", "payload", "transactions", "namespace",
	"pruned_height", "live_size", "safety", "proposals", "chain_state", "genesis",
}

// Reset deletes everything the store keeps in cfg's schema, for
// reset-storage. It takes the schema lock first, so it fails with an error
// wrapping storage.ErrLocked while a Store (a running node) holds it
// (WithLockTimeout makes it wait). A schema of its own is dropped whole,
// whatever migration it is at; in the shared "public" schema only the
// store's tables are dropped. Resetting a schema that does not exist does
// nothing. The next Open starts from an empty store.
func Reset(ctx context.Context, cfg Config, opts ...Option) error {
	o := options{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, opt := range opts {
		opt(&o)
	}
	set, err := cfg.resolve()
	if err != nil {
		return err
	}
	connector, err := pq.NewConnectorConfig(set.pqConfig())
	if err != nil {
		return fmt.Errorf("postgres: reset %s: %w", set.target(), err)
	}
	s := &Store{lockKey: lockKey(set.schema), target: set.target(), schema: set.schema, log: o.log}
	s.lockDB = sql.OpenDB(connector)
	s.lockDB.SetMaxOpenConns(1)
	if err := s.acquireLock(ctx, o.lockTimeout); err != nil {
		s.lockDB.Close()
		return err
	}
	defer s.release()

	stmt := dropSchemaSQL(set.schema)
	if set.schema == DefaultSchema {
		stmt = dropTablesSQL(set.schema)
	}
	if _, err := s.lockConn.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("postgres: reset schema %q at %s: %w", set.schema, s.target, ctxErr(ctx, err))
	}
	s.log.Info("postgres: store reset", "target", s.target)
	return nil
}

// dropSchemaSQL drops a schema with everything in it.
func dropSchemaSQL(schema string) string {
	return "DROP SCHEMA IF EXISTS " + pq.QuoteIdentifier(schema) + " CASCADE"
}

// dropTablesSQL drops the store's tables from a schema shared with others.
func dropTablesSQL(schema string) string {
	quoted := make([]string, len(storeTables))
	for i, t := range storeTables {
		quoted[i] = pq.QuoteIdentifier(schema) + "." + pq.QuoteIdentifier(t)
	}
	return "DROP TABLE IF EXISTS " + strings.Join(quoted, ", ") + " CASCADE"
}
