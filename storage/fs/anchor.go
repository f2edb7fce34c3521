package fs

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/storagecodec"
	"github.com/gospresso/gospresso/types"
)

// anchorBlock is the last decided block of a consensus-only store: its
// stored encoding (decoded afresh for every read, so no caller shares its
// slices) and what the lookups need.
type anchorBlock struct {
	raw         []byte // storagecodec.EncodeBlock
	height      uint64
	view        uint64
	timestamp   uint64
	leaf        types.Commitment
	hash        types.Commitment
	payloadHash types.Commitment
	payloadSize uint64
	txs         []types.Commitment
	namespaces  map[uint64]bool
}

// newAnchor describes the block b encoded as raw.
func newAnchor(b *types.Block, raw []byte) *anchorBlock {
	a := &anchorBlock{
		raw:         raw,
		height:      b.Height(),
		view:        uint64(b.Leaf.View),
		timestamp:   b.Leaf.Header.Timestamp,
		leaf:        b.Leaf.Commit(),
		hash:        b.Leaf.Header.Commit(),
		payloadHash: b.Leaf.Header.PayloadCommitment,
		payloadSize: b.Payload.Size(),
		namespaces:  make(map[uint64]bool),
	}
	if ents, err := b.Leaf.Header.NsTable.Entries(len(b.Payload.Raw)); err == nil {
		for _, e := range ents {
			a.namespaces[uint64(e.Namespace)] = true
		}
	}
	if txs, err := b.Payload.Transactions(); err == nil {
		a.txs = make([]types.Commitment, len(txs))
		for i, tx := range txs {
			a.txs[i] = tx.Commit()
		}
	}
	return a
}

// block decodes the anchor.
func (a *anchorBlock) block() (types.Block, error) {
	b, err := storagecodec.DecodeBlock(a.raw)
	if err != nil {
		return types.Block{}, fmt.Errorf("%w: %s: %w", ErrCorrupt, anchorName, err)
	}
	return b, nil
}

// loadAnchor reads the anchor_leaf file of a consensus-only store, if any.
func (s *Store) loadAnchor() error {
	p := filepath.Join(s.dir, anchorName)
	if err := removeStale(p + swpSuffix); err != nil {
		return err
	}
	raw, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("fs: read %s: %w", p, err)
	}
	b, err := storagecodec.DecodeBlock(raw)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrCorrupt, p, err)
	}
	s.anchor = newAnchor(&b, raw)
	return nil
}

// saveAnchor is SaveDecided of a consensus-only store: it replaces the
// anchor_leaf file with the last block of the call (written atomically;
// the rename is the commit point) and drops the proposals up to its view.
// The caller holds writeMu and has checked the store is usable.
func (s *Store) saveAnchor(blocks []types.Block) error {
	a := s.anchor
	next := uint64(0)
	if a != nil {
		next = a.height + 1
	}
	fresh := false
	for i := range blocks {
		b := &blocks[i]
		h := b.Height()
		if i > 0 && h != blocks[i-1].Height()+1 {
			return fmt.Errorf("fs: save decided: block %d has height %d after %d (want consecutive heights): %w",
				i, h, blocks[i-1].Height(), storage.ErrConflict)
		}
		switch {
		case a != nil && h < a.height:
			// Below the anchor: not kept, so nothing to compare with.
		case a != nil && h == a.height && !fresh:
			if b.Leaf.Commit() != a.leaf {
				return fmt.Errorf("fs: save decided: a different block is stored at height %d: %w", h, storage.ErrConflict)
			}
		case h != next:
			if a == nil {
				return fmt.Errorf("fs: save decided: height %d as the first block (want the genesis block, height 0): %w", h, storage.ErrConflict)
			}
			return fmt.Errorf("fs: save decided: height %d leaves a gap after %d: %w", h, next-1, storage.ErrConflict)
		case h == math.MaxUint64:
			return fmt.Errorf("fs: save decided: height %d: no height can follow it: %w", h, storage.ErrConflict)
		default:
			fresh = true
			next = h + 1
		}
	}
	if fresh {
		last := &blocks[len(blocks)-1]
		raw, err := storagecodec.EncodeBlock(last)
		if err != nil {
			return fmt.Errorf("fs: save decided: block %d: %w", last.Height(), err)
		}
		renamed, err := writeFileAtomicStage(s.dir, anchorName, raw)
		if err != nil {
			if renamed {
				// The new anchor may or may not be on disk.
				s.unusable = err
			}
			return fmt.Errorf("fs: save decided: %w", err)
		}
		s.mu.Lock()
		s.anchor = newAnchor(last, raw)
		s.mu.Unlock()
	}
	s.propMu.Lock()
	defer s.propMu.Unlock()
	s.dropProposalsLocked(uint64(blocks[len(blocks)-1].Leaf.View))
	return nil
}

