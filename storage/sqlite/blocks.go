package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/types"
)

// SaveDecided implements storage.BlockStore: one transaction stores the new
// blocks (header, leaf, payload, running totals, transaction and namespace
// index rows) and drops the proposals of views up to the last block's view.
// The first block of an empty store must have height 0. Blocks already
// stored are compared by leaf commitment and skipped; blocks below the
// lowest stored height (pruned) are skipped. In consensus-only mode
// (WithConsensusOnly) the same transaction then prunes every block below
// the last one.
func (s *Store) SaveDecided(ctx context.Context, blocks []types.Block) error {
	done, err := s.enter(ctx, "save decided")
	if err != nil {
		return err
	}
	defer done()
	if len(blocks) == 0 {
		return nil
	}
	for i := range blocks {
		if err := checkBlock(i, &blocks[i]); err != nil {
			return fmt.Errorf("sqlite: save decided: %w", err)
		}
		if i > 0 && blocks[i].Height() != blocks[i-1].Height()+1 {
			return fmt.Errorf("sqlite: save decided: block %d has height %d after %d: %w",
				i, blocks[i].Height(), blocks[i-1].Height(), storage.ErrConflict)
		}
	}
	err = s.write(ctx, func(tx *sql.Tx) error { return s.saveDecided(ctx, tx, blocks) })
	if err != nil {
		if errors.Is(err, storage.ErrConflict) || errors.Is(err, ErrCorrupt) {
			return fmt.Errorf("sqlite: save decided: %w", err)
		}
		return s.fail(ctx, "save decided", err)
	}
	return nil
}

func (s *Store) saveDecided(ctx context.Context, tx *sql.Tx, blocks []types.Block) error {
	var lo, hi sql.NullInt64
	if err := tx.StmtContext(ctx, s.ws.bounds).QueryRowContext(ctx).Scan(&lo, &hi); err != nil {
		return fmt.Errorf("read stored heights: %w", err)
	}
	if !hi.Valid {
		hi.Int64 = -1 // an empty store starts at height 0
	}
	var cumTxs, cumSize int64
	if hi.Valid {
		err := tx.StmtContext(ctx, s.ws.aggregateAt).QueryRowContext(ctx, hi.Int64).Scan(&cumTxs, &cumSize)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: no aggregate row for the last block %d", ErrCorrupt, hi.Int64)
		}
		if err != nil {
			return fmt.Errorf("read totals: %w", err)
		}
	}
	for i := range blocks {
		b := &blocks[i]
		h := int64(b.Height())
		if hi.Valid && h <= hi.Int64 {
			if h < lo.Int64 {
				continue // pruned, or below the first block ever stored
			}
			var stored []byte
			err := tx.StmtContext(ctx, s.ws.leafHashAt).QueryRowContext(ctx, h).Scan(&stored)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("%w: no leaf at height %d between stored heights %d and %d", ErrCorrupt, h, lo.Int64, hi.Int64)
			}
			if err != nil {
				return fmt.Errorf("read leaf %d: %w", h, err)
			}
			if c := b.Leaf.Commit(); !bytes.Equal(stored, c[:]) {
				return fmt.Errorf("a different block is stored at height %d: %w", h, storage.ErrConflict)
			}
			continue
		}
		if next := hi.Int64 + 1; h != next { // hi.Int64 is -1 (next 0) for an empty store
			return fmt.Errorf("block at height %d leaves a gap (next height is %d): %w", h, next, storage.ErrConflict)
		}
		row, err := makeRow(b)
		if err != nil {
			return err
		}
		cumTxs += int64(len(row.txs))
		cumSize += int64(len(row.raw))
		if err := s.insertBlock(ctx, tx, row, cumTxs, cumSize); err != nil {
			return fmt.Errorf("block %d: %w", h, err)
		}
		if !lo.Valid {
			lo = sql.NullInt64{Int64: h, Valid: true}
		}
		hi = sql.NullInt64{Int64: h, Valid: true}
	}
	last := int64(blocks[len(blocks)-1].Leaf.View)
	if _, err := tx.StmtContext(ctx, s.ws.deleteProposals).ExecContext(ctx, last); err != nil {
		return fmt.Errorf("drop proposals up to view %d: %w", last, err)
	}
	if s.cfg.consensusOnly && hi.Int64 > 0 && (!lo.Valid || lo.Int64 < hi.Int64) {
		// Consensus-only: keep the last block only.
		if err := s.pruneBefore(ctx, tx, uint64(hi.Int64)); err != nil {
			return fmt.Errorf("consensus-only: %w", err)
		}
	}
	return nil
}

