package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// migrationFiles holds the schema migrations, applied in version order.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// parseMigrationName splits a migration file name "NNNN_name.sql" into its
// version (at least 1) and name.
func parseMigrationName(file string) (int, string, error) {
	base, ok := strings.CutSuffix(file, ".sql")
	if !ok {
		return 0, "", fmt.Errorf("%w: file %q: want the suffix .sql", ErrBadMigration, file)
	}
	num, name, ok := strings.Cut(base, "_")
	if !ok || name == "" {
		return 0, "", fmt.Errorf("%w: file %q: want NNNN_name.sql", ErrBadMigration, file)
	}
	if num == "" || strings.TrimLeft(num, "0123456789") != "" {
		return 0, "", fmt.Errorf("%w: file %q: version %q: want decimal digits", ErrBadMigration, file, num)
	}
	v, err := strconv.Atoi(num)
	if err != nil || v < 1 {
		return 0, "", fmt.Errorf("%w: file %q: version %q: want a number from 1 to %d", ErrBadMigration, file, num, int(^uint(0)>>1))
	}
	return v, name, nil
}

// loadMigrations reads the embedded migrations.
func loadMigrations() ([]migration, error) {
	return readMigrations(migrationFiles, "migrations")
}

// readMigrations reads the *.sql files of dir in fsys, which must be
// numbered 1, 2, 3, ... without gaps or repeats.
func readMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadMigration, err)
	}
	var out []migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		v, name, err := parseMigrationName(e.Name())
		if err != nil {
			return nil, err
		}
		body, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadMigration, err)
		}
		out = append(out, migration{version: v, name: name, sql: string(body)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("%w: migration %d (%s): want version %d (versions run 1, 2, 3, ... without gaps or repeats)", ErrBadMigration, m.version, m.name, i+1)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no migrations in %s", ErrBadMigration, dir)
	}
	return out, nil
}

// migrate applies, in one transaction, the migrations the database has not
// recorded, and records them with the time now. It returns those applied.
func migrate(ctx context.Context, db *sql.DB, migs []migration, now time.Time) ([]migration, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("migrate: begin: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	)`); err != nil {
		return nil, fmt.Errorf("migrate: create migrations table: %w", err)
	}
	done := map[int]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT version FROM migrations`)
	if err != nil {
		return nil, fmt.Errorf("migrate: read migrations: %w", err)
	}
	newest := 0
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return nil, fmt.Errorf("migrate: read migrations: %w", err)
		}
		done[v] = true
		newest = max(newest, v)
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("migrate: read migrations: %w", err)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("migrate: read migrations: %w", err)
	}
	if known := migs[len(migs)-1].version; newest > known {
		return nil, fmt.Errorf("%w: it records migration %d, this program knows up to %d", ErrSchemaTooNew, newest, known)
	}
	var applied []migration
	for _, m := range migs {
		if done[m.version] {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return nil, fmt.Errorf("migrate: migration %d (%s): %w", m.version, m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.version, m.name, now.Unix()); err != nil {
			return nil, fmt.Errorf("migrate: record migration %d (%s): %w", m.version, m.name, err)
		}
		applied = append(applied, m)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("migrate: commit: %w", err)
	}
	return applied, nil
}
