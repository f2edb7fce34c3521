package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/storagecodec"
	"github.com/gospresso/gospresso/types"
)

var _ storage.QueryStore = (*Store)(nil)

// isUniqueViolation reports a unique-constraint error of the server.
func isUniqueViolation(err error) bool { return pq.As(err, pqerror.UniqueViolation) != nil }

// clamp maps a uint64 bound to BIGINT, saturating at 2^63-1 (no stored
// height, timestamp or namespace is larger).
func clamp(u uint64) int64 {
	if u > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(u)
}

// BlockRange implements storage.QueryStore: blocks from, from+1, ... below
// until, at most limit, stopping at the first height not stored; from below
// the pruned height is storage.ErrPruned.
func (s *Store) BlockRange(ctx context.Context, from, until uint64, limit int) ([]types.Block, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	what := fmt.Sprintf("blocks [%d, %d)", from, until)
	if limit <= 0 || from >= until || from > math.MaxInt64 {
		return nil, s.prunedRange(ctx, what, from)
	}
	var out []types.Block
	next := int64(from)
	err := s.poolRows(ctx, "block_range",
		[]any{int64(from), clamp(until), int64(limit)}, func(r *sql.Rows) error {
			var (
				h             int64
				leaf, ns, raw []byte
			)
			if err := r.Scan(&h, &leaf, &ns, &raw); err != nil {
				return err
			}
			if h != next {
				return errStop
			}
			b, err := decodeBlock(leaf, ns, raw)
			if err != nil {
				return err
			}
			out = append(out, b)
			next++
			return nil
		})
	if err != nil && !errors.Is(err, errStop) {
		return nil, s.fail(ctx, what, err)
	}
	if len(out) == 0 {
		return nil, s.prunedRange(ctx, what, from)
	}
	return out, nil
}

// errStop ends a row loop early.
var errStop = errors.New("stop")

// prunedRange is the error of a range starting at from that found nothing:
// storage.ErrPruned when from is below the pruned height, else nil.
func (s *Store) prunedRange(ctx context.Context, what string, from uint64) error {
	p, ok, err := s.prunedHeight(ctx)
	switch {
	case err != nil:
		return s.fail(ctx, what, err)
	case ok && from < p:
		return fmt.Errorf("postgres: %s: %w (pruned below %d)", what, storage.ErrPruned, p)
	}
	return nil
}

// BlockByPayloadHash implements storage.QueryStore: the lowest stored
// block whose header commits to payload c.
func (s *Store) BlockByPayloadHash(ctx context.Context, c types.Commitment) (types.Block, error) {
	if err := s.check(ctx); err != nil {
		return types.Block{}, err
	}
	what := "payload hash " + c.Short()
	b, ok, err := s.oneBlock(ctx, "block_by_payload_hash", c[:])
	switch {
	case err != nil:
		return types.Block{}, s.fail(ctx, what, err)
	case !ok:
		return types.Block{}, fmt.Errorf("postgres: %s: %w", what, storage.ErrNotFound)
	}
	return b, nil
}

// TransactionAt implements storage.QueryStore. It reads only the
// transaction's bytes from the payload, through the offsets kept in the
// transactions table.
func (s *Store) TransactionAt(ctx context.Context, height, index uint64) (types.Transaction, error) {
	if err := s.check(ctx); err != nil {
		return types.Transaction{}, err
	}
	what := fmt.Sprintf("transaction %d of block %d", index, height)
	if height > math.MaxInt64 || index > math.MaxInt64 {
		return types.Transaction{}, fmt.Errorf("postgres: %s: %w", what, storage.ErrNotFound)
	}
	var (
		ns   int64
		data []byte
		off  sql.NullInt64
	)
	err := s.poolRow(ctx, "transaction_at", []any{int64(height), int64(index)}, &ns, &off, &data)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return types.Transaction{}, s.missing(ctx, what, height)
	case err != nil:
		return types.Transaction{}, s.fail(ctx, what, err)
	case off.Valid:
		return types.Transaction{Namespace: uint64(ns), Payload: nonNil(data)}, nil
	}
	// The offsets are unknown: decode the payload.
	b, err := s.BlockByHeight(ctx, height)
	if err != nil {
		return types.Transaction{}, err
	}
	txs, err := b.Payload.Transactions()
	if err != nil {
		return types.Transaction{}, fmt.Errorf("postgres: %s: %w", what, err)
	}
	if index >= uint64(len(txs)) {
		return types.Transaction{}, fmt.Errorf("postgres: %s (%d transactions): %w", what, len(txs), storage.ErrNotFound)
	}
	return txs[index], nil
}

