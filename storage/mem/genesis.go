package mem

import (
	"context"

	"github.com/gospresso/gospresso/storage"
)

var _ storage.GenesisBinder = (*Store)(nil)

// BindGenesis implements storage.GenesisBinder: the identity is kept with
// the rest of the value, so it survives Reopen.
func (s *Store) BindGenesis(ctx context.Context, commitment [32]byte) error {
	unlock, err := s.write(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if s.genesis != nil {
		if *s.genesis != commitment {
			return &storage.GenesisMismatchError{Store: "(in memory)", Stored: *s.genesis, Want: commitment}
		}
		return nil
	}
	c := commitment
	s.genesis = &c
	return nil
}
