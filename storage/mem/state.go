package mem

import (
	"context"
	"fmt"
	"slices"

	"github.com/gospresso/gospresso/storage"
)

var _ storage.StateStore = (*Store)(nil)

// SaveState implements storage.StateStore: it keeps a copy of data unless
// the stored snapshot has a greater height.
func (s *Store) SaveState(ctx context.Context, height uint64, data []byte) error {
	unlock, err := s.write(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if s.hasState && height < s.stateHeight {
		return nil
	}
	s.state = slices.Clone(data)
	if s.state == nil {
		s.state = []byte{}
	}
	s.stateHeight, s.hasState = height, true
	return nil
}

// LoadState implements storage.StateStore; the bytes are a copy.
func (s *Store) LoadState(ctx context.Context) (uint64, []byte, error) {
	unlock, err := s.read(ctx)
	if err != nil {
		return 0, nil, err
	}
	defer unlock()
	if !s.hasState {
		return 0, nil, fmt.Errorf("mem: state snapshot: %w", storage.ErrNotFound)
	}
	return s.stateHeight, slices.Clone(s.state), nil
}
