package fs

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/storagecodec"
	"github.com/gospresso/gospresso/types"
)

// maxRunRead bounds one pread of several adjacent blocks in BlockRange.
const maxRunRead = 16 << 20

// SaveDecided implements storage.BlockStore: it appends the blocks not yet
// stored in one atomic step (see the package doc), and drops the stored
// proposals up to the view of the last block. The blocks are durable when
// it returns.
func (s *Store) SaveDecided(ctx context.Context, blocks []types.Block) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.check(ctx); err != nil {
		return err
	}
	if s.unusable != nil {
		return fmt.Errorf("%w: %w", ErrUnusable, s.unusable)
	}
	if len(blocks) == 0 {
		return nil
	}
	if s.cfg.consensusOnly {
		return s.saveAnchor(blocks)
	}
	fresh, leaves, err := s.plan(blocks)
	if err != nil {
		return err
	}
	var (
		entries []indexEntry
		newSeg  *os.File
	)
	if len(fresh) > 0 {
		if entries, newSeg, err = s.appendBlocks(ctx, fresh, leaves); err != nil {
			return err
		}
	}
	s.propMu.Lock()
	defer s.propMu.Unlock()
	s.mu.Lock()
	if newSeg != nil {
		s.segs = append(s.segs, newSeg)
	}
	s.chain.apply(entries)
	s.mu.Unlock()
	s.dropProposalsLocked(uint64(blocks[len(blocks)-1].Leaf.View))
	return nil
}

// plan checks blocks against the stored chain, as storage.BlockStore
// requires, and returns the blocks to append with their leaf commitments.
// It reads the chain without mu: only the writer changes it.
func (s *Store) plan(blocks []types.Block) ([]*types.Block, []types.Commitment, error) {
	c := &s.chain
	stored := !c.empty()
	next := c.next()
	var (
		fresh  []*types.Block
		leaves []types.Commitment
	)
	for i := range blocks {
		b := &blocks[i]
		h := b.Height()
		if i > 0 && h != blocks[i-1].Height()+1 {
			return nil, nil, fmt.Errorf("fs: save decided: block %d has height %d after %d (want consecutive heights): %w",
				i, h, blocks[i-1].Height(), storage.ErrConflict)
		}
		leaf := b.Leaf.Commit()
		if stored && h < next {
			if c.metas[h].leaf != leaf {
				return nil, nil, fmt.Errorf("fs: save decided: a different block is stored at height %d: %w", h, storage.ErrConflict)
			}
			continue
		}
		if stored && h != next {
			return nil, nil, fmt.Errorf("fs: save decided: height %d leaves a gap after %d: %w", h, next-1, storage.ErrConflict)
		}
		if !stored && len(fresh) == 0 && h != 0 {
			return nil, nil, fmt.Errorf("fs: save decided: height %d as the first block (want the genesis block, height 0): %w", h, storage.ErrConflict)
		}
		if h == math.MaxUint64 {
			return nil, nil, fmt.Errorf("fs: save decided: height %d: no height can follow it: %w", h, storage.ErrConflict)
		}
		fresh = append(fresh, b)
		leaves = append(leaves, leaf)
		next = h + 1
	}
	return fresh, leaves, nil
}

// preparedBlock is a block encoded for the segment.
type preparedBlock struct {
	leaf  []byte // storagecodec leaf encoding
	head  []byte // payload record head; the record is head + raw
	raw   []byte
	entry indexEntry
}

