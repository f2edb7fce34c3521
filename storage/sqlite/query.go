package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/types"
)

// read runs f in one read transaction, so that its statements see one
// snapshot of the database.
func (s *Store) read(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback()
	return f(tx)
}

// BlockRange implements storage.QueryStore: the blocks of heights [from,
// until), at most limit, stopping at the first height not stored. A
// non-empty range starting below the pruned height returns an error
// wrapping storage.ErrPruned.
func (s *Store) BlockRange(ctx context.Context, from, until uint64, limit int) ([]types.Block, error) {
	done, err := s.enter(ctx, "block range")
	if err != nil {
		return nil, err
	}
	defer done()
	var out []types.Block
	err = s.read(ctx, func(tx *sql.Tx) error {
		if limit <= 0 || from >= until {
			return nil
		}
		var pruned int64
		err := tx.StmtContext(ctx, s.rs.prunedHeight).QueryRowContext(ctx).Scan(&pruned)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case from < uint64(pruned):
			return fmt.Errorf("blocks from %d: %w (pruned below %d)", from, storage.ErrPruned, pruned)
		}
		rows, err := tx.StmtContext(ctx, s.rs.blockRange).QueryContext(ctx, clampInt(from), clampInt(until), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for want := from; rows.Next(); want++ {
			b, err := scanBlock(rows)
			if err != nil {
				return err
			}
			if b.Height() != want {
				break // the range starts below the first stored block
			}
			out = append(out, b)
		}
		return rows.Err()
	})
	if err != nil {
		if errors.Is(err, storage.ErrPruned) || errors.Is(err, ErrCorrupt) {
			return nil, fmt.Errorf("sqlite: block range: %w", err)
		}
		return nil, s.fail(ctx, "block range", err)
	}
	return out, nil
}

// BlockByPayloadHash implements storage.QueryStore: the lowest stored block
// whose header's payload commitment is c.
func (s *Store) BlockByPayloadHash(ctx context.Context, c types.Commitment) (types.Block, error) {
	return s.oneBlock(ctx, "block by payload hash", s.rs.blockByPayloadHash, func() error {
		return fmt.Errorf("sqlite: payload hash %s: %w", c.Short(), storage.ErrNotFound)
	}, c[:])
}

// TransactionAt implements storage.QueryStore. It reads only the
// transaction's bytes out of the stored payload.
func (s *Store) TransactionAt(ctx context.Context, height, index uint64) (types.Transaction, error) {
	what := fmt.Sprintf("transaction %d of block %d", index, height)
	done, err := s.enter(ctx, what)
	if err != nil {
		return types.Transaction{}, err
	}
	defer done()
	var (
		ns, offset int64
		data       []byte
	)
	err = s.rs.txAt.QueryRowContext(ctx, clampInt(height), clampInt(index)).Scan(&ns, &offset, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return types.Transaction{}, s.missing(ctx, height, what)
	}
	if err != nil {
		return types.Transaction{}, s.fail(ctx, what, err)
	}
	if offset >= 0 {
		return types.Transaction{Namespace: uint64(ns), Payload: nonNil(data)}, nil
	}
	// The transaction was not located in the payload when it was stored:
	// decode the payload.
	var nsTable, raw []byte
	err = s.rs.payloadAt.QueryRowContext(ctx, clampInt(height)).Scan(&nsTable, &raw)
	if errors.Is(err, sql.ErrNoRows) {
		return types.Transaction{}, s.missing(ctx, height, what)
	}
	if err != nil {
		return types.Transaction{}, s.fail(ctx, what, err)
	}
	txs, err := types.Payload{Raw: raw, NsTable: types.NsTable{Bytes: nsTable}}.Transactions()
	if err != nil || index >= uint64(len(txs)) {
		return types.Transaction{}, fmt.Errorf("sqlite: %s: %s: %w: the payload does not hold the indexed transaction", s.path, what, ErrCorrupt)
	}
	return txs[index], nil
}

