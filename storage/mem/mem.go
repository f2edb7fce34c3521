// Package mem is an in-memory storage.Store for tests and simulations. It is
// as strict as the disk backends (same conformance suite) but keeps nothing
// across processes: a node that restarts from the same *Store value (a
// simulated crash) finds its state, a new process finds nothing.
package mem

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/types"
)

// Store is an in-memory storage.Store, safe for concurrent use.
type Store struct {
	mu        sync.RWMutex
	closed    bool
	safety    *storage.SafetyState
	proposals []storage.StoredProposal
	blocks    []storage.Block // blocks[i] has height base+i
	base      uint64
	byLeaf    map[types.Commitment]uint64
	byHash    map[types.Commitment]uint64
	txs       map[types.Commitment]storage.TxLocation
	// failWrites, when set, makes every write fail (to test that a node
	// stops participating instead of sending).
	failWrites error
}

var _ storage.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{
		byLeaf: make(map[types.Commitment]uint64),
		byHash: make(map[types.Commitment]uint64),
		txs:    make(map[types.Commitment]storage.TxLocation),
	}
}

// FailWrites makes every later write return err (nil restores writes). It
// simulates a failing disk.
func (s *Store) FailWrites(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failWrites = err
}

// Reopen clears the closed flag, as a process restart reopening the same
// data would.
func (s *Store) Reopen() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = false
}

func (s *Store) check(ctx context.Context, write bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed {
		return storage.ErrClosed
	}
	if write && s.failWrites != nil {
		return fmt.Errorf("mem: write: %w", s.failWrites)
	}
	return nil
}

// LoadSafety implements storage.ConsensusStore.
func (s *Store) LoadSafety(ctx context.Context) (storage.SafetyState, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx, false); err != nil {
		return storage.SafetyState{}, err
	}
	if s.safety == nil {
		return storage.SafetyState{}, storage.ErrNotFound
	}
	return *s.safety, nil
}

// SaveSafety implements storage.ConsensusStore.
func (s *Store) SaveSafety(ctx context.Context, st storage.SafetyState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx, true); err != nil {
		return err
	}
	st.HighQC.Signers = slices.Clone(st.HighQC.Signers)
	st.HighQC.Signature = slices.Clone(st.HighQC.Signature)
	s.safety = &st
	return nil
}

// SaveProposal implements storage.ConsensusStore.
func (s *Store) SaveProposal(ctx context.Context, p storage.StoredProposal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx, true); err != nil {
		return err
	}
	for _, q := range s.proposals {
		if q.View == p.View && slices.Equal(q.Data, p.Data) {
			return nil
		}
	}
	p.Data = slices.Clone(p.Data)
	i, _ := slices.BinarySearchFunc(s.proposals, p.View, func(q storage.StoredProposal, v types.ViewNumber) int {
		return cmpView(q.View, v+1) // insert after proposals of the same view
	})
	s.proposals = slices.Insert(s.proposals, i, p)
	return nil
}

func cmpView(a, b types.ViewNumber) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// LoadProposals implements storage.ConsensusStore.
func (s *Store) LoadProposals(ctx context.Context) ([]storage.StoredProposal, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx, false); err != nil {
		return nil, err
	}
	out := make([]storage.StoredProposal, len(s.proposals))
	for i, p := range s.proposals {
		out[i] = storage.StoredProposal{View: p.View, Data: slices.Clone(p.Data)}
	}
	return out, nil
}

