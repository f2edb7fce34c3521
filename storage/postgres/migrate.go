package postgres

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/lib/pq"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one schema change, applied once and recorded.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the migrations named NNNN_name.sql from fsys, in
// version order; versions start at 1 and have no gaps.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("postgres: migrations: %w", err)
	}
	var ms []migration
	for _, file := range names {
		base := strings.TrimSuffix(path.Base(file), ".sql")
		num, name, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || name == "" {
			return nil, fmt.Errorf("postgres: migration file %q: want NNNN_name.sql with NNNN > 0", file)
		}
		body, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, fmt.Errorf("postgres: migration file %q: %w", file, err)
		}
		ms = append(ms, migration{version: v, name: name, sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("postgres: migration %d (%s): want version %d (versions start at 1 without gaps or repeats)", m.version, m.name, i+1)
		}
	}
	return ms, nil
}

// migrate creates the schema if needed and applies the missing migrations,
// all in one transaction, recording each in the migrations table.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		return err
	}
	return s.applyMigrations(ctx, ms)
}

func (s *Store) applyMigrations(ctx context.Context, ms []migration) error {
	fail := func(err error) error {
		return fmt.Errorf("postgres: migrate schema %q at %s: %w", s.schema, s.target, ctxErr(ctx, err))
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback()
	if _, err := s.exec(ctx, tx, "create_schema", "CREATE SCHEMA IF NOT EXISTS "+pq.QuoteIdentifier(s.schema)); err != nil {
		return fail(err)
	}
	if _, err := s.exec(ctx, tx, "create_migrations", `CREATE TABLE IF NOT EXISTS migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
		return fail(err)
	}
	applied := map[int]bool{}
	latest := 0
	err = s.each(ctx, tx, "load_migrations", "SELECT version FROM migrations", nil, func(r *sql.Rows) error {
		var v int
		if err := r.Scan(&v); err != nil {
			return err
		}
		applied[v] = true
		latest = max(latest, v)
		return nil
	})
	if err != nil {
		return fail(err)
	}
	if latest > len(ms) {
		return fmt.Errorf("postgres: schema %q at %s is at migration %d, this build knows %d: %w", s.schema, s.target, latest, len(ms), ErrSchemaVersion)
	}
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		if _, err := s.exec(ctx, tx, "migration_"+m.name, m.sql); err != nil {
			return fail(fmt.Errorf("migration %d (%s): %w", m.version, m.name, err))
		}
		if _, err := s.exec(ctx, tx, "record_migration", "INSERT INTO migrations (version, name) VALUES ($1, $2)", int64(m.version), m.name); err != nil {
			return fail(err)
		}
		s.log.Info("postgres: applied migration", "version", m.version, "name", m.name, "schema", s.schema)
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	return nil
}
