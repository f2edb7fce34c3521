package postgres

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/storagetest"
	"github.com/gospresso/gospresso/types"
)

// envLockChild makes the test binary a child that tries to open the schema
// it names (TestLockAcrossProcesses).
const envLockChild = "GOSPRESSO_PG_LOCK_CHILD"

func TestBlocksRoundTrip(t *testing.T) {
	s := openStore(t, testConfig(t))
	ctx := t.Context()
	chain := storagetest.Chain(6, 20, 64)
	if err := s.SaveDecided(ctx, chain[:3]); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveDecided(ctx, chain[2:]); err != nil { // overlap: idempotent
		t.Fatal(err)
	}
	for i := range chain {
		want := &chain[i]
		got, err := s.BlockByHeight(ctx, uint64(i))
		if err != nil {
			t.Fatalf("block %d: %v", i, err)
		}
		if got.Leaf.Commit() != want.Leaf.Commit() || got.QC.Commit() != want.QC.Commit() ||
			!bytes.Equal(got.Payload.Raw, want.Payload.Raw) || !bytes.Equal(got.Payload.NsTable.Bytes, want.Payload.NsTable.Bytes) {
			t.Fatalf("block %d differs after the round trip", i)
		}
		txs, _ := want.Payload.Transactions()
		for j, tx := range txs {
			got, err := s.TransactionAt(ctx, uint64(i), uint64(j))
			if err != nil || got.Namespace != tx.Namespace || !bytes.Equal(got.Payload, tx.Payload) {
				t.Fatalf("transaction %d of block %d: %v %+v", j, i, err, got)
			}
			loc, err := s.TransactionByHash(ctx, tx.Commit())
			if err != nil || loc != (storage.TxLocation{Height: uint64(i), Index: uint64(j)}) {
				t.Fatalf("transaction %d of block %d by hash: %v %+v", j, i, err, loc)
			}
		}
	}
	n, err := s.TransactionCount(ctx, 1, 5)
	if err != nil || n != 80 {
		t.Errorf("transaction count [1,5) = %d, %v; want 80", n, err)
	}
	var want uint64
	for _, b := range chain[2:4] {
		want += b.Payload.Size()
	}
	if got, err := s.PayloadBytes(ctx, 2, 4); err != nil || got != want {
		t.Errorf("payload bytes [2,4) = %d, %v; want %d", got, err, want)
	}
	conflict := storagetest.Chain(4, 3, 64)
	if err := s.SaveDecided(ctx, conflict[3:]); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("different block at a stored height: %v, want ErrConflict", err)
	}
	gap := storagetest.Extend(&chain[5], 2, 1, 64)
	if err := s.SaveDecided(ctx, gap[1:]); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("gap: %v, want ErrConflict", err)
	}
	if _, err := s.BlockByHeight(ctx, 99); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("missing block: %v, want ErrNotFound", err)
	}
}

func TestTransactionAtWithoutOffsets(t *testing.T) {
	cfg := testConfig(t)
	s := openStore(t, cfg)
	ctx := t.Context()
	chain := storagetest.Chain(3, 5, 40)
	if err := s.SaveDecided(ctx, chain); err != nil {
		t.Fatal(err)
	}
	// Forget the offsets: TransactionAt falls back to decoding the payload.
	if _, err := s.db.ExecContext(ctx, "UPDATE transactions SET tx_offset = NULL, tx_length = NULL"); err != nil {
		t.Fatal(err)
	}
	txs, _ := chain[2].Payload.Transactions()
	for j, tx := range txs {
		got, err := s.TransactionAt(ctx, 2, uint64(j))
		if err != nil || got.Namespace != tx.Namespace || !bytes.Equal(got.Payload, tx.Payload) {
			t.Fatalf("transaction %d: %v %+v", j, err, got)
		}
	}
}

