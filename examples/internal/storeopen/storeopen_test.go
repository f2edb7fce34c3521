package storeopen

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gospresso/gospresso/internal/pgtest"
	"github.com/gospresso/gospresso/types"

	"github.com/gospresso/gospresso/examples/internal/options"
	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/fs"
	"github.com/gospresso/gospresso/storage/postgres"
	"github.com/gospresso/gospresso/storage/pruner"
	"github.com/gospresso/gospresso/storage/sqlite"
	"github.com/gospresso/gospresso/storage/storagetest"
)

// parse parses a command line (without the program name).
func parse(t *testing.T, args string, env map[string]string) *options.Config {
	t.Helper()
	cfg, err := options.Parse(strings.Fields(args), mapEnv(env))
	if err != nil {
		t.Fatalf("options.Parse(%q): %v", args, err)
	}
	return cfg
}

func mapEnv(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

// withQuery adds the query module to a command line: the store is then
// opened in full, not consensus-only.
const withQuery = " -- http -- query"

func TestPlan(t *testing.T) {
	defaultPrune := pruner.DefaultConfig()
	lightPrune := pruner.Config{Threshold: 100_000_000_000, MinimumRetention: 12 * time.Hour, TargetRetention: 3 * 24 * time.Hour,
		BatchSize: 5000, MaxUsage: 7000, Interval: 2 * time.Hour}
	for _, tc := range []struct {
		name     string
		args     string
		env      map[string]string
		backend  string
		location string
		notice   bool
		prune    *pruner.Config
		archive  bool
		light    bool
		desc     []string // substrings of the description
	}{
		{name: "no storage module", args: "", backend: BackendFS, location: "file-system storage ./storage", notice: true,
			desc: []string{"file-system storage at ./storage (no storage module)"}},
		{name: "storage-fs", args: "-- storage-fs --path /data/fs", backend: BackendFS, location: "file-system storage /data/fs",
			desc: []string{"storage-fs: file-system storage at /data/fs", "view retention 130000"}},
		{name: "storage alias with env path", args: "-- storage", env: map[string]string{"ESPRESSO_SEQUENCER_STORAGE_PATH": "/srv/s"},
			backend: BackendFS, location: "file-system storage /srv/s"},
		{name: "sqlite default", args: "-- storage-sql --path /data", backend: BackendSQLite,
			location: "SQLite /data/sqlite/database", desc: []string{"storage-sql: SQLite at /data/sqlite/database"}},
		{name: "sqlite uri", args: "-- storage-sql sqlite:///var/db/seq.sqlite", backend: BackendSQLite,
			location: "SQLite /var/db/seq.sqlite"},
		{name: "postgres uri", args: "-- storage-sql postgres://alice:s3cret@db.example:6543/espresso?sslmode=disable",
			backend: BackendPostgres, location: "Postgres alice@db.example:6543/espresso schema public",
			desc: []string{"storage-sql: Postgres alice@db.example:6543/espresso (schema public, TLS off)"}},
		{name: "postgres host env", args: "-- storage-sql", env: map[string]string{"ESPRESSO_SEQUENCER_POSTGRES_HOST": "db-0",
			"ESPRESSO_SEQUENCER_POSTGRES_PASSWORD": "s3cret", "ESPRESSO_SEQUENCER_POSTGRES_USE_TLS": "true"},
			backend: BackendPostgres, location: "Postgres postgres@db-0:5432/postgres schema public",
			desc: []string{"(schema public, TLS on)"}},
		{name: "prune defaults", args: "-- storage-sql --prune --path /d", backend: BackendSQLite, location: "SQLite /d/sqlite/database",
			prune: &defaultPrune, desc: []string{"pruning (above 3000000000000 bytes down to 80.00 % of it; keep 24h0m0s, up to 168h0m0s when space permits; 30000 blocks per batch; every 1h30m0s)"}},
		{name: "prune lightweight profile by env", args: "-- storage-sql --host db", env: map[string]string{
			"ESPRESSO_SEQUENCER_POSTGRES_PRUNE": "true", "ESPRESSO_SEQUENCER_PRUNER_BATCH_SIZE": "5000",
			"ESPRESSO_SEQUENCER_PRUNER_TARGET_RETENTION": "3d", "ESPRESSO_SEQUENCER_PRUNER_MINIMUM_RETENTION": "12h",
			"ESPRESSO_SEQUENCER_PRUNER_INTERVAL": "2h", "ESPRESSO_SEQUENCER_PRUNER_MAX_USAGE": "7000",
			"ESPRESSO_SEQUENCER_PRUNER_PRUNING_THRESHOLD": "100 GB"},
			backend: BackendPostgres, location: "Postgres postgres@db:5432/postgres schema public", prune: &lightPrune},
		{name: "archive", args: "-- storage-sql --archive --path /d", backend: BackendSQLite, location: "SQLite /d/sqlite/database",
			archive: true, desc: []string{", archive (pruned data is fetched again)"}},
		{name: "lightweight", args: "-- storage-sql --lightweight --path /d", backend: BackendSQLite, location: "SQLite /d/sqlite/database",
			light: true, desc: []string{", lightweight (leaves and headers only)"}},
		{name: "storage-fs with query", args: "-- storage-fs --path /data/fs" + withQuery, backend: BackendFS, location: "file-system storage /data/fs",
			desc: []string{"storage-fs: file-system storage at /data/fs (consensus view retention 130000)"}},
		{name: "postgres with query", args: "-- storage-sql --host db" + withQuery, backend: BackendPostgres,
			location: "Postgres postgres@db:5432/postgres schema public"},
		{name: "lightweight with query", args: "-- storage-sql --lightweight --path /d" + withQuery, backend: BackendSQLite,
			location: "SQLite /d/sqlite/database", light: true, desc: []string{", lightweight (leaves and headers only)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info, err := Plan(parse(t, tc.args, tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if info.Backend != tc.backend || info.Location != tc.location || (info.Notice != "") != tc.notice ||
				info.Archive != tc.archive || info.Lightweight != tc.light {
				t.Fatalf("info %+v", info)
			}
			// Without the query module the node is a lightweight node.
			wantCO := !strings.Contains(tc.args, "query")
			if info.ConsensusOnly != wantCO || strings.HasSuffix(info.Description, ", lightweight: consensus data only") != wantCO {
				t.Fatalf("consensus-only %v, description %q; want consensus-only %v", info.ConsensusOnly, info.Description, wantCO)
			}
			if tc.notice && info.Notice != "no storage module: consensus data in file-system storage at ./storage" {
				t.Fatalf("notice %q", info.Notice)
			}
			switch {
			case tc.prune == nil && info.Prune != nil:
				t.Fatalf("prune %+v, want none", *info.Prune)
			case tc.prune != nil && (info.Prune == nil || *info.Prune != *tc.prune):
				t.Fatalf("prune %+v, want %+v", info.Prune, *tc.prune)
			}
			for _, d := range tc.desc {
				if !strings.Contains(info.Description, d) {
					t.Errorf("description %q lacks %q", info.Description, d)
				}
			}
			if strings.Contains(info.Description+info.Location, "s3cret") || strings.Contains(info.Description, "\n") {
				t.Errorf("description %q leaks the password or spans lines", info.Description)
			}
		})
	}
}

func TestPlanErrors(t *testing.T) {
	if _, err := Plan(nil); !errors.Is(err, ErrConfig) {
		t.Errorf("nil: %v", err)
	}
	both := &options.Config{StorageFS: &options.StorageFSModule{Path: "a"}, StorageSQL: &options.StorageSQLModule{}}
	if _, err := Plan(both); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "got both storage-fs and storage-sql") {
		t.Errorf("both: %v", err)
	}
	// A module not filled by options.Parse has no backend.
	if _, err := Plan(&options.Config{StorageSQL: &options.StorageSQLModule{}}); !errors.Is(err, ErrConfig) {
		t.Errorf("unparsed: %v", err)
	}
	cfg := parse(t, "-- storage-sql --prune --interval 0s", nil)
	if _, err := Plan(cfg); !errors.Is(err, pruner.ErrInvalidConfig) || !strings.Contains(err.Error(), "Interval") {
		t.Errorf("zero interval: %v", err)
	}
	if _, _, err := Open(t.Context(), cfg); !errors.Is(err, pruner.ErrInvalidConfig) {
		t.Errorf("Open with zero interval: %v", err)
	}
}

