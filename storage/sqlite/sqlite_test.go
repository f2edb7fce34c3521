package sqlite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/storagetest"
	"github.com/gospresso/gospresso/types"
)

// lockChildEnv names the database a re-executed test binary tries to open,
// to check the lock across processes.
const lockChildEnv = "GOSPRESSO_SQLITE_LOCK_CHILD"

func TestMain(m *testing.M) {
	storagetest.CrashChild(openTarget)
	if path := os.Getenv(lockChildEnv); path != "" {
		os.Exit(lockChild(path))
	}
	os.Exit(m.Run())
}

// lockChild opens path and reports the outcome on stdout: "locked",
// "opened" or the error.
func lockChild(path string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, path)
	switch {
	case errors.Is(err, storage.ErrLocked):
		fmt.Println("locked")
	case err != nil:
		fmt.Println("error:", err)
		return 1
	default:
		fmt.Println("opened")
		if err := s.Close(); err != nil {
			fmt.Println("error:", err)
			return 1
		}
	}
	return 0
}

// openTemp opens a store in a fresh directory and closes it at cleanup.
func openTemp(t testing.TB, opts ...Option) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "sqlite", "database"), opts...)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestOpenOptions(t *testing.T) {
	tests := []struct {
		name string
		path string
		opts []Option
		want string // substring of the error; "" for success
	}{
		{"defaults", "db", nil, ""},
		{"all options", "db", []Option{WithMaxReaders(3), WithIdleTimeout(time.Minute),
			WithMaxLifetime(time.Hour), WithBusyTimeout(time.Second), WithSlowThreshold(0), WithLogger(nil)}, ""},
		{"empty path", "", nil, `path: "": want the database file path`},
		{"zero readers", "db", []Option{WithMaxReaders(0)}, "max_readers: 0: want at least 1"},
		{"negative idle timeout", "db", []Option{WithIdleTimeout(-time.Second)}, "idle_timeout: -1s: want 0 or more"},
		{"negative lifetime", "db", []Option{WithMaxLifetime(-time.Second)}, "max_lifetime: -1s: want 0 or more"},
		{"tiny busy timeout", "db", []Option{WithBusyTimeout(time.Microsecond)}, "busy_timeout: 1µs: want at least 1ms"},
		{"negative slow threshold", "db", []Option{WithSlowThreshold(-1)}, "slow_threshold: -1ns: want 0 or more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if path != "" {
				path = filepath.Join(t.TempDir(), path)
			}
			s, err := Open(t.Context(), path, tt.opts...)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("open: %v", err)
				}
				if got := s.Path(); got != path {
					t.Errorf("Path() = %q, want %q", got, path)
				}
				if err := s.Close(); err != nil {
					t.Fatalf("close: %v", err)
				}
				return
			}
			if err == nil {
				s.Close()
				t.Fatalf("open succeeded, want an error containing %q", tt.want)
			}
			if !errors.Is(err, ErrInvalidOption) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("open: %v, want ErrInvalidOption containing %q", err, tt.want)
			}
		})
	}
}

func TestOpenCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Open(ctx, filepath.Join(t.TempDir(), "db")); !errors.Is(err, context.Canceled) {
		t.Fatalf("open with a canceled context: %v, want context.Canceled", err)
	}
}