// NamespaceHeights implements storage.QueryStore.
func (s *Store) NamespaceHeights(ctx context.Context, ns uint64, from uint64, limit int) ([]uint64, error) {
	done, err := s.enter(ctx, "namespace heights")
	if err != nil {
		return nil, err
	}
	defer done()
	if limit <= 0 || ns > math.MaxUint32 {
		return nil, nil
	}
	rows, err := s.rs.namespaceHeights.QueryContext(ctx, int64(ns), clampInt(from), limit)
	if err != nil {
		return nil, s.fail(ctx, "namespace heights", err)
	}
	defer rows.Close()
	var out []uint64
	for rows.Next() {
		var h int64
		if err := rows.Scan(&h); err != nil {
			return nil, s.fail(ctx, "namespace heights", err)
		}
		out = append(out, uint64(h))
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(ctx, "namespace heights", err)
	}
	return out, nil
}

// sums returns the transaction count and payload bytes of the stored blocks
// in [from, until), from the running totals (two index probes).
func (s *Store) sums(ctx context.Context, op string, from, until uint64) (txs, size uint64, err error) {
	done, err := s.enter(ctx, op)
	if err != nil {
		return 0, 0, err
	}
	defer done()
	if from >= until {
		return 0, 0, nil
	}
	var loHeight, loTxs, loSize, hiTxs, hiSize int64
	err = s.rs.sums.QueryRowContext(ctx, clampInt(from), clampInt(until)).Scan(&loHeight, &loTxs, &loSize, &hiTxs, &hiSize)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, nil // no block at or above from, or none below until
	}
	if err != nil {
		return 0, 0, s.fail(ctx, op, err)
	}
	if uint64(loHeight) >= until {
		return 0, 0, nil // no block in the range
	}
	if hiTxs < loTxs || hiSize < loSize {
		return 0, 0, fmt.Errorf("sqlite: %s: %s: %w: running totals decrease over [%d, %d)", s.path, op, ErrCorrupt, from, until)
	}
	return uint64(hiTxs - loTxs), uint64(hiSize - loSize), nil
}

// TransactionCount implements storage.QueryStore.
func (s *Store) TransactionCount(ctx context.Context, from, until uint64) (uint64, error) {
	n, _, err := s.sums(ctx, "transaction count", from, until)
	return n, err
}

// PayloadBytes implements storage.QueryStore.
func (s *Store) PayloadBytes(ctx context.Context, from, until uint64) (uint64, error) {
	_, n, err := s.sums(ctx, "payload bytes", from, until)
	return n, err
}

// HeaderWindow implements storage.QueryStore. When limit cuts the window
// short, Next is nil.
func (s *Store) HeaderWindow(ctx context.Context, start, end uint64, limit int) (storage.HeaderWindow, error) {
	done, err := s.enter(ctx, "header window")
	if err != nil {
		return storage.HeaderWindow{}, err
	}
	defer done()
	limit = max(limit, 0)
	var w storage.HeaderWindow
	err = s.read(ctx, func(tx *sql.Tx) error {
		var data []byte
		err := tx.StmtContext(ctx, s.rs.headerBefore).QueryRowContext(ctx, clampInt(start)).Scan(&data)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		default:
			h, err := decodeHeader(data)
			if err != nil {
				return err
			}
			w.Prev = &h
		}
		rows, err := tx.StmtContext(ctx, s.rs.headersIn).QueryContext(ctx, clampInt(start), clampInt(end), limit+1)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := rows.Scan(&data); err != nil {
				return err
			}
			if len(w.Window) == limit {
				return nil // cut by the limit: no Next
			}
			h, err := decodeHeader(data)
			if err != nil {
				return err
			}
			w.Window = append(w.Window, h)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		err = tx.StmtContext(ctx, s.rs.headerFrom).QueryRowContext(ctx, clampInt(max(start, end))).Scan(&data)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		default:
			h, err := decodeHeader(data)
			if err != nil {
				return err
			}
			w.Next = &h
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrCorrupt) {
			return storage.HeaderWindow{}, fmt.Errorf("sqlite: header window: %w", err)
		}
		return storage.HeaderWindow{}, s.fail(ctx, "header window", err)
	}
	return w, nil
}