// insertBlock writes the rows of one new block.
func (s *Store) insertBlock(ctx context.Context, tx *sql.Tx, r *blockRow, cumTxs, cumSize int64) error {
	h := r.height
	if _, err := tx.StmtContext(ctx, s.ws.insertHeader).ExecContext(ctx,
		h, r.blockHash[:], r.payloadHash[:], r.timestamp, r.header); err != nil {
		return fmt.Errorf("insert header: %w", err)
	}
	if _, err := tx.StmtContext(ctx, s.ws.insertLeaf).ExecContext(ctx, h, r.leafHash[:], r.view, r.leaf); err != nil {
		return fmt.Errorf("insert leaf: %w", err)
	}
	if _, err := tx.StmtContext(ctx, s.ws.insertPayload).ExecContext(ctx,
		h, int64(len(r.raw)), int64(len(r.txs)), r.nsTable, r.raw); err != nil {
		return fmt.Errorf("insert payload: %w", err)
	}
	if _, err := tx.StmtContext(ctx, s.ws.insertAggregate).ExecContext(ctx,
		h, int64(len(r.txs)), int64(len(r.raw)), cumTxs, cumSize); err != nil {
		return fmt.Errorf("insert aggregate: %w", err)
	}
	if len(r.namespaces) > 0 {
		st := tx.StmtContext(ctx, s.ws.insertNamespace)
		for _, ns := range r.namespaces {
			if _, err := st.ExecContext(ctx, int64(ns), h); err != nil {
				return fmt.Errorf("insert namespace %d: %w", ns, err)
			}
		}
	}
	return s.insertTxs(ctx, tx, h, r.txs)
}

// insertTxs writes the transaction index rows with the largest multi-row
// inserts that fit.
func (s *Store) insertTxs(ctx context.Context, tx *sql.Tx, h int64, txs []txRow) error {
	args := make([]any, 0, txColumns*min(len(txs), txBatchSize(0)))
	next := 0
	for level := range txBatchLevels {
		n := txBatchSize(level)
		if len(txs)-next < n {
			continue
		}
		st := tx.StmtContext(ctx, s.ws.insertTxs[level])
		for len(txs)-next >= n {
			args = args[:0]
			for i := next; i < next+n; i++ {
				t := &txs[i]
				args = append(args, h, int64(i), t.hash[:], int64(t.ns), t.offset, t.size)
			}
			if _, err := st.ExecContext(ctx, args...); err != nil {
				return fmt.Errorf("insert transactions %d..%d: %w", next, next+n-1, err)
			}
			next += n
		}
	}
	return nil
}

// missing is the error for an object at height h that a read did not find:
// ErrPruned below the pruned height, otherwise ErrNotFound.
func (s *Store) missing(ctx context.Context, h uint64, what string) error {
	pruned, ok, err := s.prunedHeight(ctx)
	if err != nil {
		return err
	}
	if ok && h < pruned {
		return fmt.Errorf("sqlite: %s: %w (pruned below %d)", what, storage.ErrPruned, pruned)
	}
	return fmt.Errorf("sqlite: %s: %w", what, storage.ErrNotFound)
}

// prunedHeight reads the pruned height.
func (s *Store) prunedHeight(ctx context.Context) (uint64, bool, error) {
	var h int64
	err := s.rs.prunedHeight.QueryRowContext(ctx).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, s.fail(ctx, "read pruned height", err)
	}
	return uint64(h), true, nil
}

// rowScanner is a *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(dest ...any) error }

