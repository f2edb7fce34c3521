package mem

import (
	"context"
	"fmt"
	"sort"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/types"
)

var _ storage.QueryStore = (*Store)(nil)

// BlockRange implements storage.QueryStore.
func (s *Store) BlockRange(ctx context.Context, from, until uint64, limit int) ([]types.Block, error) {
	unlock, err := s.read(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if s.isPruned && from < s.pruned && from < until && limit > 0 {
		return nil, s.missing("blocks from", from)
	}
	var out []types.Block
	for h := from; h < until && len(out) < limit; h++ {
		b, ok := s.at(h)
		if !ok {
			break
		}
		out = append(out, *b)
	}
	return out, nil
}

// BlockByPayloadHash implements storage.QueryStore.
func (s *Store) BlockByPayloadHash(ctx context.Context, c types.Commitment) (types.Block, error) {
	unlock, err := s.read(ctx)
	if err != nil {
		return types.Block{}, err
	}
	defer unlock()
	if hs := s.byPayload[c]; len(hs) > 0 {
		if b, ok := s.at(hs[0]); ok {
			return *b, nil
		}
	}
	return types.Block{}, fmt.Errorf("mem: payload hash %s: %w", c.Short(), storage.ErrNotFound)
}

// TransactionAt implements storage.QueryStore.
func (s *Store) TransactionAt(ctx context.Context, height, index uint64) (types.Transaction, error) {
	unlock, err := s.read(ctx)
	if err != nil {
		return types.Transaction{}, err
	}
	defer unlock()
	b, ok := s.at(height)
	if !ok {
		return types.Transaction{}, s.missing("block", height)
	}
	n := uint64(len(s.meta[height-s.base].txHashes))
	if index >= n {
		return types.Transaction{}, fmt.Errorf("mem: transaction %d of block %d (%d transactions): %w", index, height, n, storage.ErrNotFound)
	}
	txs, err := b.Payload.Transactions()
	if err != nil {
		return types.Transaction{}, fmt.Errorf("mem: transaction %d of block %d: %w", index, height, err)
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
	hs := s.byNs[ns]
	i := sort.Search(len(hs), func(i int) bool { return hs[i] >= from })
	var out []uint64
	for ; i < len(hs) && len(out) < limit; i++ {
		out = append(out, hs[i])
	}
	return out, nil
}

// prefix returns the totals (transactions, payload bytes) of the blocks
// below height h, with h clamped to the stored heights.
func (s *Store) prefix(h uint64) (txs, bytes uint64) {
	switch {
	case len(s.blocks) == 0:
		return 0, 0
	case h <= s.base:
		m := &s.meta[0]
		return m.txsBefore, m.bytesBefore
	case h >= s.next():
		return s.totalTxs, s.totalBytes
	}
	m := &s.meta[h-s.base]
	return m.txsBefore, m.bytesBefore
}

// sums returns the transaction count and payload bytes of the stored
// blocks in [from, until).
func (s *Store) sums(ctx context.Context, from, until uint64) (txs, bytes uint64, err error) {
	unlock, err := s.read(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer unlock()
	if from >= until {
		return 0, 0, nil
	}
	t0, b0 := s.prefix(from)
	t1, b1 := s.prefix(until)
	return t1 - t0, b1 - b0, nil
}

// TransactionCount implements storage.QueryStore. After pruning it counts
// the stored blocks of the range.
func (s *Store) TransactionCount(ctx context.Context, from, until uint64) (uint64, error) {
	n, _, err := s.sums(ctx, from, until)
	return n, err
}

// PayloadBytes implements storage.QueryStore. After pruning it counts the
// stored blocks of the range.
func (s *Store) PayloadBytes(ctx context.Context, from, until uint64) (uint64, error) {
	_, n, err := s.sums(ctx, from, until)
	return n, err
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
			return w, nil // cut by the limit: no Next
		}
		w.Window = append(w.Window, s.blocks[i].Leaf.Header)
	}
	if i < len(s.blocks) {
		h := s.blocks[i].Leaf.Header
		w.Next = &h
	}
	return w, nil
}