// prepare encodes b and computes its index entry (without its place).
func prepare(b *types.Block, leaf types.Commitment) (preparedBlock, error) {
	h := b.Height()
	leafBytes, err := storagecodec.EncodeLeaf(&b.Leaf, &b.QC)
	if err != nil {
		return preparedBlock{}, fmt.Errorf("fs: save decided: block %d: %w", h, err)
	}
	head := payloadRecordHead(b.Payload, b.Leaf.Header.NsTable.Bytes)
	if uint64(len(head))+uint64(len(b.Payload.Raw)) > maxFrameBody || uint64(len(leafBytes)) > maxFrameBody {
		return preparedBlock{}, fmt.Errorf("fs: save decided: block %d: payload of %d bytes exceeds the %d-byte record limit",
			h, len(b.Payload.Raw), maxFrameBody-uint64(len(head)))
	}
	e := indexEntry{
		height:      h,
		view:        uint64(b.Leaf.View),
		timestamp:   b.Leaf.Header.Timestamp,
		leafLen:     uint32(frameHeaderLen + len(leafBytes)),
		payLen:      uint32(frameHeaderLen + len(head) + len(b.Payload.Raw)),
		leaf:        leaf,
		hash:        b.Leaf.Header.Commit(),
		payloadHash: b.Leaf.Header.PayloadCommitment,
		payloadSize: b.Payload.Size(),
	}
	if ents, err := b.Leaf.Header.NsTable.Entries(len(b.Payload.Raw)); err == nil {
		e.namespaces = make([]uint32, len(ents))
		for i, x := range ents {
			e.namespaces[i] = x.Namespace
		}
	}
	if txs, err := b.Payload.Transactions(); err == nil && len(txs) > 0 {
		e.txs = make([]types.Commitment, len(txs))
		for i, tx := range txs {
			e.txs[i] = tx.Commit()
		}
	}
	return preparedBlock{leaf: leafBytes, head: head, raw: b.Payload.Raw, entry: e}, nil
}

// appendBlocks writes the blocks to the segment, fsyncs it, then commits
// them with one index frame. It returns the entries to publish and the
// segment file it started, if any. Before the index write, a failure
// leaves the stored chain as it was; a failed index write makes the store
// unusable.
func (s *Store) appendBlocks(ctx context.Context, fresh []*types.Block, leaves []types.Commitment) ([]indexEntry, *os.File, error) {
	preps := make([]preparedBlock, len(fresh))
	var total int64
	for i, b := range fresh {
		p, err := prepare(b, leaves[i])
		if err != nil {
			return nil, nil, err
		}
		preps[i] = p
		total += int64(p.entry.leafLen) + int64(p.entry.payLen)
	}
	data := filepath.Join(s.dir, dataDir)
	seg, base := s.curID, s.curEnd
	var f, newSeg *os.File
	if s.curID == 0 || (s.curEnd > 0 && s.curEnd+total > s.cfg.segmentSize) {
		seg, base = s.curID+1, 0
		p := filepath.Join(data, segmentName(seg))
		var err error
		if newSeg, err = os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644); err != nil {
			return nil, nil, fmt.Errorf("fs: save decided: create segment %s: %w", p, err)
		}
		if err := syncDir(data); err != nil {
			newSeg.Close()
			return nil, nil, fmt.Errorf("fs: save decided: %w", err)
		}
		f = newSeg
	} else {
		f = s.segs[seg-1]
	}
	fail := func(err error) ([]indexEntry, *os.File, error) {
		if newSeg != nil {
			newSeg.Close()
		}
		return nil, nil, err
	}
	entries := make([]indexEntry, len(preps))
	w := bufio.NewWriterSize(io.NewOffsetWriter(f, base), 1<<20)
	off := uint64(base)
	for i := range preps {
		p := &preps[i]
		p.entry.seg, p.entry.off = seg, off
		if _, err := writeFrame(w, p.leaf); err != nil {
			return fail(fmt.Errorf("fs: save decided: write %s: %w", f.Name(), err))
		}
		if _, err := writeFrame(w, p.head, p.raw); err != nil {
			return fail(fmt.Errorf("fs: save decided: write %s: %w", f.Name(), err))
		}
		off = p.entry.end()
		entries[i] = p.entry
	}
	if err := w.Flush(); err != nil {
		return fail(fmt.Errorf("fs: save decided: write %s: %w", f.Name(), err))
	}
	if err := f.Sync(); err != nil {
		return fail(fmt.Errorf("fs: save decided: sync %s: %w", f.Name(), err))
	}
	// Last chance to give up: nothing is committed yet.
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	frame := appendFrame(nil, encodeIndexBatch(entries))
	if _, err := s.index.WriteAt(frame, s.indexEnd); err != nil {
		s.unusable = err
		return fail(fmt.Errorf("fs: save decided: write %s: %w", s.index.Name(), err))
	}
	if err := s.index.Sync(); err != nil {
		s.unusable = err
		return fail(fmt.Errorf("fs: save decided: sync %s: %w", s.index.Name(), err))
	}
	s.indexEnd += int64(len(frame))
	s.curID, s.curEnd = seg, int64(off)
	return entries, newSeg, nil
}