// scanBlock reads the blockColumns of a row.
func scanBlock(r rowScanner) (types.Block, error) {
	var (
		h                  int64
		leaf, nsTable, raw []byte
	)
	if err := r.Scan(&h, &leaf, &nsTable, &raw); err != nil {
		return types.Block{}, err
	}
	return decodeBlock(h, leaf, nsTable, raw)
}

// oneBlock runs a single-block query; a missing row is reported by
// notFound.
func (s *Store) oneBlock(ctx context.Context, op string, st *sql.Stmt, notFound func() error, args ...any) (types.Block, error) {
	done, err := s.enter(ctx, op)
	if err != nil {
		return types.Block{}, err
	}
	defer done()
	b, err := scanBlock(st.QueryRowContext(ctx, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return types.Block{}, notFound()
	}
	if err != nil {
		if errors.Is(err, ErrCorrupt) {
			return types.Block{}, fmt.Errorf("sqlite: %s: %w", op, err)
		}
		return types.Block{}, s.fail(ctx, op, err)
	}
	return b, nil
}

// LastDecided implements storage.BlockStore.
func (s *Store) LastDecided(ctx context.Context) (types.Block, error) {
	return s.oneBlock(ctx, "last decided", s.rs.lastBlock, func() error {
		return fmt.Errorf("sqlite: last decided: %w", storage.ErrNotFound)
	})
}

// BlockByHeight implements storage.BlockStore; below the pruned height it
// returns an error wrapping storage.ErrPruned.
func (s *Store) BlockByHeight(ctx context.Context, h uint64) (types.Block, error) {
	what := fmt.Sprintf("block %d", h)
	return s.oneBlock(ctx, what, s.rs.blockByHeight, func() error { return s.missing(ctx, h, what) }, clampInt(h))
}

// BlockByLeaf implements storage.BlockStore.
func (s *Store) BlockByLeaf(ctx context.Context, c types.Commitment) (types.Block, error) {
	return s.oneBlock(ctx, "block by leaf", s.rs.blockByLeaf, func() error {
		return fmt.Errorf("sqlite: leaf %s: %w", c.Short(), storage.ErrNotFound)
	}, c[:])
}

// BlockByHash implements storage.BlockStore.
func (s *Store) BlockByHash(ctx context.Context, c types.Commitment) (types.Block, error) {
	return s.oneBlock(ctx, "block by hash", s.rs.blockByHash, func() error {
		return fmt.Errorf("sqlite: block hash %s: %w", c.Short(), storage.ErrNotFound)
	}, c[:])
}

// TransactionByHash implements storage.BlockStore: the earliest stored
// inclusion, by (height, index).
func (s *Store) TransactionByHash(ctx context.Context, c types.Commitment) (storage.TxLocation, error) {
	done, err := s.enter(ctx, "transaction by hash")
	if err != nil {
		return storage.TxLocation{}, err
	}
	defer done()
	var h, idx int64
	err = s.rs.txByHash.QueryRowContext(ctx, c[:]).Scan(&h, &idx)
	if errors.Is(err, sql.ErrNoRows) {
		return storage.TxLocation{}, fmt.Errorf("sqlite: transaction %s: %w", c.Short(), storage.ErrNotFound)
	}
	if err != nil {
		return storage.TxLocation{}, s.fail(ctx, "transaction by hash", err)
	}
	return storage.TxLocation{Height: uint64(h), Index: uint64(idx)}, nil
}

// BlockHeight implements storage.BlockStore: the highest stored height + 1,
// or 0 for an empty store.
func (s *Store) BlockHeight(ctx context.Context) (uint64, error) {
	done, err := s.enter(ctx, "block height")
	if err != nil {
		return 0, err
	}
	defer done()
	_, hi, err := s.bounds(ctx)
	if err != nil {
		return 0, err
	}
	if !hi.Valid {
		return 0, nil
	}
	return uint64(hi.Int64) + 1, nil
}

// bounds reads the lowest and highest stored heights.
func (s *Store) bounds(ctx context.Context) (lo, hi sql.NullInt64, err error) {
	if err := s.rs.bounds.QueryRowContext(ctx).Scan(&lo, &hi); err != nil {
		return lo, hi, s.fail(ctx, "read stored heights", err)
	}
	return lo, hi, nil
}
