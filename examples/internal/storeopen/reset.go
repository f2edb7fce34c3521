package storeopen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/gospresso/gospresso/examples/internal/options"
	"github.com/gospresso/gospresso/storage/filelock"
	"github.com/gospresso/gospresso/storage/postgres"
)

// fsNames are the top-level entries the file-system backend creates (its
// package doc); a directory holding none of them is not a store.
var fsNames = []string{"lock", "mode", "highest_voted_view", "quorum_proposals2", "hotshot_data_source", "anchor_leaf"}

// sqliteDirName is the directory below --path that holds the SQLite default
// database; a file-system reset of the same directory leaves it alone.
const sqliteDirName = "sqlite"

// sqliteMagic starts every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// Reset wipes the consensus and query data of the store cfg selects (see
// the package doc) and returns what it removed, one line per item, for the
// caller to print; nothing removed (no store there) is an empty list and no
// error. It asks no question. A store held by a running node is refused
// with an error wrapping storage.ErrLocked, a directory or file that does
// not look like a store with ErrNotStore. Of the options, WithSchema
// applies.
func Reset(ctx context.Context, cfg *options.Config, opts ...Option) ([]string, error) {
	t, err := plan(cfg, newSettings(opts))
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	switch t.backend {
	case BackendFS:
		return resetFS(ctx, t.path)
	case BackendSQLite:
		return resetSQLite(t.path)
	default:
		return resetPostgres(ctx, t)
	}
}

// resetFS removes the file-system store's entries from dir under its lock,
// the lock file last; a "sqlite" directory (the SQL default store) stays.
func resetFS(ctx context.Context, dir string) ([]string, error) {
	fail := func(err error) error { return fmt.Errorf("reset file-system storage %s: %w", dir, err) }
	entries, err := os.ReadDir(dir)
	if errors.Is(err, iofs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fail(err)
	}
	var names []string
	known := false
	for _, e := range entries {
		if e.Name() == sqliteDirName && e.IsDir() {
			continue
		}
		names = append(names, e.Name())
		known = known || slices.Contains(fsNames, e.Name())
	}
	if len(names) == 0 {
		return nil, nil
	}
	if !known {
		return nil, fail(fmt.Errorf("%w: found %d entries but none of %v; nothing removed", ErrNotStore, len(names), fsNames))
	}
	lockName := filepath.Join(dir, "lock")
	lock, err := filelock.Lock(lockName)
	if err != nil {
		return nil, fail(err)
	}
	var removed []string
	for _, name := range names {
		if name == "lock" {
			continue
		}
		if err := ctx.Err(); err != nil {
			lock.Close()
			return removed, fail(err)
		}
		p := filepath.Join(dir, name)
		if err := os.RemoveAll(p); err != nil {
			lock.Close()
			return removed, fail(err)
		}
		removed = append(removed, "removed "+p)
	}
	// Remove the lock file while holding it, then let it go.
	err = os.Remove(lockName)
	lock.Close()
	if err != nil && !errors.Is(err, iofs.ErrNotExist) {
		return removed, fail(err)
	}
	if err == nil {
		removed = append(removed, "removed "+lockName)
	}
	return removed, nil
}

// resetSQLite deletes the database file and its WAL, shared-memory and
// journal files under the store's lock (PATH.lock), then the lock file.
func resetSQLite(path string) ([]string, error) {
	fail := func(err error) error { return fmt.Errorf("reset SQLite %s: %w", path, err) }
	files := []string{path, path + "-wal", path + "-shm", path + "-journal"}
	var present []string
	for _, f := range files {
		if fi, err := os.Lstat(f); err == nil {
			if !fi.Mode().IsRegular() {
				return nil, fail(fmt.Errorf("%w: %s is not a regular file; nothing removed", ErrNotStore, f))
			}
			present = append(present, f)
		}
	}
	if len(present) == 0 {
		return nil, nil
	}
	if err := checkSQLiteFile(path); err != nil {
		return nil, fail(err)
	}
	lockName := path + ".lock"
	lock, err := filelock.Lock(lockName)
	if err != nil {
		return nil, fail(err)
	}
	var removed []string
	for _, f := range present {
		if err := os.Remove(f); err != nil && !errors.Is(err, iofs.ErrNotExist) {
			lock.Close()
			return removed, fail(err)
		}
		removed = append(removed, "removed "+f)
	}
	err = os.Remove(lockName)
	lock.Close()
	if err != nil && !errors.Is(err, iofs.ErrNotExist) {
		return removed, fail(err)
	}
	return append(removed, "removed "+lockName), nil
}

// checkSQLiteFile refuses a non-empty file that is not an SQLite database.
func checkSQLiteFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, iofs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, len(sqliteMagic))
	n, err := io.ReadFull(f, head)
	switch {
	case n == 0 && (err == io.EOF || err == nil):
		return nil // an empty file: SQLite creates the database lazily
	case err != nil && !errors.Is(err, io.ErrUnexpectedEOF):
		return err
	case !bytes.Equal(head[:n], sqliteMagic):
		return fmt.Errorf("%w: %s is not an SQLite database (no %q header); nothing removed", ErrNotStore, path, sqliteMagic[:15])
	}
	return nil
}

func resetPostgres(ctx context.Context, t *target) ([]string, error) {
	if err := postgres.Reset(ctx, t.pg); err != nil {
		return nil, fmt.Errorf("reset %s: %w", t.where(), err)
	}
	what := "dropped schema " + t.pg.Schema
	if t.pg.Schema == "" || t.pg.Schema == postgres.DefaultSchema {
		what = "dropped the store's tables in schema " + postgres.DefaultSchema
	}
	return []string{fmt.Sprintf("%s (%s)", what, t.where())}, nil
}
