package mem

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/gospresso/gospresso/storage"
)

// PruneBefore implements storage.Pruner. A height past the last decided
// block prunes up to (not including) that block; a height at or below the
// current pruned height changes nothing.
func (s *Store) PruneBefore(ctx context.Context, height uint64) error {
	unlock, err := s.write(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if len(s.blocks) == 0 {
		return nil
	}
	height = min(height, s.next()-1) // never the last decided block
	if height > s.base {
		s.drop(height)
	}
	if height > 0 && (!s.isPruned || height > s.pruned) {
		s.pruned, s.isPruned = height, true
	}
	return nil
}

// drop deletes the stored blocks below height, which is above base, and
// their index entries.
func (s *Store) drop(height uint64) {
	cut := int(height - s.base)
	for i := range cut {
		b, m := &s.blocks[i], &s.meta[i]
		delete(s.byLeaf, b.Leaf.Commit())
		delete(s.byHash, b.Leaf.Header.Commit())
		pc := b.Leaf.Header.PayloadCommitment
		s.byPayload[pc] = dropBelow(s.byPayload[pc], height, func(x uint64) uint64 { return x })
		if len(s.byPayload[pc]) == 0 {
			delete(s.byPayload, pc)
		}
		for _, c := range m.txHashes {
			locs := dropBelow(s.txs[c], height, func(l storage.TxLocation) uint64 { return l.Height })
			if len(locs) == 0 {
				delete(s.txs, c)
			} else {
				s.txs[c] = locs
			}
		}
		for _, ns := range m.namespaces {
			if hs := dropBelow(s.byNs[ns], height, func(x uint64) uint64 { return x }); len(hs) == 0 {
				delete(s.byNs, ns)
			} else {
				s.byNs[ns] = hs
			}
		}
		s.live -= m.size
	}
	// Copy the kept blocks so the pruned ones can be collected.
	s.blocks = slices.Clone(s.blocks[cut:])
	s.meta = slices.Clone(s.meta[cut:])
	s.base = height
}

// dropBelow removes the leading elements of sorted whose height is below h.
func dropBelow[T any](sorted []T, h uint64, height func(T) uint64) []T {
	i := sort.Search(len(sorted), func(i int) bool { return height(sorted[i]) >= h })
	if i == 0 {
		return sorted
	}
	return slices.Clone(sorted[i:])
}

// PrunedHeight implements storage.Pruner.
func (s *Store) PrunedHeight(ctx context.Context) (uint64, bool, error) {
	unlock, err := s.read(ctx)
	if err != nil {
		return 0, false, err
	}
	defer unlock()
	return s.pruned, s.isPruned, nil
}

// ResetPrunedHeight implements storage.Pruner.
func (s *Store) ResetPrunedHeight(ctx context.Context) error {
	unlock, err := s.write(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	s.pruned, s.isPruned = 0, false
	return nil
}

// LiveSize implements storage.Pruner: the payload bytes plus the encoded
// header bytes of the stored blocks.
func (s *Store) LiveSize(ctx context.Context) (uint64, error) {
	unlock, err := s.read(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()
	return s.live, nil
}

// HeightBefore implements storage.Pruner.
func (s *Store) HeightBefore(ctx context.Context, t uint64) (uint64, error) {
	unlock, err := s.read(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()
	i := sort.Search(len(s.blocks), func(i int) bool { return s.blocks[i].Leaf.Header.Timestamp >= t })
	if i == 0 {
		return 0, fmt.Errorf("mem: height before timestamp %d: %w", t, storage.ErrNotFound)
	}
	return s.base + uint64(i-1), nil
}

// FirstHeight implements storage.Pruner.
func (s *Store) FirstHeight(ctx context.Context) (uint64, error) {
	unlock, err := s.read(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()
	if len(s.blocks) == 0 {
		return 0, fmt.Errorf("mem: first height: %w", storage.ErrNotFound)
	}
	return s.base, nil
}