func TestOpenBadPath(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, bytes.Repeat([]byte("not a database "), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	// The parent "directory" is a regular file.
	if _, err := Open(t.Context(), filepath.Join(file, "db")); err == nil || !strings.Contains(err.Error(), "create directory") {
		t.Fatalf("open under a file: %v, want a create directory error", err)
	}
	// The path is not a database.
	if _, err := Open(t.Context(), file); err == nil {
		t.Fatal("open of a non-database file succeeded")
	}
}

func TestLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "database")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	// A second Open in this process fails...
	if s2, err := Open(t.Context(), path); !errors.Is(err, storage.ErrLocked) {
		if err == nil {
			s2.Close()
		}
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	// ... and in another process.
	if got := openInChild(t, path); got != "locked" {
		t.Fatalf("open in another process: %q, want locked", got)
	}
	// The failed Opens left the first store working.
	if err := s.SaveDecided(t.Context(), storagetest.Chain(2, 1, 32)); err != nil {
		t.Fatalf("save after failed opens: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Close released the lock, for another process and for this one.
	if got := openInChild(t, path); got != "opened" {
		t.Fatalf("open in another process after close: %q, want opened", got)
	}
	s, err = Open(t.Context(), path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	if h, err := s.BlockHeight(t.Context()); err != nil || h != 2 {
		t.Fatalf("block height after reopen = %d, %v; want 2", h, err)
	}
}

// openInChild runs this test binary as a child that opens path, and
// returns what it reported.
func openInChild(t *testing.T, path string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), lockChildEnv+"="+path)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("lock child: %v (output %q)", err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestClosed(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	if err := s.SaveDecided(ctx, storagetest.Chain(3, 2, 32)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v, want nil", err)
	}
	calls := map[string]func() error{
		"LoadSafety":    func() error { _, err := s.LoadSafety(ctx); return err },
		"SaveSafety":    func() error { return s.SaveSafety(ctx, types.SafetyState{}) },
		"SaveProposal":  func() error { return s.SaveProposal(ctx, storage.StoredProposal{View: 1}) },
		"LoadProposals": func() error { _, err := s.LoadProposals(ctx); return err },
		"SaveDecided":   func() error { return s.SaveDecided(ctx, storagetest.Chain(1, 0, 0)) },
		"LastDecided":   func() error { _, err := s.LastDecided(ctx); return err },
		"BlockByHeight": func() error { _, err := s.BlockByHeight(ctx, 0); return err },
		"BlockRange":    func() error { _, err := s.BlockRange(ctx, 0, 2, 2); return err },
		"HeaderWindow":  func() error { _, err := s.HeaderWindow(ctx, 0, 10, 2); return err },
		"PruneBefore":   func() error { return s.PruneBefore(ctx, 1) },
		"LiveSize":      func() error { _, err := s.LiveSize(ctx); return err },
		"FirstHeight":   func() error { _, err := s.FirstHeight(ctx); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, storage.ErrClosed) {
			t.Errorf("%s after close: %v, want ErrClosed", name, err)
		}
	}
}

func TestOutOfRange(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	const big = uint64(1) << 63
	chain := storagetest.Chain(2, 1, 32)
	tests := []struct {
		name   string
		modify func(*types.Block)
		want   string
	}{
		{"height", func(b *types.Block) { b.Leaf.Header.Height = big }, "leaf.header.height"},
		{"view", func(b *types.Block) { b.Leaf.View = 1<<64 - 1 }, "leaf.view"},
		{"timestamp", func(b *types.Block) { b.Leaf.Header.Timestamp = big - 1 }, "leaf.header.timestamp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := chain[0]
			tt.modify(&b)
			err := s.SaveDecided(ctx, []types.Block{b})
			if !errors.Is(err, ErrOutOfRange) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("save: %v, want ErrOutOfRange naming %s", err, tt.want)
			}
		})
	}
	if err := s.SaveProposal(ctx, storage.StoredProposal{View: 1 << 63, Data: []byte("p")}); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("save proposal of view 2^63: %v, want ErrOutOfRange", err)
	}
	// Nothing was stored; huge read arguments find nothing.
	if h, err := s.BlockHeight(ctx); err != nil || h != 0 {
		t.Fatalf("block height = %d, %v; want 0", h, err)
	}
	if err := s.SaveDecided(ctx, chain); err != nil {
		t.Fatal(err)
	}
	if _, err := s.BlockByHeight(ctx, 1<<64-1); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("block 2^64-1: %v, want ErrNotFound", err)
	}
	if _, err := s.TransactionAt(ctx, 1, 1<<64-1); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("transaction 2^64-1: %v, want ErrNotFound", err)
	}
	if got, err := s.BlockRange(ctx, 0, 1<<64-1, 10); err != nil || len(got) != 2 {
		t.Errorf("block range to 2^64-1: %d blocks, %v; want 2", len(got), err)
	}
	if got, err := s.NamespaceHeights(ctx, 1<<40, 0, 10); err != nil || len(got) != 0 {
		t.Errorf("namespace 2^40: %v, %v; want none", got, err)
	}
	if n, err := s.TransactionCount(ctx, 0, 1<<64-1); err != nil || n != 1 {
		t.Errorf("transaction count to 2^64-1 = %d, %v; want 1", n, err)
	}
	w, err := s.HeaderWindow(ctx, 0, 1<<64-1, 10)
	if err != nil || len(w.Window) != 2 || w.Prev != nil || w.Next != nil {
		t.Errorf("header window to 2^64-1: %+v, %v; want both headers", w, err)
	}
	if h, err := s.HeightBefore(ctx, 1<<64-1); err != nil || h != 1 {
		t.Errorf("height before 2^64-1 = %d, %v; want 1", h, err)
	}
}

// TestSlowLog checks that operations above the threshold are logged.
func TestSlowLog(t *testing.T) {
	var buf strings.Builder
	s := openTemp(t, WithSlowThreshold(time.Nanosecond), WithLogger(newTextLogger(&buf)))
	if _, err := s.BlockHeight(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "sqlite: slow operation") || !strings.Contains(buf.String(), "op=\"block height\"") {
		t.Fatalf("log = %q, want a slow operation line for block height", buf.String())
	}
}

func newTextLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
