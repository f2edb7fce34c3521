package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/gospresso/gospresso/storage"
)

var _ storage.GenesisBinder = (*Store)(nil)

// BindGenesis implements storage.GenesisBinder: one transaction, committed
// only while the schema lock is held, reads the genesis row and inserts it
// when there is none.
func (s *Store) BindGenesis(ctx context.Context, commitment [32]byte) error {
	var mismatch *storage.GenesisMismatchError
	err := s.write(ctx, "bind genesis", func(tx *sql.Tx) error {
		mismatch = nil
		var stored []byte
		err := s.scan(ctx, tx, "load_genesis", "SELECT commitment FROM genesis WHERE id = 0", nil, &stored)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if _, err := s.exec(ctx, tx, "bind_genesis", "INSERT INTO genesis (id, commitment) VALUES (0, $1)", commitment[:]); err != nil {
				return s.fail(ctx, "bind genesis", err)
			}
			return nil
		case err != nil:
			return s.fail(ctx, "bind genesis", err)
		case len(stored) != len(commitment):
			return fmt.Errorf("postgres: bind genesis: %s: stored genesis commitment of %d bytes, want %d", s.target, len(stored), len(commitment))
		}
		if [32]byte(stored) != commitment {
			mismatch = &storage.GenesisMismatchError{Store: fmt.Sprintf("%s (schema %q)", s.target, s.schema), Stored: [32]byte(stored), Want: commitment}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if mismatch != nil {
		return fmt.Errorf("postgres: %w", mismatch)
	}
	return nil
}
