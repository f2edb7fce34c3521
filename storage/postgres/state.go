package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"

	"github.com/gospresso/gospresso/storage"
)

var _ storage.StateStore = (*Store)(nil)

// SaveState implements storage.StateStore. It is one statement (so one
// transaction) that upserts the single chain_state row, unless that holds a
// greater height, and writes only while the schema lock is held.
func (s *Store) SaveState(ctx context.Context, height uint64, data []byte) error {
	if height > math.MaxInt64 {
		return fmt.Errorf("postgres: save state: height %d: %w (want at most 2^63-1)", height, ErrOutOfRange)
	}
	if data == nil {
		data = []byte{}
	}
	return s.writeStatement(ctx, "save state", "save_state", int64(height), data)
}

// LoadState implements storage.StateStore.
func (s *Store) LoadState(ctx context.Context) (uint64, []byte, error) {
	if err := s.check(ctx); err != nil {
		return 0, nil, err
	}
	var (
		height int64
		data   []byte
	)
	err := s.poolRow(ctx, "load_state", nil, &height, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, fmt.Errorf("postgres: state snapshot: %w", storage.ErrNotFound)
	}
	if err != nil {
		return 0, nil, s.fail(ctx, "load state", err)
	}
	if height < 0 {
		return 0, nil, fmt.Errorf("postgres: load state: snapshot height %d is negative", height)
	}
	if data == nil {
		data = []byte{}
	}
	return uint64(height), data, nil
}