// SaveDecided implements storage.BlockStore.
func (s *Store) SaveDecided(ctx context.Context, blocks []storage.Block) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx, true); err != nil {
		return err
	}
	// Check everything before changing anything (all or nothing).
	next := s.base + uint64(len(s.blocks))
	var fresh []storage.Block
	for i := range blocks {
		b := &blocks[i]
		h := b.Height()
		if i > 0 && h != blocks[i-1].Height()+1 {
			return fmt.Errorf("mem: save decided: block %d has height %d after %d: %w", i, h, blocks[i-1].Height(), storage.ErrConflict)
		}
		if len(s.blocks) > 0 && h < next {
			if h < s.base {
				continue // pruned; nothing to compare with
			}
			if s.blocks[h-s.base].Leaf.Commit() != b.Leaf.Commit() {
				return fmt.Errorf("mem: save decided: a different block is stored at height %d: %w", h, storage.ErrConflict)
			}
			continue
		}
		if len(s.blocks) > 0 && h != next {
			return fmt.Errorf("mem: save decided: height %d leaves a gap after %d: %w", h, next-1, storage.ErrConflict)
		}
		if len(s.blocks) == 0 && len(fresh) == 0 {
			s.base = h
			next = h
		}
		fresh = append(fresh, cloneBlock(b))
		next++
	}
	for _, b := range fresh {
		h := b.Height()
		s.blocks = append(s.blocks, b)
		s.byLeaf[b.Leaf.Commit()] = h
		s.byHash[b.Leaf.Header.Commit()] = h
		if txs, err := b.Payload.Transactions(); err == nil {
			for i, tx := range txs {
				c := tx.Commit()
				if _, seen := s.txs[c]; !seen {
					s.txs[c] = storage.TxLocation{Height: h, Index: uint64(i)}
				}
			}
		}
	}
	if len(blocks) > 0 {
		last := blocks[len(blocks)-1].Leaf.View
		s.proposals = slices.DeleteFunc(s.proposals, func(p storage.StoredProposal) bool { return p.View <= last })
	}
	return nil
}

func cloneBlock(b *storage.Block) storage.Block {
	c := *b
	c.Payload.Raw = slices.Clone(b.Payload.Raw)
	c.Payload.NsTable.Bytes = slices.Clone(b.Payload.NsTable.Bytes)
	c.QC.Signers = slices.Clone(b.QC.Signers)
	c.QC.Signature = slices.Clone(b.QC.Signature)
	return c
}

// LastDecided implements storage.BlockStore.
func (s *Store) LastDecided(ctx context.Context) (storage.Block, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx, false); err != nil {
		return storage.Block{}, err
	}
	if len(s.blocks) == 0 {
		return storage.Block{}, storage.ErrNotFound
	}
	return s.blocks[len(s.blocks)-1], nil
}

// BlockByHeight implements storage.BlockStore.
func (s *Store) BlockByHeight(ctx context.Context, h uint64) (storage.Block, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx, false); err != nil {
		return storage.Block{}, err
	}
	if h < s.base || h-s.base >= uint64(len(s.blocks)) {
		return storage.Block{}, fmt.Errorf("mem: block %d: %w", h, storage.ErrNotFound)
	}
	return s.blocks[h-s.base], nil
}

func (s *Store) byIndex(ctx context.Context, idx map[types.Commitment]uint64, c types.Commitment, what string) (storage.Block, error) {
	s.mu.RLock()
	h, ok := idx[c]
	s.mu.RUnlock()
	if !ok {
		if err := ctx.Err(); err != nil {
			return storage.Block{}, err
		}
		return storage.Block{}, fmt.Errorf("mem: %s %s: %w", what, c.Short(), storage.ErrNotFound)
	}
	return s.BlockByHeight(ctx, h)
}

// BlockByLeaf implements storage.BlockStore.
func (s *Store) BlockByLeaf(ctx context.Context, c types.Commitment) (storage.Block, error) {
	return s.byIndex(ctx, s.byLeaf, c, "leaf")
}

// BlockByHash implements storage.BlockStore.
func (s *Store) BlockByHash(ctx context.Context, c types.Commitment) (storage.Block, error) {
	return s.byIndex(ctx, s.byHash, c, "block hash")
}

// TransactionByHash implements storage.BlockStore.
func (s *Store) TransactionByHash(ctx context.Context, c types.Commitment) (storage.TxLocation, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx, false); err != nil {
		return storage.TxLocation{}, err
	}
	loc, ok := s.txs[c]
	if !ok {
		return storage.TxLocation{}, fmt.Errorf("mem: transaction %s: %w", c.Short(), storage.ErrNotFound)
	}
	return loc, nil
}

// BlockHeight implements storage.BlockStore.
func (s *Store) BlockHeight(ctx context.Context) (uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx, false); err != nil {
		return 0, err
	}
	if len(s.blocks) == 0 {
		return 0, nil
	}
	return s.base + uint64(len(s.blocks)), nil
}

// Close implements storage.Store.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}
