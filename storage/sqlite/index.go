package sqlite

import (
	"bytes"
	"fmt"
	"math"

	"github.com/gospresso/gospresso/storage/storagecodec"
	"github.com/gospresso/gospresso/types"
)

// maxStored is the largest height, view or timestamp the store accepts: one
// below SQLite's largest integer, so that an exclusive bound clamped to
// math.MaxInt64 still covers every stored value.
const maxStored = math.MaxInt64 - 1

// txRow locates one transaction of a block.
type txRow struct {
	hash types.Commitment
	ns   uint64
	// offset and size delimit the transaction's bytes in the payload;
	// offset is -1 when they could not be located (readers then decode).
	offset, size int64
}

// blockRow is everything SaveDecided writes for one block.
type blockRow struct {
	height      int64
	view        int64
	timestamp   int64
	blockHash   types.Commitment
	leafHash    types.Commitment
	payloadHash types.Commitment
	header      []byte
	leaf        []byte
	nsTable     []byte
	raw         []byte
	txs         []txRow
	namespaces  []uint32
}

// checkBlock rejects a block whose height, view or timestamp the store
// cannot hold; i is its position in the SaveDecided call.
func checkBlock(i int, b *types.Block) error {
	for _, f := range []struct {
		name string
		v    uint64
	}{
		{"leaf.header.height", b.Leaf.Header.Height},
		{"leaf.view", uint64(b.Leaf.View)},
		{"leaf.header.timestamp", b.Leaf.Header.Timestamp},
	} {
		if f.v > maxStored {
			return fmt.Errorf("block %d: %s: %d: %w (want at most %d)", i, f.name, f.v, ErrOutOfRange, uint64(maxStored))
		}
	}
	return nil
}

// makeRow encodes b for storage and indexes its payload. b must have passed
// checkBlock.
func makeRow(b *types.Block) (*blockRow, error) {
	header, err := storagecodec.EncodeHeader(&b.Leaf.Header)
	if err != nil {
		return nil, fmt.Errorf("block %d: encode header: %w", b.Height(), err)
	}
	leaf, err := storagecodec.EncodeLeaf(&b.Leaf, &b.QC)
	if err != nil {
		return nil, fmt.Errorf("block %d: encode leaf: %w", b.Height(), err)
	}
	row := &blockRow{
		height:      int64(b.Leaf.Header.Height),
		view:        int64(b.Leaf.View),
		timestamp:   int64(b.Leaf.Header.Timestamp),
		blockHash:   b.Leaf.Header.Commit(),
		leafHash:    b.Leaf.Commit(),
		payloadHash: b.Leaf.Header.PayloadCommitment,
		header:      header,
		leaf:        leaf,
		nsTable:     nonNil(b.Payload.NsTable.Bytes),
		raw:         nonNil(b.Payload.Raw),
		txs:         locateTransactions(b.Payload),
		namespaces:  blockNamespaces(b),
	}
	return row, nil
}

// nonNil returns p, or an empty slice for nil (columns are NOT NULL).
func nonNil(p []byte) []byte {
	if p == nil {
		return []byte{}
	}
	return p
}

// nilIfEmpty returns nil for an empty slice, as the codec decodes them.
func nilIfEmpty(p []byte) []byte {
	if len(p) == 0 {
		return nil
	}
	return p
}

// blockNamespaces lists the namespaces of the block's header namespace table;
// none when the table does not fit the payload.
func blockNamespaces(b *types.Block) []uint32 {
	entries, err := b.Leaf.Header.NsTable.Entries(len(b.Payload.Raw))
	if err != nil {
		return nil
	}
	out := make([]uint32, len(entries))
	for i, e := range entries {
		out[i] = e.Namespace
	}
	return out
}

// locateTransactions lists the payload's transactions with their hashes and
// where their bytes are in p.Raw. A payload whose transactions do not decode
// has none. Each namespace's transaction bytes are the tail of the
// namespace's range, concatenated in order; every located span is checked
// against the decoded transaction, and one that does not match keeps offset
// -1.
func locateTransactions(p types.Payload) []txRow {
	txs, err := p.Transactions()
	if err != nil || len(txs) == 0 {
		return nil
	}
	rows := make([]txRow, len(txs))
	for i, tx := range txs {
		rows[i] = txRow{hash: tx.Commit(), ns: tx.Namespace, offset: -1, size: int64(len(tx.Payload))}
	}
	entries, err := p.NsTable.Entries(len(p.Raw))
	if err != nil {
		return rows
	}
	i := 0
	for _, e := range entries {
		j, total := i, int64(0)
		for j < len(txs) && txs[j].Namespace == uint64(e.Namespace) {
			total += int64(len(txs[j].Payload))
			j++
		}
		off := int64(e.End) - total
		for k := i; k < j; k++ {
			n := int64(len(txs[k].Payload))
			if off >= int64(e.Start) && off+n <= int64(e.End) && bytes.Equal(p.Raw[off:off+n], txs[k].Payload) {
				rows[k].offset = off
			}
			off += n
		}
		i = j
	}
	return rows
}

// decodeBlock rebuilds a block from its leaf row and payload columns.
func decodeBlock(height int64, leaf, nsTable, raw []byte) (types.Block, error) {
	l, qc, err := storagecodec.DecodeLeaf(leaf)
	if err != nil {
		return types.Block{}, fmt.Errorf("%w: leaf at height %d: %w", ErrCorrupt, height, err)
	}
	if l.Header.Height != uint64(height) {
		return types.Block{}, fmt.Errorf("%w: leaf row %d holds a leaf of height %d", ErrCorrupt, height, l.Header.Height)
	}
	return types.Block{
		Leaf:    l,
		QC:      qc,
		Payload: types.Payload{Raw: nilIfEmpty(raw), NsTable: types.NsTable{Bytes: nilIfEmpty(nsTable)}},
	}, nil
}

// decodeHeader decodes a header row.
func decodeHeader(data []byte) (types.Header, error) {
	h, err := storagecodec.DecodeHeader(data)
	if err != nil {
		return types.Header{}, fmt.Errorf("%w: header: %w", ErrCorrupt, err)
	}
	return h, nil
}

// clampInt converts a uint64 bound to SQLite's int64, clamping values that
// do not fit to math.MaxInt64 (never stored, see maxStored).
func clampInt(x uint64) int64 {
	if x > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(x)
}
