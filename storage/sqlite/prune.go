package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/gospresso/gospresso/storage"
)

// PruneBefore implements storage.Pruner: one transaction deletes every
// block below height (capped at the last stored block, which is never
// deleted; the rows of every block table cascade from header) and raises
// the pruned height to it. Pruning an empty store, or below what is already
// pruned, changes nothing.
func (s *Store) PruneBefore(ctx context.Context, height uint64) error {
	done, err := s.enter(ctx, "prune")
	if err != nil {
		return err
	}
	defer done()
	err = s.write(ctx, func(tx *sql.Tx) error { return s.pruneBefore(ctx, tx, height) })
	if err != nil {
		return s.fail(ctx, fmt.Sprintf("prune before %d", height), err)
	}
	return nil
}

// pruneBefore is PruneBefore within the transaction tx.
func (s *Store) pruneBefore(ctx context.Context, tx *sql.Tx, height uint64) error {
	var lo, hi sql.NullInt64
	if err := tx.StmtContext(ctx, s.ws.bounds).QueryRowContext(ctx).Scan(&lo, &hi); err != nil {
		return fmt.Errorf("read stored heights: %w", err)
	}
	if !hi.Valid {
		return nil
	}
	target := min(clampInt(height), hi.Int64)
	if target <= 0 {
		return nil
	}
	if _, err := tx.StmtContext(ctx, s.ws.pruneHeaders).ExecContext(ctx, target); err != nil {
		return fmt.Errorf("delete blocks below %d: %w", target, err)
	}
	if _, err := tx.StmtContext(ctx, s.ws.setPruned).ExecContext(ctx, target); err != nil {
		return fmt.Errorf("record pruned height %d: %w", target, err)
	}
	return nil
}

// PrunedHeight implements storage.Pruner.
func (s *Store) PrunedHeight(ctx context.Context) (uint64, bool, error) {
	done, err := s.enter(ctx, "pruned height")
	if err != nil {
		return 0, false, err
	}
	defer done()
	return s.prunedHeight(ctx)
}

// ResetPrunedHeight implements storage.Pruner: heights below the old pruned
// height then read as missing (storage.ErrNotFound), not pruned.
func (s *Store) ResetPrunedHeight(ctx context.Context) error {
	done, err := s.enter(ctx, "reset pruned height")
	if err != nil {
		return err
	}
	defer done()
	err = s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.StmtContext(ctx, s.ws.resetPruned).ExecContext(ctx)
		return err
	})
	if err != nil {
		return s.fail(ctx, "reset pruned height", err)
	}
	return nil
}

// LiveSize implements storage.Pruner: the bytes of the database pages in
// use, (page_count − freelist_count) × page_size. Deleting data moves pages
// to the free list, so it shrinks without a VACUUM.
func (s *Store) LiveSize(ctx context.Context) (uint64, error) {
	done, err := s.enter(ctx, "live size")
	if err != nil {
		return 0, err
	}
	defer done()
	var pages, free, size int64
	if err := s.rs.liveSize.QueryRowContext(ctx).Scan(&pages, &free, &size); err != nil {
		return 0, s.fail(ctx, "live size", err)
	}
	if pages < free || size <= 0 {
		return 0, fmt.Errorf("sqlite: %s: live size: %w: page_count %d, freelist_count %d, page_size %d", s.path, ErrCorrupt, pages, free, size)
	}
	return uint64(pages-free) * uint64(size), nil
}

// HeightBefore implements storage.Pruner: the highest stored height whose
// header timestamp is below t.
func (s *Store) HeightBefore(ctx context.Context, t uint64) (uint64, error) {
	done, err := s.enter(ctx, "height before")
	if err != nil {
		return 0, err
	}
	defer done()
	var h int64
	err = s.rs.heightBefore.QueryRowContext(ctx, clampInt(t)).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("sqlite: no block before time %d: %w", t, storage.ErrNotFound)
	}
	if err != nil {
		return 0, s.fail(ctx, "height before", err)
	}
	return uint64(h), nil
}

// FirstHeight implements storage.Pruner: the lowest stored height, or an
// error wrapping storage.ErrNotFound for an empty store.
func (s *Store) FirstHeight(ctx context.Context) (uint64, error) {
	done, err := s.enter(ctx, "first height")
	if err != nil {
		return 0, err
	}
	defer done()
	lo, _, err := s.bounds(ctx)
	if err != nil {
		return 0, err
	}
	if !lo.Valid {
		return 0, fmt.Errorf("sqlite: first height: %w", storage.ErrNotFound)
	}
	return uint64(lo.Int64), nil
}