// anchorAt returns the anchor when it is at height h, and otherwise an
// error wrapping storage.ErrPruned (below it) or storage.ErrNotFound. The
// caller holds mu.
func (s *Store) anchorAt(h uint64) (types.Block, error) {
	a := s.anchor
	switch {
	case a == nil || h > a.height:
		return types.Block{}, fmt.Errorf("fs: block %d: %w", h, storage.ErrNotFound)
	case h < a.height:
		return types.Block{}, fmt.Errorf("fs: block %d (consensus-only store keeps block %d only): %w", h, a.height, storage.ErrPruned)
	}
	return a.block()
}

// anchorBy returns the anchor when key(anchor) is c.
func (s *Store) anchorBy(ctx context.Context, key func(*anchorBlock) types.Commitment, c types.Commitment, what string) (types.Block, error) {
	unlock, err := s.rlock(ctx)
	if err != nil {
		return types.Block{}, err
	}
	defer unlock()
	if s.anchor == nil || key(s.anchor) != c {
		return types.Block{}, fmt.Errorf("fs: %s %s: %w", what, c.Short(), storage.ErrNotFound)
	}
	return s.anchor.block()
}

// anchorTx locates a transaction of the anchor.
func (s *Store) anchorTx(ctx context.Context, c types.Commitment) (storage.TxLocation, error) {
	unlock, err := s.rlock(ctx)
	if err != nil {
		return storage.TxLocation{}, err
	}
	defer unlock()
	if a := s.anchor; a != nil {
		for i, tx := range a.txs {
			if tx == c {
				return storage.TxLocation{Height: a.height, Index: uint64(i)}, nil
			}
		}
	}
	return storage.TxLocation{}, fmt.Errorf("fs: transaction %s: %w", c.Short(), storage.ErrNotFound)
}

// anchorRange is BlockRange of a consensus-only store.
func (s *Store) anchorRange(ctx context.Context, from, until uint64, limit int) ([]types.Block, error) {
	unlock, err := s.rlock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	a := s.anchor
	if limit <= 0 || from >= until || a == nil || from > a.height {
		return nil, nil
	}
	if from < a.height {
		return nil, fmt.Errorf("fs: blocks from %d (consensus-only store keeps block %d only): %w", from, a.height, storage.ErrPruned)
	}
	b, err := a.block()
	if err != nil {
		return nil, err
	}
	return []types.Block{b}, nil
}

// anchorSum is TransactionCount and PayloadBytes of a consensus-only
// store: val of the anchor when [from, until) holds it, an error wrapping
// storage.ErrPruned when the range starts below it.
func (s *Store) anchorSum(ctx context.Context, from, until uint64, what string, val func(*anchorBlock) uint64) (uint64, error) {
	unlock, err := s.rlock(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()
	a := s.anchor
	if from >= until || a == nil || from > a.height {
		return 0, nil
	}
	if from < a.height {
		return 0, fmt.Errorf("fs: %s of blocks [%d, %d) (consensus-only store keeps block %d only): %w",
			what, from, until, a.height, storage.ErrPruned)
	}
	return val(a), nil
}

// anchorNamespace is NamespaceHeights of a consensus-only store: the
// anchor's height when it lists ns (the blocks below it are not kept).
func (s *Store) anchorNamespace(ctx context.Context, ns, from uint64, limit int) ([]uint64, error) {
	unlock, err := s.rlock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	a := s.anchor
	if limit <= 0 || a == nil || from > a.height || !a.namespaces[ns] {
		return nil, nil
	}
	return []uint64{a.height}, nil
}

// anchorWindow is HeaderWindow of a consensus-only store: the anchor's
// header in the window or as its neighbour.
func (s *Store) anchorWindow(ctx context.Context, start, end uint64, limit int) (storage.HeaderWindow, error) {
	unlock, err := s.rlock(ctx)
	if err != nil {
		return storage.HeaderWindow{}, err
	}
	defer unlock()
	var w storage.HeaderWindow
	a := s.anchor
	if a == nil {
		return w, nil
	}
	b, err := a.block()
	if err != nil {
		return storage.HeaderWindow{}, err
	}
	h := b.Leaf.Header
	switch {
	case a.timestamp < start:
		w.Prev = &h
	case a.timestamp >= end:
		w.Next = &h
	case limit > 0:
		w.Window = []types.Header{h}
	}
	return w, nil
}
