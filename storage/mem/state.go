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

// DropState forgets the chain-state snapshot, as a store written before
// snapshots existed, or one that lost it, would be: for tests of the
// paths that rebuild or fetch the chain state.
func (s *Store) DropState() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state, s.stateHeight, s.hasState = nil, 0, false
}