// NamespaceHeights implements storage.QueryStore with the (namespace,
// height) index.
func (s *Store) NamespaceHeights(ctx context.Context, ns uint64, from uint64, limit int) ([]uint64, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	what := fmt.Sprintf("namespace %d from %d", ns, from)
	if limit <= 0 || ns > math.MaxInt64 || from > math.MaxInt64 {
		return nil, nil
	}
	var out []uint64
	err := s.poolRows(ctx, "namespace_heights",
		[]any{int64(ns), int64(from), int64(limit)}, func(r *sql.Rows) error {
			var h int64
			if err := r.Scan(&h); err != nil {
				return err
			}
			out = append(out, uint64(h))
			return nil
		})
	if err != nil {
		return nil, s.fail(ctx, what, err)
	}
	return out, nil
}

// rangeSum sums a per-block count over the stored blocks of [from, until)
// from the running totals: two index lookups whatever the range. A range
// starting below the pruned height is storage.ErrPruned.
func (s *Store) rangeSum(ctx context.Context, name, what string, from, until uint64) (uint64, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	if from >= until || from > math.MaxInt64 {
		return 0, s.prunedRange(ctx, what, from)
	}
	var (
		pruned, a, b, before, upto sql.NullInt64
	)
	err := s.poolRow(ctx, name, []any{int64(from), clamp(until)}, &pruned, &a, &b, &before, &upto)
	if err != nil {
		return 0, s.fail(ctx, what, err)
	}
	if pruned.Valid && from < uint64(pruned.Int64) {
		return 0, fmt.Errorf("postgres: %s: %w (pruned below %d)", what, storage.ErrPruned, pruned.Int64)
	}
	if !a.Valid || !b.Valid || a.Int64 > b.Int64 || !before.Valid || !upto.Valid {
		return 0, nil
	}
	return uint64(upto.Int64 - before.Int64), nil
}

// TransactionCount implements storage.QueryStore.
func (s *Store) TransactionCount(ctx context.Context, from, until uint64) (uint64, error) {
	return s.rangeSum(ctx, "transaction_count", fmt.Sprintf("transaction count [%d, %d)", from, until), from, until)
}

// PayloadBytes implements storage.QueryStore.
func (s *Store) PayloadBytes(ctx context.Context, from, until uint64) (uint64, error) {
	return s.rangeSum(ctx, "payload_bytes", fmt.Sprintf("payload bytes [%d, %d)", from, until), from, until)
}

// HeaderWindow implements storage.QueryStore in one statement (one
// snapshot): the last header before start, the window in timestamp order
// (at most limit), and the first header after the window, which is nil when
// the limit cut the window. Timestamps are assumed not to decrease with
// height, as consensus guarantees.
func (s *Store) HeaderWindow(ctx context.Context, start, end uint64, limit int) (storage.HeaderWindow, error) {
	if err := s.check(ctx); err != nil {
		return storage.HeaderWindow{}, err
	}
	what := fmt.Sprintf("header window [%d, %d)", start, end)
	lim := int64(max(limit, 0))
	var (
		w    storage.HeaderWindow
		cut  bool
		rows int64
	)
	err := s.poolRows(ctx, "header_window",
		[]any{clamp(start), clamp(end), lim}, func(r *sql.Rows) error {
			var (
				kind int
				data []byte
			)
			if err := r.Scan(&kind, &data); err != nil {
				return err
			}
			h, err := storagecodec.DecodeHeader(data)
			if err != nil {
				return err
			}
			switch kind {
			case 0:
				w.Prev = &h
			case 1:
				if rows++; rows > lim {
					cut = true
					return nil
				}
				w.Window = append(w.Window, h)
			case 2:
				w.Next = &h
			}
			return nil
		})
	if err != nil {
		return storage.HeaderWindow{}, s.fail(ctx, what, err)
	}
	if cut {
		w.Next = nil
	}
	return w, nil
}