// rlock checks ctx and takes the read lock; the store must be open.
func (s *Store) rlock(ctx context.Context) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	if s.closed.Load() {
		s.mu.RUnlock()
		return nil, storage.ErrClosed
	}
	return s.mu.RUnlock, nil
}

// segPath names segment id for errors.
func (s *Store) segPath(id uint32) string {
	return filepath.Join(s.dir, dataDir, segmentName(id))
}

// readAt reads n bytes of segment id at off. The caller holds mu.
func (s *Store) readAt(id uint32, off uint64, n uint64) ([]byte, error) {
	buf := make([]byte, n)
	if _, err := s.segs[id-1].ReadAt(buf, int64(off)); err != nil {
		return nil, fmt.Errorf("fs: read %s at %d: %w", s.segPath(id), off, err)
	}
	return buf, nil
}

// splitBlockFrames checks the leaf and payload frames of a block read
// whole and returns their bodies.
func splitBlockFrames(buf []byte, leafLen uint32) ([2][]byte, error) {
	var out [2][]byte
	if uint64(leafLen) > uint64(len(buf)) {
		return out, fmt.Errorf("%w: leaf frame of %d bytes in a block of %d", ErrCorrupt, leafLen, len(buf))
	}
	leaf, n, ferr := parseFrame(buf[:leafLen])
	if ferr == nil && n != int(leafLen) {
		ferr = &frameError{reason: fmt.Sprintf("leaf frame of %d bytes, index says %d", n, leafLen)}
	}
	if ferr != nil {
		return out, fmt.Errorf("%w: leaf frame: %s", ErrCorrupt, ferr.reason)
	}
	pay, n, ferr := parseFrame(buf[leafLen:])
	if ferr == nil && n != len(buf)-int(leafLen) {
		ferr = &frameError{reason: fmt.Sprintf("payload frame of %d bytes, index says %d", n, len(buf)-int(leafLen))}
	}
	if ferr != nil {
		return out, fmt.Errorf("%w: payload frame: %s", ErrCorrupt, ferr.reason)
	}
	out[0], out[1] = leaf, pay
	return out, nil
}