func TestLock(t *testing.T) {
	cfg := testConfig(t)
	ctx := t.Context()
	s := openStore(t, cfg)
	if _, err := Open(ctx, cfg); !errors.Is(err, storage.ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	start := time.Now()
	if _, err := Open(ctx, cfg, WithLockTimeout(300*time.Millisecond)); !errors.Is(err, storage.ErrLocked) || time.Since(start) < 250*time.Millisecond {
		t.Fatalf("second open with a lock timeout: %v after %v, want ErrLocked after the timeout", err, time.Since(start))
	}
	other := cfg
	other.Schema = cfg.Schema + "_other"
	t.Cleanup(func() { dropSchema(t, other.Schema) })
	s2 := openStore(t, other) // another schema is another store
	s2.Close()
	done := make(chan *Store)
	go func() {
		s3, err := Open(ctx, cfg, WithLockTimeout(10*time.Second))
		if err != nil {
			t.Errorf("open while waiting for the lock: %v", err)
		}
		done <- s3
	}()
	time.Sleep(100 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s3 := <-done; s3 != nil {
		s3.Close()
	}
	if err := s.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	s4 := openStore(t, cfg)
	if err := s4.SaveSafety(ctx, types.SafetyState{View: 1}); err != nil {
		t.Fatal(err)
	}
}

func dropSchema(t *testing.T, schema string) {
	admin := adminDB(t, testURI(t))
	defer admin.Close()
	if _, err := admin.Exec(`DROP SCHEMA IF EXISTS "` + schema + `" CASCADE`); err != nil {
		t.Errorf("drop %s: %v", schema, err)
	}
}

// TestLockAcrossProcesses opens a schema here and tries again from a child
// process, which must get ErrLocked.
func TestLockAcrossProcesses(t *testing.T) {
	if schema := os.Getenv(envLockChild); schema != "" {
		t.Skip("lock child")
	}
	cfg := testConfig(t)
	s := openStore(t, cfg)
	run := func() string {
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestLockChild$", "-test.v")
		cmd.Env = append(os.Environ(), envLockChild+"="+cfg.Schema)
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	if out := run(); !strings.Contains(out, "child: locked") {
		t.Fatalf("child opened a locked schema:\n%s", out)
	}
	s.Close()
	if out := run(); !strings.Contains(out, "child: opened") {
		t.Fatalf("child could not open the released schema:\n%s", out)
	}
}

// TestLockChild is the child of TestLockAcrossProcesses.
func TestLockChild(t *testing.T) {
	schema := os.Getenv(envLockChild)
	if schema == "" {
		t.Skip("only run as the child of TestLockAcrossProcesses")
	}
	s, err := Open(t.Context(), Config{URI: testURI(t), Schema: schema})
	switch {
	case errors.Is(err, storage.ErrLocked):
		fmt.Println("child: locked")
	case err != nil:
		fmt.Println("child: error:", err)
	default:
		fmt.Println("child: opened")
		s.Close()
	}
}

func TestMigrations(t *testing.T) {
	cfg := testConfig(t)
	ctx := t.Context()
	s := openStore(t, cfg)
	type row struct {
		version int
		name    string
		at      time.Time
	}
	read := func(s *Store) []row {
		var rows []row
		err := s.each(ctx, s.db, "t", "SELECT version, name, applied_at FROM migrations ORDER BY version", nil, func(r *sql.Rows) error {
			var x row
			err := r.Scan(&x.version, &x.name, &x.at)
			rows = append(rows, x)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	first := read(s)
	all, _ := loadMigrations(migrationFiles)
	if len(first) != len(all) || first[0].version != 1 || first[0].name != "init" || time.Since(first[0].at) > time.Hour {
		t.Fatalf("recorded migrations: %+v", first)
	}
	if err := s.SaveSafety(ctx, types.SafetyState{View: 9}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openStore(t, cfg)
	if again := read(s); fmt.Sprint(again) != fmt.Sprint(first) {
		t.Errorf("reopen changed the migrations: %+v, was %+v", again, first)
	}
	if st, err := s.LoadSafety(ctx); err != nil || st.View != 9 {
		t.Errorf("data after reopen: %+v %v", st, err)
	}

	// A later migration is applied alone and recorded.
	extra := append(all, migration{version: len(all) + 1, name: "extra", sql: "CREATE TABLE extra_test (x INT)"})
	if err := s.applyMigrations(ctx, extra); err != nil {
		t.Fatal(err)
	}
	if got := read(s); len(got) != len(extra) || got[len(got)-1].name != "extra" || fmt.Sprint(got[:len(first)]) != fmt.Sprint(first) {
		t.Errorf("after a new migration: %+v", got)
	}
	// A failing migration leaves nothing behind.
	broken := append(extra, migration{version: len(extra) + 1, name: "broken_a", sql: "CREATE TABLE broken_test (x INT)"},
		migration{version: len(extra) + 2, name: "broken_b", sql: "SELECT no_such_column FROM broken_test"})
	if err := s.applyMigrations(ctx, broken); err == nil || !strings.Contains(err.Error(), "broken_b") {
		t.Fatalf("broken migration: %v", err)
	}
	if got := read(s); len(got) != len(extra) {
		t.Errorf("a failed migration was recorded: %+v", got)
	}
	var exists bool
	if err := s.db.QueryRowContext(ctx, "SELECT to_regclass('broken_test') IS NOT NULL").Scan(&exists); err != nil || exists {
		t.Errorf("a failed migration's table exists: %v %v", exists, err)
	}
	s.Close()
	// The schema is now newer than this build.
	if _, err := Open(ctx, cfg); !errors.Is(err, ErrSchemaVersion) {
		t.Errorf("open a newer schema: %v, want ErrSchemaVersion", err)
	}
}

func TestTLSFlag(t *testing.T) {
	base := testConfig(t)
	ctx := t.Context()
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprint("tls=", useTLS), func(t *testing.T) {
			cfg := base
			cfg.UseTLS = useTLS
			s, err := Open(ctx, cfg)
			if err != nil {
				if useTLS && strings.Contains(err.Error(), "SSL is not enabled") {
					t.Skipf("the test server has no TLS: %v", err)
				}
				t.Fatal(err)
			}
			defer s.Close()
			var ssl bool
			if err := s.db.QueryRowContext(ctx, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl); err != nil {
				t.Fatal(err)
			}
			if ssl != useTLS {
				t.Errorf("connection TLS = %v, want %v", ssl, useTLS)
			}
		})
	}
}

// TestExplicitFieldsOverrideURI connects with a URI whose every part is
// wrong, corrected by the explicit fields.
func TestExplicitFieldsOverrideURI(t *testing.T) {
	cfg := testConfig(t)
	u, err := url.Parse(cfg.URI)
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	good := Config{
		URI:      "postgres://nobody:wrong@127.0.0.1:1/no_such_db?sslmode=disable",
		Host:     u.Hostname(),
		Port:     func() uint16 { var p uint16; fmt.Sscan(u.Port(), &p); return p }(),
		Database: strings.TrimPrefix(u.Path, "/"),
		User:     u.User.Username(),
		Password: pw,
		Schema:   cfg.Schema,
	}
	if good.Port == 0 {
		good.Port = DefaultPort
	}
	s := openStore(t, good)
	var db, usr string
	if err := s.db.QueryRowContext(t.Context(), "SELECT current_database(), current_user").Scan(&db, &usr); err != nil {
		t.Fatal(err)
	}
	if db != good.Database || usr != good.User {
		t.Errorf("connected to %s as %s", db, usr)
	}
}

// logBuffer is a concurrency-safe slog sink.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestSlowStatementLog(t *testing.T) {
	cfg := testConfig(t)
	const pw = "N0tLoggedPw"
	cfg.Password = pw // trust authentication ignores it
	cfg.SlowStatementThreshold = time.Nanosecond
	var logs logBuffer
	s := openStore(t, cfg, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	ctx := t.Context()
	if err := s.SaveSafety(ctx, types.SafetyState{View: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadSafety(ctx); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	for _, want := range []string{"slow statement", "statement=save_safety", "statement=load_safety", "store opened", cfg.Schema} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, pw) {
		t.Errorf("the password is logged:\n%s", out)
	}

	// The default threshold logs nothing for these.
	cfg2 := testConfig(t)
	var quiet logBuffer
	s2 := openStore(t, cfg2, WithLogger(slog.New(slog.NewTextHandler(&quiet, nil))))
	if err := s2.SaveSafety(ctx, types.SafetyState{View: 1}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(quiet.String(), "slow statement") {
		t.Errorf("fast statements logged as slow:\n%s", quiet.String())
	}
}

func TestPoolSettings(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxConnections = 3
	cfg.MinConnections = 2
	s := openStore(t, cfg)
	st := s.db.Stats()
	if st.MaxOpenConnections != 3 || st.OpenConnections < 2 {
		t.Errorf("pool stats %+v: want max 3 and at least 2 open", st)
	}
}

// TestIndexes checks with the sequential scan disabled that every pooled
// statement (all reads, and the consensus writes) and the pruning deletes
// have an index to use.
func TestIndexes(t *testing.T) {
	s := openStore(t, testConfig(t))
	ctx := t.Context()
	if err := s.SaveDecided(ctx, storagetest.Chain(5, 3, 32)); err != nil {
		t.Fatal(err)
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET enable_seqscan = off"); err != nil {
		t.Fatal(err)
	}
	c := []byte(strings.Repeat("x", 32))
	h, n := int64(2), int64(10)
	lock := s.lockArgs()
	args := map[string][]any{
		"load_safety":           nil,
		"save_safety":           append(lock, c),
		"save_proposal":         append(lock, h, c, c),
		"load_proposals":        nil,
		"save_state":            append(lock, h, c),
		"load_state":            nil,
		"last_decided":          nil,
		"block_by_height":       {h},
		"block_by_leaf":         {c},
		"block_by_hash":         {c},
		"block_by_payload_hash": {c},
		"block_range":           {h, n, n},
		"transaction_by_hash":   {c},
		"block_height":          nil,
		"transaction_at":        {h, int64(0)},
		"namespace_heights":     {int64(storagetest.NamespaceA), h, n},
		"transaction_count":     {h, n},
		"payload_bytes":         {h, n},
		"header_window":         {int64(storagetest.GenesisTime), int64(storagetest.GenesisTime) + n, n},
		"pruned_height":         nil,
		"height_before":         {int64(storagetest.GenesisTime) + n},
		"first_height":          nil,
	}
	// live_size sums the proposals, the safety row and the chain_state row:
	// a handful of rows.
	exempt := map[string]bool{"live_size": true}
	queries := map[string]string{
		"prune transactions": "DELETE FROM transactions WHERE height < $1",
		"prune namespaces":   "DELETE FROM namespace WHERE height < $1",
		"prune payloads":     "DELETE FROM payload WHERE height < $1",
		"prune leaves":       "DELETE FROM leaf WHERE height < $1",
		"prune headers":      "DELETE FROM header WHERE height < $1",
	}
	for name := range queries {
		args[name] = []any{h}
	}
	for name, q := range pooled {
		if exempt[name] {
			continue
		}
		if _, ok := args[name]; !ok {
			t.Errorf("statement %s: no arguments in this test; add them", name)
			continue
		}
		queries[name] = q
	}
	for name, q := range queries {
		var plan []string
		rows, err := conn.QueryContext(ctx, "EXPLAIN "+q, args[name]...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		rows.Close()
		if p := strings.Join(plan, "\n"); strings.Contains(p, "Seq Scan") {
			t.Errorf("%s scans a table:\n%s", name, p)
		}
	}
}

func TestLiveSizeShrinks(t *testing.T) {
	s := openStore(t, testConfig(t))
	ctx := t.Context()
	empty, err := s.LiveSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	chain := storagetest.Chain(20, 10, 1000)
	if err := s.SaveDecided(ctx, chain); err != nil {
		t.Fatal(err)
	}
	full, err := s.LiveSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var payload uint64
	for _, b := range chain {
		payload += b.Payload.Size()
	}
	if full-empty < payload {
		t.Errorf("live size grew by %d, less than the %d payload bytes", full-empty, payload)
	}
	if err := s.PruneBefore(ctx, 15); err != nil {
		t.Fatal(err)
	}
	pruned, err := s.LiveSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pruned >= full || full-pruned < payload/2 {
		t.Errorf("live size %d -> %d after pruning 15 of 20 blocks", full, pruned)
	}
	// The bookkeeping row equals the sum over the remaining blocks.
	var sum int64
	if err := s.db.QueryRowContext(ctx, "SELECT (SELECT bytes FROM live_size) - (SELECT sum(stored_bytes) FROM header)").Scan(&sum); err != nil || sum != 0 {
		t.Errorf("live_size differs from the sum of stored_bytes by %d (%v)", sum, err)
	}
	if _, err := s.BlockByHeight(ctx, 3); !errors.Is(err, storage.ErrPruned) {
		t.Errorf("pruned block: %v, want ErrPruned", err)
	}
	if _, err := s.TransactionAt(ctx, 3, 0); !errors.Is(err, storage.ErrPruned) {
		t.Errorf("pruned transaction: %v, want ErrPruned", err)
	}
	// Cascade: no index row of a pruned block is left.
	var orphans int
	if err := s.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM transactions WHERE height < 15) + (SELECT count(*) FROM namespace WHERE height < 15)
		+ (SELECT count(*) FROM leaf WHERE height < 15) + (SELECT count(*) FROM payload WHERE height < 15)`).Scan(&orphans); err != nil || orphans != 0 {
		t.Errorf("%d rows of pruned blocks left (%v)", orphans, err)
	}
	// Deleting a header cascades to its rows.
	if _, err := s.db.ExecContext(ctx, "DELETE FROM header WHERE height = 16"); err != nil {
		t.Fatal(err)
	}
	if err := s.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM transactions WHERE height = 16) + (SELECT count(*) FROM namespace WHERE height = 16)
		+ (SELECT count(*) FROM leaf WHERE height = 16) + (SELECT count(*) FROM payload WHERE height = 16)`).Scan(&orphans); err != nil || orphans != 0 {
		t.Errorf("delete from header left %d rows (%v)", orphans, err)
	}
}

func TestOutOfRange(t *testing.T) {
	s := openStore(t, testConfig(t))
	ctx := t.Context()
	if err := s.SaveProposal(ctx, storage.StoredProposal{View: types.ViewNumber(1 << 63)}); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("huge view: %v", err)
	}
	b := storagetest.Chain(1, 0, 0)
	b[0].Leaf.Header.Height = 1 << 63
	if err := s.SaveDecided(ctx, b); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("huge height: %v", err)
	}
	b = storagetest.Chain(1, 0, 0)
	b[0].Leaf.Header.Timestamp = 1 << 63
	if err := s.SaveDecided(ctx, b); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("huge timestamp: %v", err)
	}
	if _, err := s.BlockByHeight(ctx, 1<<63); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("huge height lookup: %v", err)
	}
}

func TestOpenUnreachable(t *testing.T) {
	testURI(t) // only meaningful where the Postgres tests run
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err := Open(ctx, Config{URI: "postgres://u:Hidden9Pw@127.0.0.1:1/db"})
	if err == nil || strings.Contains(err.Error(), "Hidden9Pw") || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("open an unreachable server: %v", err)
	}
}

func TestReset(t *testing.T) {
	cfg := testConfig(t)
	ctx := t.Context()
	s := openStore(t, cfg)
	if err := s.SaveDecided(ctx, storagetest.Chain(3, 2, 50)); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveSafety(ctx, types.SafetyState{View: 4}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveState(ctx, 2, []byte("state")); err != nil {
		t.Fatal(err)
	}
	if err := Reset(ctx, cfg); !errors.Is(err, storage.ErrLocked) {
		t.Fatalf("reset of an open store: %v, want ErrLocked", err)
	}
	s.Close()
	if err := Reset(ctx, cfg); err != nil {
		t.Fatalf("reset: %v", err)
	}
	admin := adminDB(t, cfg.URI)
	defer admin.Close()
	var exists bool
	if err := admin.QueryRowContext(ctx, "SELECT to_regnamespace($1) IS NOT NULL", cfg.Schema).Scan(&exists); err != nil || exists {
		t.Errorf("schema still exists after reset (%v)", err)
	}
	if err := Reset(ctx, cfg); err != nil {
		t.Errorf("reset of a missing schema: %v", err)
	}
	s = openStore(t, cfg)
	if _, err := s.LastDecided(ctx); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("last decided after reset: %v, want ErrNotFound", err)
	}
	if _, err := s.LoadSafety(ctx); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("safety state after reset: %v, want ErrNotFound", err)
	}
	if _, _, err := s.LoadState(ctx); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("state snapshot after reset: %v, want ErrNotFound", err)
	}
}

// TestResetTables checks that storeTables lists every table the
// migrations create, by dropping them (the way Reset treats the public
// schema) from a migrated test schema and finding nothing left.
func TestResetTables(t *testing.T) {
	cfg := testConfig(t)
	ctx := t.Context()
	s := openStore(t, cfg)
	if err := s.SaveDecided(ctx, storagetest.Chain(2, 1, 10)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	admin := adminDB(t, cfg.URI)
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, dropTablesSQL(cfg.Schema)); err != nil {
		t.Fatal(err)
	}
	var left []string
	rows, err := admin.QueryContext(ctx, "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1", cfg.Schema)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		left = append(left, name)
	}
	rows.Close()
	if len(left) > 0 {
		t.Errorf("relations left after dropping storeTables: %v (add the tables to storeTables)", left)
	}
	if got := dropTablesSQL("public"); !strings.HasPrefix(got, `DROP TABLE IF EXISTS "public"."migrations", "public"."header"`) {
		t.Errorf("public reset statement: %s", got)
	}
}
