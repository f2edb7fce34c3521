package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/gospresso/gospresso/storage"
)

var _ storage.GenesisBinder = (*Store)(nil)

// BindGenesis implements storage.GenesisBinder: one transaction reads the
// genesis row and inserts it when there is none. The identity is on disk
// when it returns.
func (s *Store) BindGenesis(ctx context.Context, commitment [32]byte) error {
	done, err := s.enter(ctx, "bind genesis")
	if err != nil {
		return err
	}
	defer done()
	var mismatch *storage.GenesisMismatchError
	err = s.write(ctx, func(tx *sql.Tx) error {
		var stored []byte
		err := tx.QueryRowContext(ctx, `SELECT commitment FROM genesis WHERE id = 1`).Scan(&stored)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err := tx.ExecContext(ctx, `INSERT INTO genesis (id, commitment) VALUES (1, ?)`, commitment[:])
			return err
		case err != nil:
			return err
		case len(stored) != len(commitment):
			return fmt.Errorf("%w: genesis commitment of %d bytes, want %d", ErrCorrupt, len(stored), len(commitment))
		}
		if [32]byte(stored) != commitment {
			mismatch = &storage.GenesisMismatchError{Store: s.path, Stored: [32]byte(stored), Want: commitment}
		}
		return nil
	})
	if err != nil {
		return s.fail(ctx, "bind genesis", err)
	}
	if mismatch != nil {
		return fmt.Errorf("sqlite: %w", mismatch)
	}
	return nil
}
