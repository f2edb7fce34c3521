package mem

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/storagecodec"
	"github.com/gospresso/gospresso/types"
)

// Store is an in-memory storage.Store and storage.Pruner, safe for
// concurrent use. Blocks it returns share memory with the store: callers
// must not modify them.
type Store struct {
	mu        sync.RWMutex
	closed    bool
	safety    *types.SafetyState
	proposals []storage.StoredProposal

	// blocks[i] has height base+i; meta[i] describes it.
	blocks []types.Block
	meta   []blockMeta
	base   uint64
	// pruned is the recorded pruned height, valid when isPruned.
	pruned   uint64
	isPruned bool
	// state is the chain-state snapshot of height stateHeight, valid when
	// hasState (storage.StateStore).
	state       []byte
	stateHeight uint64
	hasState    bool
	// genesis is the bound genesis identity (storage.GenesisBinder), nil
	// before the first BindGenesis.
	genesis *[32]byte

	byLeaf    map[types.Commitment]uint64
	byHash    map[types.Commitment]uint64
	byPayload map[types.Commitment][]uint64             // heights, increasing
	txs       map[types.Commitment][]storage.TxLocation // inclusions, increasing
	byNs      map[uint64][]uint64                       // heights, increasing
	// Totals over every block ever stored below base+len(blocks), pruned
	// ones included; meta holds the totals below each block, so a range sum
	// is a difference of two prefixes.
	totalTxs, totalBytes uint64
	live                 uint64

	// failWrites, when set, makes every write fail (to test that a node
	// stops participating instead of sending).
	failWrites error
}

// blockMeta is what the indexes need to know about a stored block.
type blockMeta struct {
	txHashes   []types.Commitment
	namespaces []uint64
	// txsBefore and bytesBefore total the blocks below this one.
	txsBefore, bytesBefore uint64
	// size is what the block adds to LiveSize.
	size uint64
}

var (
	_ storage.Store  = (*Store)(nil)
	_ storage.Pruner = (*Store)(nil)
)

