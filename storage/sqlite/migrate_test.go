package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gospresso/gospresso/storage/filelock"
)

func TestParseMigrationName(t *testing.T) {
	tests := []struct {
		file    string
		version int
		name    string
		err     string
	}{
		{"0001_init.sql", 1, "init", ""},
		{"12_add_index.sql", 12, "add_index", ""},
		{"0001_init.txt", 0, "", "want the suffix .sql"},
		{"init.sql", 0, "", "want NNNN_name.sql"},
		{"0001_.sql", 0, "", "want NNNN_name.sql"},
		{"_init.sql", 0, "", `version "": want decimal digits`},
		{"x1_init.sql", 0, "", `version "x1": want decimal digits`},
		{"-1_init.sql", 0, "", `version "-1": want decimal digits`},
		{"0000_zero.sql", 0, "", `version "0000": want a number from 1`},
		{"99999999999999999999_big.sql", 0, "", "want a number from 1"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			v, name, err := parseMigrationName(tt.file)
			if tt.err != "" {
				if !errors.Is(err, ErrBadMigration) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("parse %q: %v, want ErrBadMigration containing %q", tt.file, err, tt.err)
				}
				return
			}
			if err != nil || v != tt.version || name != tt.name {
				t.Fatalf("parse %q = %d, %q, %v; want %d, %q", tt.file, v, name, err, tt.version, tt.name)
			}
		})
	}
}

func FuzzParseMigrationName(f *testing.F) {
	for _, s := range []string{"0001_init.sql", "2_x.sql", "init.sql", "_.sql", "0_a.sql", "1_", "", "9999999999999999999_a.sql"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, file string) {
		v, name, err := parseMigrationName(file)
		if err != nil {
			if !errors.Is(err, ErrBadMigration) {
				t.Fatalf("error %v does not wrap ErrBadMigration", err)
			}
			return
		}
		if v < 1 || name == "" || !strings.HasSuffix(file, "_"+name+".sql") {
			t.Fatalf("parse %q = %d, %q: inconsistent", file, v, name)
		}
	})
}

func TestReadMigrations(t *testing.T) {
	sql := &fstest.MapFile{Data: []byte("CREATE TABLE t (x INTEGER);")}
	tests := []struct {
		name  string
		files fstest.MapFS
		want  []int
		err   string
	}{
		{"ordered", fstest.MapFS{"m/0002_b.sql": sql, "m/0001_a.sql": sql, "m/README": sql}, []int{1, 2}, ""},
		{"gap", fstest.MapFS{"m/0001_a.sql": sql, "m/0003_c.sql": sql}, nil, "migration 3 (c): want version 2"},
		{"repeat", fstest.MapFS{"m/0001_a.sql": sql, "m/1_b.sql": sql}, nil, "want version 2"},
		{"not from one", fstest.MapFS{"m/0002_b.sql": sql}, nil, "want version 1"},
		{"bad name", fstest.MapFS{"m/first.sql": sql}, nil, "want NNNN_name.sql"},
		{"empty", fstest.MapFS{"m/README": sql}, nil, "no migrations in m"},
		{"no directory", fstest.MapFS{}, nil, "m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			migs, err := readMigrations(tt.files, "m")
			if tt.err != "" {
				if !errors.Is(err, ErrBadMigration) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("read: %v, want ErrBadMigration containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, m := range migs {
				got = append(got, m.version)
			}
			if len(got) != len(tt.want) || got[0] != tt.want[0] || got[len(got)-1] != tt.want[len(tt.want)-1] {
				t.Fatalf("versions %v, want %v", got, tt.want)
			}
		})
	}
}

// TestEmbeddedMigrations checks the shipped migration files.
func TestEmbeddedMigrations(t *testing.T) {
	migs, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if migs[0].version != 1 || migs[0].name != "init" {
		t.Fatalf("first migration %d %s, want 1 init", migs[0].version, migs[0].name)
	}
}

type appliedMigration struct {
	version   int
	name      string
	appliedAt int64
}

func readApplied(t *testing.T, db *sql.DB) []appliedMigration {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT version, name, applied_at FROM migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []appliedMigration
	for rows.Next() {
		var m appliedMigration
		if err := rows.Scan(&m.version, &m.name, &m.appliedAt); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMigrationsRecordedOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "database")
	before := time.Now().Unix()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	migs, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	first := readApplied(t, s.r)
	if len(first) != len(migs) {
		t.Fatalf("%d migrations recorded, want %d", len(first), len(migs))
	}
	for i, m := range first {
		if m.version != migs[i].version || m.name != migs[i].name || m.appliedAt < before || m.appliedAt > time.Now().Unix() {
			t.Fatalf("recorded %+v, want version %d %s applied now", m, migs[i].version, migs[i].name)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopening applies nothing: the same rows, and migrate reports none.
	s, err = Open(t.Context(), path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	if again := readApplied(t, s.r); len(again) != len(first) || again[0] != first[0] {
		t.Fatalf("after reopen %+v, want %+v", again, first)
	}
	s.wmu.Lock()
	applied, err := migrate(t.Context(), s.w, migs, time.Now())
	s.wmu.Unlock()
	if err != nil || len(applied) != 0 {
		t.Fatalf("migrate on a migrated store applied %d, %v; want none", len(applied), err)
	}
}

func TestMigrationFailureRollsBack(t *testing.T) {
	s := openTemp(t)
	migs, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	bad := append(migs, migration{version: len(migs) + 1, name: "ok", sql: "CREATE TABLE extra (x INTEGER)"},
		migration{version: len(migs) + 2, name: "broken", sql: "CREATE TABLE nonsense ("})
	s.wmu.Lock()
	_, err = migrate(t.Context(), s.w, bad, time.Now())
	s.wmu.Unlock()
	if err == nil || !strings.Contains(err.Error(), "broken") {
		t.Fatalf("migrate with a broken migration: %v, want an error naming it", err)
	}
	// Neither the good nor the broken migration was recorded or applied.
	if got := readApplied(t, s.r); len(got) != len(migs) {
		t.Fatalf("%d migrations recorded after the failure, want %d", len(got), len(migs))
	}
	var n int
	if err := s.r.QueryRowContext(t.Context(), `SELECT count(*) FROM sqlite_master WHERE name = 'extra'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("table extra: count %d, %v; want rolled back", n, err)
	}
}

func TestSchemaTooNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "database")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(t.Context(), `INSERT INTO migrations (version, name, applied_at) VALUES (999, 'future', 0)`); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = Open(context.Background(), path)
	if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), "records migration 999") {
		t.Fatalf("open of a newer schema: %v, want ErrSchemaTooNew naming 999", err)
	}
	// The failed Open released the lock.
	s, err = Open(t.Context(), path+"-other")
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	f, err := filelock.Lock(path + ".lock")
	if err != nil {
		t.Fatalf("lock after a failed open: %v", err)
	}
	f.Close()
}
