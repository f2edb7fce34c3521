package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/gospresso/gospresso/storage"
)

// prunedHeight reads the recorded pruned height.
func (s *Store) prunedHeight(ctx context.Context) (uint64, bool, error) {
	var h int64
	err := s.poolRow(ctx, "pruned_height", nil, &h)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, false, nil
	case err != nil:
		return 0, false, err
	}
	return uint64(h), true, nil
}

// PruneBefore implements storage.Pruner: in one transaction it deletes the
// blocks below height (never the last stored block: height is capped at
// it) with their index rows, subtracts their bytes from the live size and
// records the pruned height, which never decreases. On an empty store it
// does nothing.
func (s *Store) PruneBefore(ctx context.Context, height uint64) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	return s.write(ctx, "prune", func(tx *sql.Tx) error { return s.pruneBefore(ctx, tx, height) })
}

// pruneBefore is PruneBefore within the transaction tx.
func (s *Store) pruneBefore(ctx context.Context, tx *sql.Tx, height uint64) error {
	var last sql.NullInt64
	if err := s.scan(ctx, tx, "prune_last", "SELECT max(height) FROM header", nil, &last); err != nil {
		return s.fail(ctx, "prune", err)
	}
	if !last.Valid {
		return nil
	}
	h := min(clamp(height), last.Int64)
	if h == 0 {
		return nil
	}
	// The children first, by range (fast), then the headers; the
	// cascade from header finds nothing left to delete.
	for _, q := range []struct{ name, sql string }{
		{"prune_transactions", "DELETE FROM transactions WHERE height < $1"},
		{"prune_namespaces", "DELETE FROM namespace WHERE height < $1"},
		{"prune_payloads", "DELETE FROM payload WHERE height < $1"},
		{"prune_leaves", "DELETE FROM leaf WHERE height < $1"},
	} {
		if _, err := s.exec(ctx, tx, q.name, q.sql, h); err != nil {
			return s.fail(ctx, fmt.Sprintf("prune below %d", h), err)
		}
	}
	var freed int64
	if err := s.scan(ctx, tx, "prune_headers", `WITH d AS (DELETE FROM header WHERE height < $1 RETURNING stored_bytes)
		SELECT coalesce(sum(stored_bytes), 0)::bigint FROM d`, []any{h}, &freed); err != nil {
		return s.fail(ctx, fmt.Sprintf("prune below %d", h), err)
	}
	if _, err := s.exec(ctx, tx, "prune_live_size", "UPDATE live_size SET bytes = bytes - $1 WHERE id = 0", freed); err != nil {
		return s.fail(ctx, "prune: live size", err)
	}
	if _, err := s.exec(ctx, tx, "record_pruned_height", `INSERT INTO pruned_height (id, last_height) VALUES (0, $1)
		ON CONFLICT (id) DO UPDATE SET last_height = greatest(pruned_height.last_height, EXCLUDED.last_height)`, h); err != nil {
		return s.fail(ctx, "prune: record pruned height", err)
	}
	return nil
}

// PrunedHeight implements storage.Pruner.
func (s *Store) PrunedHeight(ctx context.Context) (uint64, bool, error) {
	if err := s.check(ctx); err != nil {
		return 0, false, err
	}
	h, ok, err := s.prunedHeight(ctx)
	if err != nil {
		return 0, false, s.fail(ctx, "pruned height", err)
	}
	return h, ok, nil
}

// ResetPrunedHeight implements storage.Pruner (archive mode).
func (s *Store) ResetPrunedHeight(ctx context.Context) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	return s.write(ctx, "reset pruned height", func(tx *sql.Tx) error {
		if _, err := s.exec(ctx, tx, "reset_pruned_height", "DELETE FROM pruned_height"); err != nil {
			return s.fail(ctx, "reset pruned height", err)
		}
		return nil
	})
}

// LiveSize implements storage.Pruner: the bytes of the stored blocks (kept
// incrementally, see the package documentation) plus the proposals and the
// safety state. It shrinks as soon as blocks are pruned.
func (s *Store) LiveSize(ctx context.Context) (uint64, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	var n int64
	err := s.poolRow(ctx, "live_size", nil, &n)
	if err != nil {
		return 0, s.fail(ctx, "live size", err)
	}
	return uint64(max(n, 0)), nil
}

// HeightBefore implements storage.Pruner: the highest stored height whose
// timestamp is below t, through the timestamp index (timestamps do not
// decrease with height).
func (s *Store) HeightBefore(ctx context.Context, t uint64) (uint64, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	var h int64
	err := s.poolRow(ctx, "height_before", []any{clamp(t)}, &h)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, fmt.Errorf("postgres: height before %d: %w", t, storage.ErrNotFound)
	case err != nil:
		return 0, s.fail(ctx, fmt.Sprintf("height before %d", t), err)
	}
	return uint64(h), nil
}

// FirstHeight implements storage.Pruner; storage.ErrNotFound when empty.
func (s *Store) FirstHeight(ctx context.Context) (uint64, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	var h sql.NullInt64
	if err := s.poolRow(ctx, "first_height", nil, &h); err != nil {
		return 0, s.fail(ctx, "first height", err)
	}
	if !h.Valid {
		return 0, fmt.Errorf("postgres: first height: %w", storage.ErrNotFound)
	}
	return uint64(h.Int64), nil
}