// New returns an empty store.
func New() *Store {
	return &Store{
		byLeaf:    make(map[types.Commitment]uint64),
		byHash:    make(map[types.Commitment]uint64),
		byPayload: make(map[types.Commitment][]uint64),
		txs:       make(map[types.Commitment][]storage.TxLocation),
		byNs:      make(map[uint64][]uint64),
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

// read takes the read lock and checks ctx and the store state; the caller
// defers the returned unlock.
func (s *Store) read(ctx context.Context) (func(), error) {
	s.mu.RLock()
	if err := s.check(ctx, false); err != nil {
		s.mu.RUnlock()
		return nil, err
	}
	return s.mu.RUnlock, nil
}

// write is read's counterpart for writes.
func (s *Store) write(ctx context.Context) (func(), error) {
	s.mu.Lock()
	if err := s.check(ctx, true); err != nil {
		s.mu.Unlock()
		return nil, err
	}
	return s.mu.Unlock, nil
}

// LoadSafety implements storage.ConsensusStore.
func (s *Store) LoadSafety(ctx context.Context) (types.SafetyState, error) {
	unlock, err := s.read(ctx)
	if err != nil {
		return types.SafetyState{}, err
	}
	defer unlock()
	if s.safety == nil {
		return types.SafetyState{}, fmt.Errorf("mem: safety state: %w", storage.ErrNotFound)
	}
	return *s.safety, nil
}

// SaveSafety implements storage.ConsensusStore.
func (s *Store) SaveSafety(ctx context.Context, st types.SafetyState) error {
	unlock, err := s.write(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	st.HighQC.Signers = slices.Clone(st.HighQC.Signers)
	st.HighQC.Signature = slices.Clone(st.HighQC.Signature)
	s.safety = &st
	return nil
}

// SaveProposal implements storage.ConsensusStore. Saving a proposal that
// is already stored (same view, same bytes) is a no-op.
func (s *Store) SaveProposal(ctx context.Context, p storage.StoredProposal) error {
	unlock, err := s.write(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	for _, q := range s.proposals {
		if q.View == p.View && slices.Equal(q.Data, p.Data) {
			return nil
		}
	}
	p.Data = slices.Clone(p.Data)
	// Insert after the proposals of the same view, keeping arrival order.
	i, _ := slices.BinarySearchFunc(s.proposals, p.View+1, func(q storage.StoredProposal, v types.ViewNumber) int {
		return cmpView(q.View, v)
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
	unlock, err := s.read(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	out := make([]storage.StoredProposal, len(s.proposals))
	for i, p := range s.proposals {
		out[i] = storage.StoredProposal{View: p.View, Data: slices.Clone(p.Data)}
	}
	return out, nil
}

// next is the height the next new block must have.
func (s *Store) next() uint64 { return s.base + uint64(len(s.blocks)) }

// SaveDecided implements storage.BlockStore. The first block of an empty
// store must have height 0.
func (s *Store) SaveDecided(ctx context.Context, blocks []types.Block) error {
	unlock, err := s.write(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	// Check everything before changing anything (all or nothing).
	next := s.next()
	var fresh []types.Block
	for i := range blocks {
		b := &blocks[i]
		h := b.Height()
		if i > 0 && h != blocks[i-1].Height()+1 {
			return fmt.Errorf("mem: save decided: block %d has height %d after %d (want %d): %w", i, h, blocks[i-1].Height(), blocks[i-1].Height()+1, storage.ErrConflict)
		}
		if h < next {
			if h < s.base {
				continue // pruned; nothing to compare with
			}
			if s.blocks[h-s.base].Leaf.Commit() != b.Leaf.Commit() {
				return fmt.Errorf("mem: save decided: a different block is stored at height %d: %w", h, storage.ErrConflict)
			}
			continue
		}
		if h != next {
			return fmt.Errorf("mem: save decided: block at height %d leaves a gap (next height is %d): %w", h, next, storage.ErrConflict)
		}
		fresh = append(fresh, cloneBlock(b))
		next++
	}
	for i := range fresh {
		s.append(&fresh[i])
	}
	if len(blocks) > 0 {
		last := blocks[len(blocks)-1].Leaf.View
		s.proposals = slices.DeleteFunc(s.proposals, func(p storage.StoredProposal) bool { return p.View <= last })
	}
	return nil
}

// append stores a checked new block and indexes it.
func (s *Store) append(b *types.Block) {
	h := b.Height()
	m := blockMeta{txsBefore: s.totalTxs, bytesBefore: s.totalBytes, size: b.Payload.Size() + headerSize(&b.Leaf.Header)}
	if txs, err := b.Payload.Transactions(); err == nil {
		m.txHashes = make([]types.Commitment, len(txs))
		for i, tx := range txs {
			c := tx.Commit()
			m.txHashes[i] = c
			s.txs[c] = append(s.txs[c], storage.TxLocation{Height: h, Index: uint64(i)})
		}
	}
	if entries, err := b.Leaf.Header.NsTable.Entries(len(b.Payload.Raw)); err == nil {
		for _, e := range entries {
			ns := uint64(e.Namespace)
			m.namespaces = append(m.namespaces, ns)
			s.byNs[ns] = append(s.byNs[ns], h)
		}
	}
	s.blocks = append(s.blocks, *b)
	s.meta = append(s.meta, m)
	s.byLeaf[b.Leaf.Commit()] = h
	s.byHash[b.Leaf.Header.Commit()] = h
	pc := b.Leaf.Header.PayloadCommitment
	s.byPayload[pc] = append(s.byPayload[pc], h)
	s.totalTxs += uint64(len(m.txHashes))
	s.totalBytes += b.Payload.Size()
	s.live += m.size
}

// headerSize is the encoded size of a header, the header's share of
// LiveSize.
func headerSize(h *types.Header) uint64 {
	p, err := storagecodec.EncodeHeader(h)
	if err != nil {
		return 0
	}
	return uint64(len(p))
}

func cloneBlock(b *types.Block) types.Block {
	c := *b
	c.Payload.Raw = slices.Clone(b.Payload.Raw)
	c.Payload.NsTable.Bytes = slices.Clone(b.Payload.NsTable.Bytes)
	c.QC.Signers = slices.Clone(b.QC.Signers)
	c.QC.Signature = slices.Clone(b.QC.Signature)
	return c
}

// LastDecided implements storage.BlockStore.
func (s *Store) LastDecided(ctx context.Context) (types.Block, error) {
	unlock, err := s.read(ctx)
	if err != nil {
		return types.Block{}, err
	}
	defer unlock()
	if len(s.blocks) == 0 {
		return types.Block{}, fmt.Errorf("mem: last decided block: %w", storage.ErrNotFound)
	}
	return s.blocks[len(s.blocks)-1], nil
}

// missing is the error for a height the store does not hold: ErrPruned
// below the pruned height, ErrNotFound otherwise.
func (s *Store) missing(what string, h uint64) error {
	if s.isPruned && h < s.pruned {
		return fmt.Errorf("mem: %s %d: %w (pruned below %d)", what, h, storage.ErrPruned, s.pruned)
	}
	return fmt.Errorf("mem: %s %d: %w", what, h, storage.ErrNotFound)
}

// at returns the stored block at height h, if any.
func (s *Store) at(h uint64) (*types.Block, bool) {
	if h < s.base || h-s.base >= uint64(len(s.blocks)) {
		return nil, false
	}
	return &s.blocks[h-s.base], true
}

// BlockByHeight implements storage.BlockStore.
func (s *Store) BlockByHeight(ctx context.Context, h uint64) (types.Block, error) {
	unlock, err := s.read(ctx)
	if err != nil {
		return types.Block{}, err
	}
	defer unlock()
	b, ok := s.at(h)
	if !ok {
		return types.Block{}, s.missing("block", h)
	}
	return *b, nil
}

func (s *Store) byIndex(ctx context.Context, idx map[types.Commitment]uint64, c types.Commitment, what string) (types.Block, error) {
	unlock, err := s.read(ctx)
	if err != nil {
		return types.Block{}, err
	}
	defer unlock()
	if h, ok := idx[c]; ok {
		if b, ok := s.at(h); ok {
			return *b, nil
		}
	}
	return types.Block{}, fmt.Errorf("mem: %s %s: %w", what, c.Short(), storage.ErrNotFound)
}

// BlockByLeaf implements storage.BlockStore.
func (s *Store) BlockByLeaf(ctx context.Context, c types.Commitment) (types.Block, error) {
	return s.byIndex(ctx, s.byLeaf, c, "leaf")
}

// BlockByHash implements storage.BlockStore.
func (s *Store) BlockByHash(ctx context.Context, c types.Commitment) (types.Block, error) {
	return s.byIndex(ctx, s.byHash, c, "block hash")
}

// TransactionByHash implements storage.BlockStore: the earliest stored
// inclusion.
func (s *Store) TransactionByHash(ctx context.Context, c types.Commitment) (storage.TxLocation, error) {
	unlock, err := s.read(ctx)
	if err != nil {
		return storage.TxLocation{}, err
	}
	defer unlock()
	locs := s.txs[c]
	if len(locs) == 0 {
		return storage.TxLocation{}, fmt.Errorf("mem: transaction %s: %w", c.Short(), storage.ErrNotFound)
	}
	return locs[0], nil
}

// BlockHeight implements storage.BlockStore.
func (s *Store) BlockHeight(ctx context.Context) (uint64, error) {
	unlock, err := s.read(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()
	return s.next(), nil
}

// Close implements storage.Store. Closing twice is harmless.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}
