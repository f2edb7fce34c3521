package storeopen

import (
	"bytes"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lib/pq"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/postgres"
	"github.com/gospresso/gospresso/types"
)

// entries lists the names in dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestResetFS(t *testing.T) {
	dir := t.TempDir()
	cfg := parse(t, "-- storage-fs --path "+dir+withQuery, nil)
	st, _, err := Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, st, 5)
	if err := st.SaveSafety(t.Context(), types.SafetyState{View: 9, LastVotedView: 9}); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveProposal(t.Context(), storage.StoredProposal{View: 10, Data: []byte("p")}); err != nil {
		t.Fatal(err)
	}
	// A running node's store is refused, and nothing is removed.
	before := entries(t, dir)
	if removed, err := Reset(t.Context(), cfg); !errors.Is(err, storage.ErrLocked) || len(removed) != 0 {
		t.Fatalf("reset while open: %v, %v", removed, err)
	}
	if after := entries(t, dir); !slices.Equal(before, after) {
		t.Fatalf("a refused reset changed %v into %v", before, after)
	}
	st.Close()

	// The SQL default store below the same --path is another backend's.
	sqliteDir := filepath.Join(dir, "sqlite")
	if err := os.MkdirAll(sqliteDir, 0o750); err != nil {
		t.Fatal(err)
	}
	removed, err := Reset(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"highest_voted_view", "quorum_proposals2", "hotshot_data_source", "lock"} {
		if !slices.Contains(removed, "removed "+filepath.Join(dir, want)) {
			t.Errorf("removed %v lacks %s", removed, want)
		}
	}
	if got := entries(t, dir); !slices.Equal(got, []string{"sqlite"}) {
		t.Fatalf("left %v", got)
	}
	// The store opens empty.
	st, _, err = Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.LoadSafety(t.Context()); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("safety after reset: %v", err)
	}
	if h, err := st.BlockHeight(t.Context()); err != nil || h != 0 {
		t.Fatalf("height after reset: %d, %v", h, err)
	}
	st.Close()
}

func TestResetFSNothingOrNotAStore(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		path string
	}{
		{"missing", filepath.Join(dir, "missing")},
		{"empty", dir},
	} {
		removed, err := Reset(t.Context(), parse(t, "-- storage-fs --path "+tc.path, nil))
		if err != nil || len(removed) != 0 {
			t.Errorf("%s: %v, %v", tc.name, removed, err)
		}
	}
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(filepath.Join(home, "Documents"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "notes.txt"), []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	removed, err := Reset(t.Context(), parse(t, "-- storage-fs --path "+home, nil))
	if !errors.Is(err, ErrNotStore) || len(removed) != 0 || !strings.Contains(err.Error(), "nothing removed") {
		t.Fatalf("not a store: %v, %v", removed, err)
	}
	if got := entries(t, home); !slices.Equal(got, []string{"Documents", "notes.txt"}) {
		t.Fatalf("left %v", got)
	}
}

func TestResetSQLite(t *testing.T) {
	dir := t.TempDir()
	cfg := parse(t, "-- storage-sql --path "+dir, nil)
	st, _, err := Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, st, 5)
	db := filepath.Join(dir, "sqlite", "database")
	if removed, err := Reset(t.Context(), cfg); !errors.Is(err, storage.ErrLocked) || len(removed) != 0 {
		t.Fatalf("reset while open: %v, %v", removed, err)
	}
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("a refused reset removed the database: %v", err)
	}
	st.Close()
	removed, err := Reset(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(removed, "removed "+db) || !slices.Contains(removed, "removed "+db+".lock") {
		t.Fatalf("removed %v", removed)
	}
	if got := entries(t, filepath.Join(dir, "sqlite")); len(got) != 0 {
		t.Fatalf("left %v", got)
	}
	// Again: nothing to remove.
	if removed, err := Reset(t.Context(), cfg); err != nil || len(removed) != 0 {
		t.Fatalf("second reset: %v, %v", removed, err)
	}
	st, _, err = Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if h, err := st.BlockHeight(t.Context()); err != nil || h != 0 {
		t.Fatalf("height after reset: %d, %v", h, err)
	}
}

func TestResetSQLiteNotADatabase(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "important.txt")
	if err := os.WriteFile(file, []byte("not a database at all"), 0o600); err != nil {
		t.Fatal(err)
	}
	removed, err := Reset(t.Context(), parse(t, "-- storage-sql sqlite://"+file, nil))
	if !errors.Is(err, ErrNotStore) || len(removed) != 0 {
		t.Fatalf("not a database: %v, %v", removed, err)
	}
	if b, err := os.ReadFile(file); err != nil || !bytes.Equal(b, []byte("not a database at all")) {
		t.Fatalf("file changed: %q, %v", b, err)
	}
	if err := os.Mkdir(filepath.Join(dir, "d"), 0o750); err != nil {
		t.Fatal(err)
	}
	if _, err := Reset(t.Context(), parse(t, "-- storage-sql sqlite://"+filepath.Join(dir, "d"), nil)); !errors.Is(err, ErrNotStore) {
		t.Fatalf("a directory: %v", err)
	}
}

func TestResetPostgres(t *testing.T) {
	uri, schema := testPostgres(t)
	cfg := parse(t, "-- storage-sql "+uri, nil)
	st, _, err := Open(t.Context(), cfg, WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	fill(t, st, 5)
	if removed, err := Reset(t.Context(), cfg, WithSchema(schema)); !errors.Is(err, storage.ErrLocked) || len(removed) != 0 {
		t.Fatalf("reset while open: %v, %v", removed, err)
	}
	st.Close()
	removed, err := Reset(t.Context(), cfg, WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || !strings.HasPrefix(removed[0], "dropped schema "+schema+" (") {
		t.Fatalf("removed %v", removed)
	}
	st, _, err = Open(t.Context(), cfg, WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if h, err := st.BlockHeight(t.Context()); err != nil || h != 0 {
		t.Fatalf("height after reset: %d, %v", h, err)
	}
}

// A schema written by a newer build does not open, and is exactly what an
// operator resets: the reset drops it anyway.
func TestResetPostgresNewerSchema(t *testing.T) {
	uri, schema := testPostgres(t)
	cfg := parse(t, "-- storage-sql "+uri, nil)
	st, _, err := Open(t.Context(), cfg, WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	connector, err := pq.NewConnector(uri)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), "INSERT INTO "+pq.QuoteIdentifier(schema)+".migrations (version, name) VALUES (9999, 'from_the_future')"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Open(t.Context(), cfg, WithSchema(schema)); !errors.Is(err, postgres.ErrSchemaVersion) {
		t.Fatalf("open a newer schema: %v", err)
	}
	removed, err := Reset(t.Context(), cfg, WithSchema(schema))
	if err != nil || len(removed) != 1 || !strings.HasPrefix(removed[0], "dropped schema "+schema) {
		t.Fatalf("reset: %v, %v", removed, err)
	}
	st, _, err = Open(t.Context(), cfg, WithSchema(schema))
	if err != nil {
		t.Fatalf("open after reset: %v", err)
	}
	st.Close()
}
