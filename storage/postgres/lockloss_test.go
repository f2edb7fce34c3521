package postgres

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/storagetest"
	"github.com/gospresso/gospresso/types"
)

// lockHolder returns the backend pid holding s's schema lock according to
// pg_locks (0 when no session holds it).
func lockHolder(t *testing.T, admin *sql.DB, s *Store) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	k := uint64(s.lockKey)
	var pid int64
	err := admin.QueryRowContext(ctx, `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
		AND classid::bigint = $1 AND objid::bigint = $2 AND objsubid = 1`, int64(k>>32), int64(k&0xffffffff)).Scan(&pid)
	if errors.Is(err, sql.ErrNoRows) {
		return 0
	}
	if err != nil {
		t.Fatalf("read pg_locks: %v", err)
	}
	return pid
}

// killLock terminates the backend holding s's schema lock, found through
// pg_locks, and waits (at most 10s) until the session is gone.
func killLock(t *testing.T, admin *sql.DB, s *Store) int64 {
	t.Helper()
	pid := lockHolder(t, admin, s)
	if pid == 0 {
		t.Fatal("nobody holds the schema lock")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var ok bool
	if err := admin.QueryRowContext(ctx, "SELECT pg_terminate_backend($1)", pid).Scan(&ok); err != nil || !ok {
		t.Fatalf("terminate backend %d: %v %v", pid, ok, err)
	}
	// The session ends asynchronously after the signal.
	for {
		var n int
		if err := admin.QueryRowContext(ctx, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid).Scan(&n); err != nil {
			t.Fatalf("wait for backend %d to end: %v", pid, err)
		}
		if n == 0 && lockHolder(t, admin, s) != pid {
			return pid
		}
		select {
		case <-ctx.Done():
			t.Fatalf("backend %d still there", pid)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// boundedCtx is a test context that ends after d.
func boundedCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestLockReconnect kills the lock connection: the next write reconnects,
// takes the lock back and succeeds, through both kinds of write.
func TestLockReconnect(t *testing.T) {
	cfg := testConfig(t)
	s := openStore(t, cfg)
	admin := adminDB(t, cfg.URI)
	defer admin.Close()
	ctx := boundedCtx(t, 60*time.Second)

	old := killLock(t, admin, s)
	if err := s.SaveSafety(ctx, types.SafetyState{View: 3}); err != nil {
		t.Fatalf("save safety after the lock connection was killed: %v", err)
	}
	if pid := lockHolder(t, admin, s); pid == 0 || pid == old || pid != s.lockPID {
		t.Fatalf("lock held by %d after reconnecting, want the store's new session %d (old %d)", pid, s.lockPID, old)
	}
	if st, err := s.LoadSafety(ctx); err != nil || st.View != 3 {
		t.Fatalf("load safety: %+v, %v", st, err)
	}
	// The lock is really held again.
	if _, err := Open(ctx, cfg); !errors.Is(err, storage.ErrLocked) {
		t.Fatalf("second open after reconnecting: %v, want ErrLocked", err)
	}

	// A transaction write (SaveDecided) reconnects too.
	killLock(t, admin, s)
	chain := storagetest.Chain(3, 2, 16)
	if err := s.SaveDecided(ctx, chain); err != nil {
		t.Fatalf("save decided after the lock connection was killed: %v", err)
	}
	for _, kill := range []string{"proposal", "state", "prune"} {
		killLock(t, admin, s)
		var err error
		switch kill {
		case "proposal":
			err = s.SaveProposal(ctx, storage.StoredProposal{View: 9, Data: []byte{1}})
		case "state":
			err = s.SaveState(ctx, 2, []byte{2})
		case "prune":
			err = s.PruneBefore(ctx, 1)
		}
		if err != nil {
			t.Fatalf("%s after the lock connection was killed: %v", kill, err)
		}
	}
	if h, err := s.BlockHeight(ctx); err != nil || h != 3 {
		t.Fatalf("block height %d, %v", h, err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if pid := lockHolder(t, admin, s); pid != 0 {
		t.Fatalf("lock still held by %d after close", pid)
	}
}

// TestLockTakenWhileDown kills the lock connection and lets another store
// open the schema before the first one writes again: the first one's
// writes fail with storage.ErrLocked, saying so, for good.
func TestLockTakenWhileDown(t *testing.T) {
	cfg := testConfig(t)
	s := openStore(t, cfg)
	admin := adminDB(t, cfg.URI)
	defer admin.Close()
	ctx := boundedCtx(t, 60*time.Second)
	if err := s.SaveSafety(ctx, types.SafetyState{View: 1}); err != nil {
		t.Fatal(err)
	}

	killLock(t, admin, s)
	s2 := openStore(t, cfg)
	if err := s2.SaveSafety(ctx, types.SafetyState{View: 7}); err != nil {
		t.Fatalf("new owner: %v", err)
	}

	start := time.Now()
	err := s.SaveSafety(ctx, types.SafetyState{View: 2})
	if !errors.Is(err, storage.ErrLocked) || !errors.Is(err, ErrLockLost) || errors.Is(err, ErrConnectionLost) {
		t.Fatalf("save safety after another store took the schema: %v, want ErrLocked and ErrLockLost", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "another process took the store while this one's connection to the database was down") {
		t.Errorf("error %q does not say what happened", msg)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("failing took %v", d)
	}
	chain := storagetest.Chain(1, 0, 0)
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, storage.ErrLocked) {
			t.Errorf("%s: %v, want ErrLocked", what, err)
		}
	}
	check("save decided", s.SaveDecided(ctx, chain))
	check("save proposal", s.SaveProposal(ctx, storage.StoredProposal{View: 1, Data: []byte{1}}))
	check("save state", s.SaveState(ctx, 1, []byte{1}))
	check("prune", s.PruneBefore(ctx, 1))
	// Reads still work.
	if st, err := s.LoadSafety(ctx); err != nil || st.View != 7 {
		t.Errorf("load safety: %+v, %v; want the new owner's view 7", st, err)
	}
	// Even once the new owner is gone the first store does not take the
	// schema back: it cannot know what was written meanwhile.
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	check("save safety after the new owner closed", s.SaveSafety(ctx, types.SafetyState{View: 2}))
	if pid := lockHolder(t, admin, s); pid != 0 {
		t.Errorf("lock held by %d; the old store took it back", pid)
	}
	if err := s.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	s3 := openStore(t, cfg)
	if st, err := s3.LoadSafety(ctx); err != nil || st.View != 7 {
		t.Errorf("load safety: %+v, %v; want 7", st, err)
	}
}

// unreachable is a connector to a port nobody listens on.
func unreachable(t *testing.T) *pq.Connector {
	t.Helper()
	c, err := pq.NewConnector("postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestLockServerUnreachable kills the lock connection while the server
// cannot be reached for the lock (the connector points nowhere): the write
// fails within the reconnect window with ErrConnectionLost, not ErrLocked,
// and a later write reconnects once the server is back.
func TestLockServerUnreachable(t *testing.T) {
	cfg := testConfig(t)
	s := openStore(t, cfg, WithReconnectWindow(700*time.Millisecond))
	admin := adminDB(t, cfg.URI)
	defer admin.Close()
	ctx := boundedCtx(t, 60*time.Second)

	good := s.lockConnector
	s.writeMu.Lock()
	s.lockConnector = unreachable(t)
	s.writeMu.Unlock()
	killLock(t, admin, s)
	start := time.Now()
	err := s.SaveSafety(ctx, types.SafetyState{View: 2})
	d := time.Since(start)
	if !errors.Is(err, ErrConnectionLost) || errors.Is(err, storage.ErrLocked) {
		t.Fatalf("save safety with the server unreachable: %v, want ErrConnectionLost and not ErrLocked", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "database connection lost") || strings.Contains(msg, "in use by another process") {
		t.Errorf("error %q", msg)
	}
	if d < 300*time.Millisecond || d > 5*time.Second {
		t.Errorf("failing took %v, want about the 700ms window", d)
	}
	err = s.SaveDecided(ctx, storagetest.Chain(1, 0, 0))
	if !errors.Is(err, ErrConnectionLost) {
		t.Errorf("save decided with the server unreachable: %v, want ErrConnectionLost", err)
	}

	// The caller's context bounds the wait too.
	s.reconnect = time.Minute
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	start = time.Now()
	err = s.SaveSafety(short, types.SafetyState{View: 2})
	cancel()
	// Either the context ended during a pause, or no further attempt fit
	// before its deadline.
	if !(errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrConnectionLost)) || errors.Is(err, storage.ErrLocked) {
		t.Errorf("save safety with a short context: %v, want DeadlineExceeded or ErrConnectionLost", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("a 200ms context waited %v", d)
	}

	// The server is back: the next write reconnects.
	s.writeMu.Lock()
	s.lockConnector = good
	s.writeMu.Unlock()
	if err := s.SaveSafety(ctx, types.SafetyState{View: 4}); err != nil {
		t.Fatalf("save safety once the server is back: %v", err)
	}
	if pid := lockHolder(t, admin, s); pid != s.lockPID {
		t.Fatalf("lock held by %d, want %d", pid, s.lockPID)
	}
}

// TestLockLostDuringWrite loses the lock while a transaction write runs:
// that transaction is rolled back, not committed unlocked, and run again
// once the lock is back.
func TestLockLostDuringWrite(t *testing.T) {
	cfg := testConfig(t)
	s := openStore(t, cfg)
	admin := adminDB(t, cfg.URI)
	defer admin.Close()
	ctx := boundedCtx(t, 60*time.Second)

	runs := 0
	err := s.write(ctx, "test", func(tx *sql.Tx) error {
		runs++
		if runs == 1 {
			killLock(t, admin, s)
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO proposals (view_number, hash, data) VALUES ($1, $2, $3)", runs, []byte{byte(runs)}, []byte{byte(runs)})
		return err
	})
	if err != nil {
		t.Fatalf("write: %v", err)
	}
	if runs != 2 {
		t.Fatalf("ran %d times, want 2", runs)
	}
	ps, err := s.LoadProposals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].View != 2 {
		t.Fatalf("proposals %+v, want only the second run's (the first lost the lock)", ps)
	}
}

// TestLockKilledUnderLoad kills the lock connection while writers run:
// every write either succeeds or fails without claiming that another
// process holds the store, and writes succeed afterwards.
func TestLockKilledUnderLoad(t *testing.T) {
	cfg := testConfig(t)
	s := openStore(t, cfg)
	admin := adminDB(t, cfg.URI)
	defer admin.Close()
	ctx := boundedCtx(t, 60*time.Second)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := types.ViewNumber(1); ; v++ {
				select {
				case <-stop:
					return
				default:
				}
				var err error
				if w%2 == 0 {
					err = s.SaveSafety(ctx, types.SafetyState{View: v})
				} else {
					err = s.SaveProposal(ctx, storage.StoredProposal{View: v, Data: []byte{byte(w)}})
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for range 3 {
		time.Sleep(50 * time.Millisecond)
		// The writers reconnect after each kill; wait (bounded) until one has.
		for deadline := time.Now().Add(20 * time.Second); lockHolder(t, admin, s) == 0; {
			if time.Now().After(deadline) {
				t.Fatal("the store did not take its lock again within 20s under load")
			}
			time.Sleep(10 * time.Millisecond)
		}
		killLock(t, admin, s)
	}
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		if errors.Is(err, storage.ErrLocked) {
			t.Errorf("write under load: %v", err)
		}
	}
	if err := s.SaveSafety(ctx, types.SafetyState{View: 100000}); err != nil {
		t.Fatalf("save safety after the kills: %v", err)
	}
	if pid := lockHolder(t, admin, s); pid != s.lockPID {
		t.Fatalf("lock held by %d, want %d", pid, s.lockPID)
	}
}
