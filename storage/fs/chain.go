package fs

import (
	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/types"
)

// blockMeta is where a stored block is and its leaf commitment (to detect
// a different block re-saved at a stored height).
type blockMeta struct {
	off     uint64
	seg     uint32
	leafLen uint32
	payLen  uint32
	leaf    types.Commitment
}

// chain holds the in-memory lookup tables of the decided chain. Heights
// 0 .. len(metas)-1 are stored.
type chain struct {
	metas     []blockMeta
	ts        []uint64 // header timestamps, by height
	cumTx     []uint64 // cumTx[i] transactions in heights below i
	cumBytes  []uint64 // the same for payload bytes
	lastView  uint64   // highest leaf view stored
	byLeaf    map[types.Commitment]uint64
	byHash    map[types.Commitment]uint64
	byPayload map[types.Commitment]uint64 // lowest height only
	txs       map[types.Commitment]storage.TxLocation
	ns        map[uint32][]uint64 // increasing heights
}

// newChain returns empty tables sized for the batches about to be applied.
func newChain(batches []loadedBatch) chain {
	blocks, txs := 0, 0
	for _, b := range batches {
		blocks += len(b.entries)
		for i := range b.entries {
			txs += len(b.entries[i].txs)
		}
	}
	return chain{
		metas:     make([]blockMeta, 0, blocks),
		ts:        make([]uint64, 0, blocks),
		cumTx:     append(make([]uint64, 0, blocks+1), 0),
		cumBytes:  append(make([]uint64, 0, blocks+1), 0),
		byLeaf:    make(map[types.Commitment]uint64, blocks),
		byHash:    make(map[types.Commitment]uint64, blocks),
		byPayload: make(map[types.Commitment]uint64, blocks),
		txs:       make(map[types.Commitment]storage.TxLocation, txs),
		ns:        make(map[uint32][]uint64),
	}
}

// empty reports whether no block is stored.
func (c *chain) empty() bool { return len(c.metas) == 0 }

// next is the height after the last stored block.
func (c *chain) next() uint64 { return uint64(len(c.metas)) }

// has reports whether height h is stored.
func (c *chain) has(h uint64) bool { return h < uint64(len(c.metas)) }

// apply adds the entries of one committed batch, which follow the stored
// chain (checkLayout and plan make sure of it).
func (c *chain) apply(entries []indexEntry) {
	for i := range entries {
		e := &entries[i]
		h := e.height
		c.metas = append(c.metas, blockMeta{off: e.off, seg: e.seg, leafLen: e.leafLen, payLen: e.payLen, leaf: e.leaf})
		c.ts = append(c.ts, e.timestamp)
		c.cumTx = append(c.cumTx, c.cumTx[len(c.cumTx)-1]+uint64(len(e.txs)))
		c.cumBytes = append(c.cumBytes, c.cumBytes[len(c.cumBytes)-1]+e.payloadSize)
		c.lastView = max(c.lastView, e.view)
		c.byLeaf[e.leaf] = h
		c.byHash[e.hash] = h
		if _, ok := c.byPayload[e.payloadHash]; !ok {
			c.byPayload[e.payloadHash] = h
		}
		for j, tx := range e.txs {
			if _, ok := c.txs[tx]; !ok {
				c.txs[tx] = storage.TxLocation{Height: h, Index: uint64(j)}
			}
		}
		for _, ns := range e.namespaces {
			if hs := c.ns[ns]; len(hs) == 0 || hs[len(hs)-1] != h {
				c.ns[ns] = append(hs, h)
			}
		}
	}
}

// span clips [from, until) to the stored heights.
func (c *chain) span(from, until uint64) (lo, hi uint64) {
	lo, hi = from, min(until, c.next())
	if lo >= hi {
		return 0, 0
	}
	return lo, hi
}
