package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/gospresso/gospresso/storage"
)

var _ storage.StateStore = (*Store)(nil)

// SaveState implements storage.StateStore: one transaction upserts the
// single chain_state row unless it holds a greater height. The snapshot is
// on disk when it returns.
func (s *Store) SaveState(ctx context.Context, height uint64, data []byte) error {
	done, err := s.enter(ctx, "save state")
	if err != nil {
		return err
	}
	defer done()
	if height > maxStored {
		return fmt.Errorf("sqlite: save state: height %d: %w (want at most %d)", height, ErrOutOfRange, uint64(maxStored))
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.StmtContext(ctx, s.ws.saveState).ExecContext(ctx, int64(height), nonNil(data))
		return err
	})
	if err != nil {
		return s.fail(ctx, "save state", err)
	}
	return nil
}

// LoadState implements storage.StateStore.
func (s *Store) LoadState(ctx context.Context) (uint64, []byte, error) {
	done, err := s.enter(ctx, "load state")
	if err != nil {
		return 0, nil, err
	}
	defer done()
	var (
		height int64
		data   []byte
	)
	err = s.rs.loadState.QueryRowContext(ctx).Scan(&height, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, fmt.Errorf("sqlite: state snapshot: %w", storage.ErrNotFound)
	}
	if err != nil {
		return 0, nil, s.fail(ctx, "load state", err)
	}
	if height < 0 {
		return 0, nil, fmt.Errorf("sqlite: %s: load state: %w: snapshot height %d", s.path, ErrCorrupt, height)
	}
	return uint64(height), nonNil(data), nil
}