func TestOpenFS(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fs")
	cfg := parse(t, "-- storage-fs --path "+dir+" --consensus-view-retention 100", nil)
	st, info, err := Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.(*fs.Store); !ok || info.Backend != BackendFS || info.Prune != nil {
		t.Fatalf("store %T, info %+v", st, info)
	}
	if _, err := os.Stat(filepath.Join(dir, "lock")); err != nil {
		t.Fatalf("no store at --path: %v", err)
	}
	// One process at a time.
	if _, _, err := Open(t.Context(), cfg); !errors.Is(err, storage.ErrLocked) ||
		!strings.HasPrefix(err.Error(), "storage: open file-system storage "+dir+": ") {
		t.Fatalf("second open: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	// The pruner refuses the file-system backend.
	st, _, err = Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := pruner.New(st, pruner.DefaultConfig()); !errors.Is(err, storage.ErrNotSupported) {
		t.Fatalf("pruner on fs: %v", err)
	}
}

func TestOpenFSPruneRefused(t *testing.T) {
	dir := t.TempDir()
	cfg := parse(t, "-- storage-fs --path "+dir, nil)
	for _, name := range pruneEnv {
		for _, v := range []string{"true", "1", "TRUE"} {
			_, _, err := Open(t.Context(), cfg, WithEnv(mapEnv(map[string]string{name: v})))
			if !errors.Is(err, fs.ErrPruningUnsupported) || !errors.Is(err, storage.ErrNotSupported) ||
				!strings.HasPrefix(err.Error(), "storage-fs: "+name+"="+v+" asks for pruning: fs: pruning of old data is not supported") {
				t.Errorf("%s=%s: %v", name, v, err)
			}
		}
	}
	// Off, or without the environment: fine.
	for _, env := range []Option{WithEnv(mapEnv(map[string]string{pruneEnv[0]: "false"})), WithEnv(nil)} {
		st, _, err := Open(t.Context(), cfg, env)
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
	}
	// The flag after storage-fs is refused by options.Parse, pointing at
	// storage-sql.
	_, err := options.Parse([]string{"--", "storage-fs", "--prune"}, nil)
	if !errors.Is(err, options.ErrUsage) || !strings.Contains(err.Error(), "it is an option of module storage-sql") {
		t.Errorf("--prune after storage-fs: %v", err)
	}
}

func TestOpenDefault(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	st, info, err := Open(t.Context(), parse(t, "", nil))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, ok := st.(*fs.Store); !ok || info.Notice == "" {
		t.Fatalf("store %T, info %+v", st, info)
	}
	if _, err := os.Stat(filepath.Join(dir, "storage", "lock")); err != nil {
		t.Fatalf("no store at ./storage: %v", err)
	}
}

// fill saves n blocks of the test chain.
func fill(t *testing.T, st storage.Store, n int) []types.Block {
	t.Helper()
	blocks := storagetest.Chain(n, 3, 64)
	if err := st.SaveDecided(t.Context(), blocks); err != nil {
		t.Fatal(err)
	}
	return blocks
}

func TestOpenSQLite(t *testing.T) {
	dir := t.TempDir()
	cfg := parse(t, "-- storage-sql --path "+dir+" --prune --database-max-connections 4", nil)
	st, info, err := Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := st.(*sqlite.Store)
	if !ok || info.Backend != BackendSQLite || info.Prune == nil {
		t.Fatalf("store %T, info %+v", st, info)
	}
	if want := filepath.Join(dir, "sqlite", "database"); s.Path() != want {
		t.Fatalf("path %s, want %s", s.Path(), want)
	}
	if _, _, err := Open(t.Context(), cfg); !errors.Is(err, storage.ErrLocked) {
		t.Fatalf("second open: %v", err)
	}
	// The configuration Open returns runs the pruner on the store.
	if _, err := pruner.New(st, *info.Prune); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// A sqlite:// URI names the file.
	file := filepath.Join(dir, "other.db")
	st, _, err = Open(t.Context(), parse(t, "-- storage-sql sqlite://"+file, nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := st.(*sqlite.Store).Path(); got != file {
		t.Fatalf("path %s, want %s", got, file)
	}
	st.Close()
}

func TestOpenArchiveResetsPrunedHeight(t *testing.T) {
	dir := t.TempDir()
	st, _, err := Open(t.Context(), parse(t, "-- storage-sql --path "+dir+withQuery, nil))
	if err != nil {
		t.Fatal(err)
	}
	fill(t, st, 10)
	if err := st.(storage.Pruner).PruneBefore(t.Context(), 5); err != nil {
		t.Fatal(err)
	}
	if _, err := st.BlockByHeight(t.Context(), 2); !errors.Is(err, storage.ErrPruned) {
		t.Fatalf("before archive: %v", err)
	}
	st.Close()

	st, info, err := Open(t.Context(), parse(t, "-- storage-sql --archive --path "+dir+withQuery, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if !info.Archive {
		t.Fatalf("info %+v", info)
	}
	if _, ok, err := st.(storage.Pruner).PrunedHeight(t.Context()); err != nil || ok {
		t.Fatalf("pruned height after archive: %v, %v", ok, err)
	}
	if _, err := st.BlockByHeight(t.Context(), 2); !errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrPruned) {
		t.Fatalf("after archive a pruned block is missing, not pruned: %v", err)
	}
}

func TestOpenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := Open(ctx, parse(t, "-- storage-fs --path "+t.TempDir(), nil)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

// testPostgres returns the test server URI and a fresh schema name dropped
// at cleanup, or skips.
func testPostgres(t *testing.T) (string, string) {
	t.Helper()
	return pgtest.Schema(t, "gospresso_test_storeopen_")
}

func TestOpenPostgres(t *testing.T) {
	uri, schema := testPostgres(t)
	cfg := parse(t, "-- storage-sql --prune "+uri, nil)
	st, info, err := Open(t.Context(), cfg, WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.(*postgres.Store); !ok || info.Backend != BackendPostgres || info.Prune == nil ||
		!strings.HasSuffix(info.Location, " schema "+schema) {
		t.Fatalf("store %T, info %+v", st, info)
	}
	if _, _, err := Open(t.Context(), cfg, WithSchema(schema)); !errors.Is(err, storage.ErrLocked) {
		t.Fatalf("second open: %v", err)
	}
	fill(t, st, 5)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, info, err = Open(t.Context(), cfg, WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if h, err := st.BlockHeight(t.Context()); err != nil || h != 5 {
		t.Fatalf("reopened: height %d, %v", h, err)
	}
	// No query module: consensus-only, so the blocks below the last one
	// are gone.
	if _, err := st.BlockByHeight(t.Context(), 3); !info.ConsensusOnly || !errors.Is(err, storage.ErrPruned) {
		t.Fatalf("consensus-only %v: block 3: %v, want ErrPruned", info.ConsensusOnly, err)
	}
}

// Without the query module every backend is opened consensus-only: only
// the last decided block is kept.
func TestOpenConsensusOnly(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, args string
		chdir      bool
	}{
		{name: "no storage module", chdir: true},
		{name: "storage-fs", args: "-- storage-fs --path " + filepath.Join(dir, "fs")},
		{name: "sqlite", args: "-- storage-sql --path " + filepath.Join(dir, "sql")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.chdir {
				t.Chdir(t.TempDir())
			}
			st, info, err := Open(t.Context(), parse(t, tc.args, nil))
			if err != nil {
				t.Fatal(err)
			}
			if !info.ConsensusOnly || !strings.HasSuffix(info.Description, ", lightweight: consensus data only") {
				t.Fatalf("info %+v", info)
			}
			blocks := fill(t, st, 10)
			if b, err := st.LastDecided(t.Context()); err != nil || b.Leaf.Commit() != blocks[9].Leaf.Commit() {
				t.Fatalf("LastDecided = %d, %v", b.Height(), err)
			}
			if _, err := st.BlockByHeight(t.Context(), 8); !errors.Is(err, storage.ErrPruned) {
				t.Fatalf("block 8: %v, want ErrPruned", err)
			}
			if err := storagetest.CheckConsensusOnlyStore(t.Context(), st); err != nil {
				t.Fatal(err)
			}
			st.Close()
			if tc.args == "" {
				return // query needs a storage module
			}
			// The same store for a node with the query module.
			full := parse(t, tc.args+withQuery, nil)
			st, info, err = Open(t.Context(), full)
			if info.Backend == BackendFS {
				if !errors.Is(err, fs.ErrModeMismatch) {
					t.Fatalf("full open of a consensus-only fs store: %v, want fs.ErrModeMismatch", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if info.ConsensusOnly {
				t.Fatalf("info %+v", info)
			}
			more := storagetest.Extend(&blocks[9], 3, 3, 64)
			if err := st.SaveDecided(t.Context(), more); err != nil {
				t.Fatal(err)
			}
			if _, err := st.BlockByHeight(t.Context(), 10); err != nil {
				t.Fatalf("full store keeps block 10: %v", err)
			}
		})
	}
}
