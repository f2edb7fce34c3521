package postgres

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gospresso/gospresso/internal/pgtest"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/storagetest"
)

// TestMain turns the test binary into a crash-harness child when
// storagetest.RunCrash starts it (GOSPRESSO_CRASH_CHILD=1).
func TestMain(m *testing.M) {
	storagetest.CrashChild(crashOpen)
	os.Exit(m.Run())
}

// crashOpen opens the store in schema target of the test server, in the
// parent and in the crash children alike.
func crashOpen(ctx context.Context, target string) (storage.Store, error) {
	uri, skip, fail := pgtest.Env(os.Getenv)
	if uri == "" {
		return nil, fmt.Errorf("crash test: no server: %s%s", skip, fail)
	}
	s, err := Open(ctx, Config{URI: uri, Schema: target, MaxConnections: 4})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// TestCrash kills writer processes (safety states, proposals, decided
// blocks, pruning) at random points, in the middle of their transactions,
// and checks after each kill that the schema reopens consistent, with
// every write the child saw return.
func TestCrash(t *testing.T) {
	cfg := testConfig(t)
	storagetest.RunCrash(t, storagetest.CrashConfig{
		Target:            cfg.Schema,
		Open:              crashOpen,
		Kills:             12,
		ChildFromTestMain: true,
	})
}

// envMidTxChild makes the test binary the child of TestKillMidTransaction,
// writing into the schema it names.
const envMidTxChild = "GOSPRESSO_PG_MIDTX_CHILD"

// midTxBlocks is the size of the child's SaveDecided: 40 blocks of 1 MB,
// long enough to be caught in the middle of its transaction.
const midTxBlocks = 40

// TestKillMidTransaction kills a process in the middle of a large
// SaveDecided, once the server shows its transaction has written rows, and
// checks that the server rolled everything back: the store reopens with
// only what was there before, live size included.
func TestKillMidTransaction(t *testing.T) {
	if os.Getenv(envMidTxChild) != "" {
		t.Skip("child")
	}
	cfg := testConfig(t)
	ctx := t.Context()
	chain := storagetest.Chain(1, 0, 0)
	s := openStore(t, cfg)
	if err := s.SaveDecided(ctx, chain); err != nil {
		t.Fatal(err)
	}
	before, err := s.LiveSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	u, err := url.Parse(cfg.URI)
	if err != nil {
		t.Fatal(err)
	}
	app := "gospresso_midtx_" + cfg.Schema[len(cfg.Schema)-12:]
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillMidTransactionChild$", "-test.v")
	cmd.Env = append(os.Environ(), envMidTxChild+"="+cfg.Schema, envURI+"="+u.String())
	var out logBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill()
		<-exited
	}()

	admin := adminDB(t, cfg.URI)
	defer admin.Close()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var writing int
		if err := admin.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE application_name = $1 AND backend_xid IS NOT NULL`, app).Scan(&writing); err != nil {
			t.Fatal(err)
		}
		if writing > 0 {
			break
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("the child exited before it was killed (%v):\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the child's transaction never started:\n%s", out.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
	time.Sleep(30 * time.Millisecond) // let it write a little more
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	err = <-exited
	exited <- err
	if strings.Contains(out.String(), "child: saved") {
		t.Fatalf("the child finished its transaction before the kill; raise midTxBlocks:\n%s", out.String())
	}

	s = openStore(t, cfg, WithLockTimeout(30*time.Second))
	if h, err := s.BlockHeight(ctx); err != nil || h != 1 {
		t.Errorf("block height after the kill: %d, %v; want 1", h, err)
	}
	if after, err := s.LiveSize(ctx); err != nil || after != before {
		t.Errorf("live size after the kill: %d, %v; want %d", after, err, before)
	}
	var rows int
	if err := s.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM header WHERE height > 0) + (SELECT count(*) FROM leaf WHERE height > 0)
		+ (SELECT count(*) FROM payload WHERE height > 0) + (SELECT count(*) FROM transactions) + (SELECT count(*) FROM namespace)`).Scan(&rows); err != nil || rows != 0 {
		t.Errorf("%d rows of the killed transaction are visible (%v)", rows, err)
	}
	if err := storagetest.CheckStore(ctx, s); err != nil {
		t.Errorf("check store: %v", err)
	}
	// The store goes on from where it was.
	more := storagetest.Extend(&chain[0], 2, 5, 100)
	if err := s.SaveDecided(ctx, more); err != nil {
		t.Errorf("save after the kill: %v", err)
	}
}

// TestKillMidTransactionChild is the child of TestKillMidTransaction.
func TestKillMidTransactionChild(t *testing.T) {
	schema := os.Getenv(envMidTxChild)
	if schema == "" {
		t.Skip("only run as the child of TestKillMidTransaction")
	}
	chain := storagetest.Chain(midTxBlocks+1, 1000, 1000)
	s, err := Open(t.Context(), Config{URI: testURI(t), Schema: schema}, WithLockTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("child: saving")
	err = s.SaveDecided(t.Context(), chain[1:])
	fmt.Println("child: saved", err)
}
