package mem

import (
	"context"
	"fmt"
	"sort"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/types"
)

var _ storage.QueryStore = (*Store)(nil)

// readRange checks ctx and the store state for a read.
func (s *Store) read(ctx context.Context) (func(), error) {
	s.mu.RLock()
	if err := s.check(ctx, false); err != nil {
		s.mu.RUnlock()
		return nil, err
	}
	return s.mu.RUnlock, nil
}

// BlockRange implements storage.QueryStore.
func (s *Store) BlockRange(ctx context.Context, from, until uint64, limit int) ([]storage.Block, error) {
	unlock, err := s.read(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if len(s.blocks) > 0 && from < s.base {
		return nil, fmt.Errorf("mem: blocks from %d: %w (pruned below %d)", from, storage.ErrPruned, s.base)
	}
	var out []storage.Block
	for h := from; h < until && len(out) < limit; h++ {
		if h < s.base || h-s.base >= uint64(len(s.blocks)) {
			break
		}
		out = append(out, s.blocks[h-s.base])
	}
	return out, nil
}

// BlockByPayloadHash implements storage.QueryStore.
func (s *Store) BlockByPayloadHash(ctx context.Context, c types.Commitment) (storage.Block, error) {
	unlock, err := s.read(ctx)
	if err != nil {
		return storage.Block{}, err
	}
	defer unlock()
	for _, b := range s.blocks {
		if b.Leaf.Header.PayloadCommitment == c {
			return b, nil
		}
	}
	return storage.Block{}, fmt.Errorf("mem: payload hash %s: %w", c.Short(), storage.ErrNotFound)
}

// TransactionAt implements storage.QueryStore.
func (s *Store) TransactionAt(ctx context.Context, height, index uint64) (types.Transaction, error) {
	b, err := s.BlockByHeight(ctx, height)
	if err != nil {
		return types.Transaction{}, err
	}
	txs, err := b.Payload.Transactions()
	if err != nil {
		return types.Transaction{}, err
	}
	if index >= uint64(len(txs)) {
		return types.Transaction{}, fmt.Errorf("mem: transaction %d of block %d (%d transactions): %w", index, height, len(txs), storage.ErrNotFound)
	}
	return txs[index], nil
}

// NamespaceHeights implements storage.QueryStore.
func (s *Store) NamespaceHeights(ctx context.Context, ns uint64, from uint64, limit int) ([]uint64, error) {
	unlock, err := s.read(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var out []uint64
	for _, b := range s.blocks {
		if b.Height() < from || len(out) >= limit {
			continue
		}
		entries, err := b.Leaf.Header.NsTable.Entries(len(b.Payload.Raw))
		if err != nil {
			continue
		}
		for _, e := range entries {
			if uint64(e.Namespace) == ns {
				out = append(out, b.Height())
				break
			}
		}
	}
	return out, nil
}

func (s *Store) sum(ctx context.Context, from, until uint64, f func(storage.Block) uint64) (uint64, error) {
	unlock, err := s.read(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()
	var total uint64
	for _, b := range s.blocks {
		if h := b.Height(); h >= from && h < until {
			total += f(b)
		}
	}
	return total, nil
}

// TransactionCount implements storage.QueryStore.
func (s *Store) TransactionCount(ctx context.Context, from, until uint64) (uint64, error) {
	return s.sum(ctx, from, until, func(b storage.Block) uint64 {
		txs, _ := b.Payload.Transactions()
		return uint64(len(txs))
	})
}

// PayloadBytes implements storage.QueryStore.
func (s *Store) PayloadBytes(ctx context.Context, from, until uint64) (uint64, error) {
	return s.sum(ctx, from, until, func(b storage.Block) uint64 { return b.Payload.Size() })
}

// HeaderWindow implements storage.QueryStore.
func (s *Store) HeaderWindow(ctx context.Context, start, end uint64, limit int) (storage.HeaderWindow, error) {
	unlock, err := s.read(ctx)
	if err != nil {
		return storage.HeaderWindow{}, err
	}
	defer unlock()
	var w storage.HeaderWindow
	// Timestamps never decrease with height, so the window is contiguous.
	i := sort.Search(len(s.blocks), func(i int) bool { return s.blocks[i].Leaf.Header.Timestamp >= start })
	if i > 0 {
		h := s.blocks[i-1].Leaf.Header
		w.Prev = &h
	}
	for ; i < len(s.blocks) && s.blocks[i].Leaf.Header.Timestamp < end; i++ {
		if len(w.Window) >= limit {
			return w, nil
		}
		w.Window = append(w.Window, s.blocks[i].Leaf.Header)
	}
	if i < len(s.blocks) {
		h := s.blocks[i].Leaf.Header
		w.Next = &h
	}
	return w, nil
}
