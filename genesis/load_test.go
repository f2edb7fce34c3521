package genesis

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// loadWithin runs Load(path) and fails the test if it has not returned
// within d (an unbounded read would hang or exhaust memory instead).
func loadWithin(t *testing.T, path string, d time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := Load(path)
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("Load(%s) did not return within %v", path, d)
		return nil
	}
}

// checkTooLarge checks err is the size-limit error for path: an *Error
// wrapping ErrTooLarge whose text names the file, the limit and what was
// expected.
func checkTooLarge(t *testing.T, path string, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrTooLarge) || e.File != path {
		t.Fatalf("Load(%s): %v, want an *Error wrapping ErrTooLarge", path, err)
	}
	want := fmt.Sprintf("genesis: %s: larger than %d bytes (16 MiB), the most a genesis file may hold (want a genesis TOML file of at most %d bytes)",
		path, MaxFileSize, MaxFileSize)
	if err.Error() != want {
		t.Errorf("error text\n%s\nwant\n%s", err, want)
	}
}

// A genesis file is read up to MaxFileSize bytes: a file of exactly that
// size loads, one byte more is refused without being parsed.
func TestLoadSizeLimit(t *testing.T) {
	dir := t.TempDir()
	pad := func(n int) []byte {
		b := []byte(validDoc)
		line := "# " + strings.Repeat("x", 1021) + "\n" // 1 KiB comment lines
		for len(b)+len(line) <= n {
			b = append(b, line...)
		}
		for len(b) < n-1 {
			b = append(b, ' ')
		}
		return append(b, '\n')
	}
	exact := filepath.Join(dir, "exact.toml")
	if err := os.WriteFile(exact, pad(MaxFileSize), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := loadWithin(t, exact, 30*time.Second); err != nil {
		t.Fatalf("a valid genesis of exactly %d bytes: %v", MaxFileSize, err)
	}
	over := filepath.Join(dir, "over.toml")
	if err := os.WriteFile(over, pad(MaxFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	checkTooLarge(t, over, loadWithin(t, over, 30*time.Second))
}

// A FIFO that streams more than the limit is read up to the limit only.
func TestLoadSizeLimitFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "genesis.fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	go func() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer f.Close()
		chunk := make([]byte, 1<<20)
		for i := range chunk {
			chunk[i] = '#'
		}
		for range 64 { // 64 MiB, then EOF; stops early once Load closes the FIFO
			if _, err := f.Write(chunk); err != nil {
				return
			}
		}
	}()
	checkTooLarge(t, path, loadWithin(t, path, 30*time.Second))
}

// /dev/zero never ends: Load stops at the limit instead of exhausting
// memory.
func TestLoadDevZero(t *testing.T) {
	const path = "/dev/zero"
	if _, err := os.Stat(path); err != nil {
		t.Skip(err)
	}
	checkTooLarge(t, path, loadWithin(t, path, 30*time.Second))
}

// LoadContext loads like Load, and returns at once when its context ends,
// here while opening a FIFO nobody writes to (which blocks).
func TestLoadContext(t *testing.T) {
	good := filepath.Join(t.TempDir(), "genesis.toml")
	if err := os.WriteFile(good, []byte(validDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadContext(t.Context(), good); err != nil {
		t.Fatalf("LoadContext: %v", err)
	}
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := LoadContext(canceled, good); !errors.Is(err, context.Canceled) {
		t.Errorf("LoadContext with an ended context: %v", err)
	}

	fifo := filepath.Join(t.TempDir(), "genesis.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	// Unblock the abandoned open at the end, so no goroutine outlives the
	// test.
	t.Cleanup(func() {
		if fd, err := syscall.Open(fifo, syscall.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			syscall.Close(fd)
		}
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := LoadContext(ctx, fifo)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("LoadContext of a FIFO without a writer returned before the cancel: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	cancel()
	select {
	case err := <-done:
		want := "genesis: " + fifo + ": interrupted while loading the genesis file: context canceled"
		if !errors.Is(err, context.Canceled) || err.Error() != want {
			t.Errorf("after the cancel: %v, want %s", err, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("LoadContext did not return within 5s of the cancel")
	}
}