// decodeBlock decodes the frames of the block at height h.
func decodeBlock(buf []byte, leafLen uint32, h uint64) (types.Block, error) {
	parts, err := splitBlockFrames(buf, leafLen)
	if err != nil {
		return types.Block{}, err
	}
	leaf, qc, err := storagecodec.DecodeLeaf(parts[0])
	if err != nil {
		return types.Block{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if leaf.Header.Height != h {
		return types.Block{}, fmt.Errorf("%w: record holds height %d", ErrCorrupt, leaf.Header.Height)
	}
	p, err := decodePayloadRecord(parts[1], leaf.Header.NsTable.Bytes)
	if err != nil {
		return types.Block{}, err
	}
	return types.Block{Leaf: leaf, Payload: p, QC: qc}, nil
}

// block reads the stored block at height h. The caller holds mu and has
// checked that h is stored.
func (s *Store) block(h uint64) (types.Block, error) {
	m := &s.chain.metas[h]
	buf, err := s.readAt(m.seg, m.off, uint64(m.leafLen)+uint64(m.payLen))
	if err != nil {
		return types.Block{}, fmt.Errorf("fs: block %d: %w", h, err)
	}
	b, err := decodeBlock(buf, m.leafLen, h)
	if err != nil {
		return types.Block{}, fmt.Errorf("fs: block %d in %s at %d: %w", h, s.segPath(m.seg), m.off, err)
	}
	return b, nil
}

// header reads the header of the stored block at height h. The caller
// holds mu and has checked that h is stored.
func (s *Store) header(h uint64) (types.Header, error) {
	m := &s.chain.metas[h]
	buf, err := s.readAt(m.seg, m.off, uint64(m.leafLen))
	if err != nil {
		return types.Header{}, fmt.Errorf("fs: header %d: %w", h, err)
	}
	body, _, ferr := parseFrame(buf)
	if ferr != nil {
		return types.Header{}, fmt.Errorf("%w: header %d in %s at %d: leaf frame: %s", ErrCorrupt, h, s.segPath(m.seg), m.off, ferr.reason)
	}
	leaf, _, err := storagecodec.DecodeLeaf(body)
	if err != nil {
		return types.Header{}, fmt.Errorf("%w: header %d in %s at %d: %w", ErrCorrupt, h, s.segPath(m.seg), m.off, err)
	}
	if leaf.Header.Height != h {
		return types.Header{}, fmt.Errorf("%w: header %d in %s at %d: record holds height %d", ErrCorrupt, h, s.segPath(m.seg), m.off, leaf.Header.Height)
	}
	return leaf.Header, nil
}

// LastDecided implements storage.BlockStore.
func (s *Store) LastDecided(ctx context.Context) (types.Block, error) {
	unlock, err := s.rlock(ctx)
	if err != nil {
		return types.Block{}, err
	}
	defer unlock()
	if s.cfg.consensusOnly {
		if s.anchor == nil {
			return types.Block{}, fmt.Errorf("fs: last decided block: %w", storage.ErrNotFound)
		}
		return s.anchor.block()
	}
	if s.chain.empty() {
		return types.Block{}, fmt.Errorf("fs: last decided block: %w", storage.ErrNotFound)
	}
	return s.block(s.chain.next() - 1)
}

// BlockByHeight implements storage.BlockStore.
func (s *Store) BlockByHeight(ctx context.Context, h uint64) (types.Block, error) {
	unlock, err := s.rlock(ctx)
	if err != nil {
		return types.Block{}, err
	}
	defer unlock()
	if s.cfg.consensusOnly {
		return s.anchorAt(h)
	}
	if !s.chain.has(h) {
		return types.Block{}, fmt.Errorf("fs: block %d: %w", h, storage.ErrNotFound)
	}
	return s.block(h)
}

// byKey reads the block that idx maps c to (in a consensus-only store,
// the anchor when akey of it is c).
func (s *Store) byKey(ctx context.Context, idx func(*chain) map[types.Commitment]uint64, akey func(*anchorBlock) types.Commitment,
	c types.Commitment, what string) (types.Block, error) {
	if s.cfg.consensusOnly {
		return s.anchorBy(ctx, akey, c, what)
	}
	unlock, err := s.rlock(ctx)
	if err != nil {
		return types.Block{}, err
	}
	defer unlock()
	h, ok := idx(&s.chain)[c]
	if !ok {
		return types.Block{}, fmt.Errorf("fs: %s %s: %w", what, c.Short(), storage.ErrNotFound)
	}
	return s.block(h)
}

// BlockByLeaf implements storage.BlockStore.
func (s *Store) BlockByLeaf(ctx context.Context, c types.Commitment) (types.Block, error) {
	return s.byKey(ctx, func(ch *chain) map[types.Commitment]uint64 { return ch.byLeaf },
		func(a *anchorBlock) types.Commitment { return a.leaf }, c, "leaf")
}

// BlockByHash implements storage.BlockStore.
func (s *Store) BlockByHash(ctx context.Context, c types.Commitment) (types.Block, error) {
	return s.byKey(ctx, func(ch *chain) map[types.Commitment]uint64 { return ch.byHash },
		func(a *anchorBlock) types.Commitment { return a.hash }, c, "block hash")
}

// BlockByPayloadHash implements storage.QueryStore.
func (s *Store) BlockByPayloadHash(ctx context.Context, c types.Commitment) (types.Block, error) {
	return s.byKey(ctx, func(ch *chain) map[types.Commitment]uint64 { return ch.byPayload },
		func(a *anchorBlock) types.Commitment { return a.payloadHash }, c, "payload hash")
}

// TransactionByHash implements storage.BlockStore.
func (s *Store) TransactionByHash(ctx context.Context, c types.Commitment) (storage.TxLocation, error) {
	if s.cfg.consensusOnly {
		return s.anchorTx(ctx, c)
	}
	unlock, err := s.rlock(ctx)
	if err != nil {
		return storage.TxLocation{}, err
	}
	defer unlock()
	loc, ok := s.chain.txs[c]
	if !ok {
		return storage.TxLocation{}, fmt.Errorf("fs: transaction %s: %w", c.Short(), storage.ErrNotFound)
	}
	return loc, nil
}

// BlockHeight implements storage.BlockStore.
func (s *Store) BlockHeight(ctx context.Context) (uint64, error) {
	unlock, err := s.rlock(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()
	if s.cfg.consensusOnly {
		if s.anchor == nil {
			return 0, nil
		}
		return s.anchor.height + 1, nil
	}
	if s.chain.empty() {
		return 0, nil
	}
	return s.chain.next(), nil
}

// BlockRange implements storage.QueryStore. Adjacent blocks are read with
// one pread; the read lock is taken per read, so a long range does not hold
// up the writer.
func (s *Store) BlockRange(ctx context.Context, from, until uint64, limit int) ([]types.Block, error) {
	if s.cfg.consensusOnly {
		return s.anchorRange(ctx, from, until, limit)
	}
	var out []types.Block
	h := from
	for h < until && len(out) < limit {
		blocks, err := s.readRun(ctx, h, until, limit-len(out))
		if err != nil {
			return nil, err
		}
		if len(blocks) == 0 {
			break
		}
		out = append(out, blocks...)
		h += uint64(len(blocks))
	}
	return out, nil
}

// readRun reads up to max stored blocks from height h (below until) that
// lie back to back in one segment, in one pread of at most maxRunRead
// bytes (or one block).
func (s *Store) readRun(ctx context.Context, h, until uint64, max int) ([]types.Block, error) {
	unlock, err := s.rlock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	c := &s.chain
	if !c.has(h) {
		return nil, nil
	}
	first := &c.metas[h]
	end := first.off + uint64(first.leafLen) + uint64(first.payLen)
	n := 1
	for n < max && h+uint64(n) < until && c.has(h+uint64(n)) {
		m := &c.metas[h+uint64(n)]
		mEnd := m.off + uint64(m.leafLen) + uint64(m.payLen)
		if m.seg != first.seg || m.off != end || mEnd-first.off > maxRunRead {
			break
		}
		end = mEnd
		n++
	}
	buf, err := s.readAt(first.seg, first.off, end-first.off)
	if err != nil {
		return nil, fmt.Errorf("fs: blocks from %d: %w", h, err)
	}
	out := make([]types.Block, n)
	pos := uint64(0)
	for i := range out {
		m := &c.metas[h+uint64(i)]
		size := uint64(m.leafLen) + uint64(m.payLen)
		b, err := decodeBlock(buf[pos:pos+size:pos+size], m.leafLen, h+uint64(i))
		if err != nil {
			return nil, fmt.Errorf("fs: block %d in %s at %d: %w", h+uint64(i), s.segPath(m.seg), m.off, err)
		}
		out[i] = b
		pos += size
	}
	return out, nil
}

// TransactionAt implements storage.QueryStore.
func (s *Store) TransactionAt(ctx context.Context, height, index uint64) (types.Transaction, error) {
	b, err := s.BlockByHeight(ctx, height)
	if err != nil {
		return types.Transaction{}, err
	}
	txs, err := b.Payload.Transactions()
	if err != nil {
		return types.Transaction{}, fmt.Errorf("fs: transaction %d of block %d: %w", index, height, err)
	}
	if index >= uint64(len(txs)) {
		return types.Transaction{}, fmt.Errorf("fs: transaction %d of block %d (%d transactions): %w", index, height, len(txs), storage.ErrNotFound)
	}
	return txs[index], nil
}

// NamespaceHeights implements storage.QueryStore.
func (s *Store) NamespaceHeights(ctx context.Context, ns uint64, from uint64, limit int) ([]uint64, error) {
	if s.cfg.consensusOnly {
		return s.anchorNamespace(ctx, ns, from, limit)
	}
	unlock, err := s.rlock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if limit <= 0 || ns > math.MaxUint32 {
		return nil, nil
	}
	hs := s.chain.ns[uint32(ns)]
	i := sort.Search(len(hs), func(i int) bool { return hs[i] >= from })
	j := i + min(limit, len(hs)-i)
	if i == j {
		return nil, nil
	}
	return append([]uint64(nil), hs[i:j]...), nil
}

// TransactionCount implements storage.QueryStore.
func (s *Store) TransactionCount(ctx context.Context, from, until uint64) (uint64, error) {
	if s.cfg.consensusOnly {
		return s.anchorSum(ctx, from, until, "transaction count", func(a *anchorBlock) uint64 { return uint64(len(a.txs)) })
	}
	unlock, err := s.rlock(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()
	lo, hi := s.chain.span(from, until)
	return s.chain.cumTx[hi] - s.chain.cumTx[lo], nil
}

// PayloadBytes implements storage.QueryStore.
func (s *Store) PayloadBytes(ctx context.Context, from, until uint64) (uint64, error) {
	if s.cfg.consensusOnly {
		return s.anchorSum(ctx, from, until, "payload bytes", func(a *anchorBlock) uint64 { return a.payloadSize })
	}
	unlock, err := s.rlock(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()
	lo, hi := s.chain.span(from, until)
	return s.chain.cumBytes[hi] - s.chain.cumBytes[lo], nil
}

// HeaderWindow implements storage.QueryStore. Timestamps never decrease
// with height, so the window is a run of heights found by binary search.
// When limit cuts the window short, Next is nil.
func (s *Store) HeaderWindow(ctx context.Context, start, end uint64, limit int) (storage.HeaderWindow, error) {
	if s.cfg.consensusOnly {
		return s.anchorWindow(ctx, start, end, limit)
	}
	unlock, err := s.rlock(ctx)
	if err != nil {
		return storage.HeaderWindow{}, err
	}
	defer unlock()
	c := &s.chain
	var w storage.HeaderWindow
	i := sort.Search(len(c.ts), func(i int) bool { return c.ts[i] >= start })
	if i > 0 {
		h, err := s.header(uint64(i - 1))
		if err != nil {
			return storage.HeaderWindow{}, err
		}
		w.Prev = &h
	}
	for ; i < len(c.ts) && c.ts[i] < end; i++ {
		if len(w.Window) >= limit {
			return w, nil
		}
		h, err := s.header(uint64(i))
		if err != nil {
			return storage.HeaderWindow{}, err
		}
		w.Window = append(w.Window, h)
	}
	if i < len(c.ts) {
		h, err := s.header(uint64(i))
		if err != nil {
			return storage.HeaderWindow{}, err
		}
		w.Next = &h
	}
	return w, nil
}
