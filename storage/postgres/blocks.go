package postgres

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/gospresso/gospresso/storage"
	"github.com/gospresso/gospresso/storage/storagecodec"
	"github.com/gospresso/gospresso/types"
)

// Per-row sizes counted in the live size besides the stored byte strings:
// a transaction index row (height, idx, namespace, offset, length) and a
// namespace row (namespace, height).
const (
	txRowBytes = 5 * 8
	nsRowBytes = 2 * 8
)

// txRow is one row of the transactions table.
type txRow struct {
	hash           types.Commitment
	namespace      uint64
	offset, length int64 // -1: unknown, decode the payload
}

// blockRows is a block prepared for insertion.
type blockRows struct {
	height      int64
	view        int64
	timestamp   int64
	leafHash    types.Commitment
	blockHash   types.Commitment
	payloadHash types.Commitment
	header      []byte
	leaf        []byte
	raw         []byte
	nsTable     []byte
	txs         []txRow
	namespaces  []uint64
	storedBytes int64
}

// nonNil maps nil to an empty slice (the driver sends nil as NULL).
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// prepareBlock encodes b and derives its index rows.
func prepareBlock(b *types.Block) (blockRows, error) {
	h := b.Height()
	if b.Leaf.Header.Timestamp > math.MaxInt64 {
		return blockRows{}, fmt.Errorf("block %d: timestamp %d: %w (want at most 2^63-1)", h, b.Leaf.Header.Timestamp, ErrOutOfRange)
	}
	if uint64(b.Leaf.View) > math.MaxInt64 {
		return blockRows{}, fmt.Errorf("block %d: view %d: %w (want at most 2^63-1)", h, b.Leaf.View, ErrOutOfRange)
	}
	header, err := storagecodec.EncodeHeader(&b.Leaf.Header)
	if err != nil {
		return blockRows{}, fmt.Errorf("block %d: %w", h, err)
	}
	leaf, err := storagecodec.EncodeLeaf(&b.Leaf, &b.QC)
	if err != nil {
		return blockRows{}, fmt.Errorf("block %d: %w", h, err)
	}
	r := blockRows{
		height:      int64(h),
		view:        int64(b.Leaf.View),
		timestamp:   int64(b.Leaf.Header.Timestamp),
		leafHash:    b.Leaf.Commit(),
		blockHash:   b.Leaf.Header.Commit(),
		payloadHash: b.Leaf.Header.PayloadCommitment,
		header:      header,
		leaf:        leaf,
		raw:         nonNil(b.Payload.Raw),
		nsTable:     nonNil(b.Payload.NsTable.Bytes),
	}
	// A payload that does not decode is stored without index rows, as the
	// memory backend does: it has no transactions to find.
	if txs, err := b.Payload.Transactions(); err == nil {
		r.txs = txRows(b.Payload, txs)
	}
	if entries, err := b.Leaf.Header.NsTable.Entries(len(b.Payload.Raw)); err == nil {
		for _, e := range entries {
			r.namespaces = append(r.namespaces, uint64(e.Namespace))
		}
	}
	r.storedBytes = int64(len(r.header)+len(r.leaf)+len(r.raw)+len(r.nsTable)) +
		int64(len(r.txs)*(txRowBytes+len(types.Commitment{}))) + int64(len(r.namespaces))*nsRowBytes
	return r, nil
}

// txRows indexes the decoded transactions of p, locating each in the raw
// payload (docs/data.md, "Payloads and namespace tables": per namespace a u32 count, the u32 end offsets, then
// the transaction bytes). A location that does not hold the transaction's
// bytes is recorded as unknown, and TransactionAt decodes the payload.
func txRows(p types.Payload, txs []types.Transaction) []txRow {
	rows := make([]txRow, len(txs))
	entries, _ := p.NsTable.Entries(len(p.Raw)) // decoded by Transactions already
	i := 0
	for _, e := range entries {
		region := p.Raw[e.Start:e.End]
		if len(region) < 4 {
			continue
		}
		m := int(binary.LittleEndian.Uint32(region))
		pos := int64(e.Start) + 4 + 4*int64(m)
		for j := 0; j < m && i < len(txs); j, i = j+1, i+1 {
			tx := &txs[i]
			n := int64(len(tx.Payload))
			rows[i] = txRow{hash: tx.Commit(), namespace: tx.Namespace, offset: -1, length: -1}
			if pos+n <= int64(len(p.Raw)) && bytes.Equal(p.Raw[pos:pos+n], tx.Payload) {
				rows[i].offset, rows[i].length = pos, n
			}
			pos += n
		}
	}
	for ; i < len(txs); i++ { // only if the layout above disagreed with Transactions
		rows[i] = txRow{hash: txs[i].Commit(), namespace: txs[i].Namespace, offset: -1, length: -1}
	}
	return rows
}

// SaveDecided implements storage.BlockStore: one transaction that checks
// the blocks against the stored chain, inserts the new ones with their
// index rows (COPY for the transaction and namespace rows), deletes the
// proposals up to the last block's view and updates the live size.
func (s *Store) SaveDecided(ctx context.Context, blocks []types.Block) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if len(blocks) == 0 {
		return nil
	}
	for i := range blocks {
		h := blocks[i].Height()
		if h > math.MaxInt64 {
			return fmt.Errorf("postgres: save decided: block %d: height %d: %w (want at most 2^63-1)", i, h, ErrOutOfRange)
		}
		if i > 0 && h != blocks[i-1].Height()+1 {
			return fmt.Errorf("postgres: save decided: block %d has height %d after %d: %w", i, h, blocks[i-1].Height(), storage.ErrConflict)
		}
	}
	lastView := blocks[len(blocks)-1].Leaf.View
	if uint64(lastView) > math.MaxInt64 {
		return fmt.Errorf("postgres: save decided: view %d: %w (want at most 2^63-1)", lastView, ErrOutOfRange)
	}
	// Encode and hash outside the write lock: consensus writes wait on it.
	rows := make([]blockRows, len(blocks))
	for i := range blocks {
		r, err := prepareBlock(&blocks[i])
		if err != nil {
			return fmt.Errorf("postgres: save decided: %w", err)
		}
		rows[i] = r
	}
	return s.write(ctx, "save decided", func(tx *sql.Tx) error {
		fresh, prev, err := s.freshBlocks(ctx, tx, rows)
		if err != nil {
			return err
		}
		if len(fresh) > 0 {
			if err := s.insertBlocks(ctx, tx, fresh, prev); err != nil {
				return err
			}
		}
		if _, err := s.exec(ctx, tx, "delete_proposals", "DELETE FROM proposals WHERE view_number <= $1", int64(lastView)); err != nil {
			return s.fail(ctx, "save decided: delete proposals", err)
		}
		if s.consensusOnly && len(fresh) > 0 {
			// Consensus-only: keep the last block only.
			return s.pruneBefore(ctx, tx, uint64(fresh[len(fresh)-1].height))
		}
		return nil
	})
}

// chainEnd describes the stored chain: its first and last heights and the
// last block's running totals.
type chainEnd struct {
	firstStored int64
	height      int64
	cumTxs      int64
	cumPayload  int64
}

// freshBlocks compares blocks with the stored chain and returns those to
// insert, with the stored chain's end. An empty store starts at height 0.
// Stored blocks must match; blocks below the first stored height (pruned)
// are skipped; the first new block must follow the last stored one.
func (s *Store) freshBlocks(ctx context.Context, tx *sql.Tx, blocks []blockRows) ([]blockRows, chainEnd, error) {
	var end chainEnd
	err := s.scan(ctx, tx, "chain_end", `SELECT (SELECT min(height) FROM header), height, cum_transactions, cum_payload_size
		FROM header ORDER BY height DESC LIMIT 1`, nil, &end.firstStored, &end.height, &end.cumTxs, &end.cumPayload)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if h := blocks[0].height; h != 0 {
			return nil, end, fmt.Errorf("postgres: save decided: the store is empty and the first block has height %d, want 0: %w", h, storage.ErrConflict)
		}
		return blocks, chainEnd{height: -1}, nil
	case err != nil:
		return nil, end, s.fail(ctx, "save decided: read chain end", err)
	}
	first := blocks[0].height
	last := first + int64(len(blocks)) - 1
	if last >= end.firstStored && first <= end.height {
		// Compare the overlap with what is stored.
		from, to := max(first, end.firstStored), min(last, end.height)
		stored := make(map[int64][]byte, to-from+1)
		err := s.each(ctx, tx, "stored_leaf_hashes", "SELECT height, hash FROM leaf WHERE height BETWEEN $1 AND $2", []any{from, to}, func(r *sql.Rows) error {
			var (
				h    int64
				hash []byte
			)
			if err := r.Scan(&h, &hash); err != nil {
				return err
			}
			stored[h] = hash
			return nil
		})
		if err != nil {
			return nil, end, s.fail(ctx, "save decided: read stored leaves", err)
		}
		for h := from; h <= to; h++ {
			c := blocks[h-first].leafHash
			if !bytes.Equal(stored[h], c[:]) {
				return nil, end, fmt.Errorf("postgres: save decided: a different block is stored at height %d: %w", h, storage.ErrConflict)
			}
		}
	}
	if last <= end.height {
		return nil, end, nil
	}
	if first > end.height+1 {
		return nil, end, fmt.Errorf("postgres: save decided: height %d leaves a gap after %d: %w", first, end.height, storage.ErrConflict)
	}
	return blocks[end.height+1-first:], end, nil
}

// insertBlocks writes the rows of fresh blocks, which follow prev.
func (s *Store) insertBlocks(ctx context.Context, tx *sql.Tx, rows []blockRows, prev chainEnd) error {
	cumTxs, cumPayload := prev.cumTxs, prev.cumPayload
	var (
		added                    int64
		headers, leaves, payload [][]any
	)
	for i := range rows {
		r := &rows[i]
		ntx, size := int64(len(r.txs)), int64(len(r.raw))
		cumTxs += ntx
		cumPayload += size
		added += r.storedBytes
		headers = append(headers, []any{r.height, r.blockHash[:], r.payloadHash[:], r.timestamp, ntx, size, cumTxs, cumPayload, r.storedBytes, r.header})
		leaves = append(leaves, []any{r.height, r.leafHash[:], r.view, r.leaf})
		payload = append(payload, []any{r.height, size, ntx, r.nsTable, r.raw})
	}
	for _, t := range []struct {
		table string
		cols  string
		rows  [][]any
	}{
		{"header", "height, hash, payload_hash, timestamp, num_transactions, payload_size, cum_transactions, cum_payload_size, stored_bytes, data", headers},
		{"leaf", "height, hash, view_number, data", leaves},
		{"payload", "height, size, num_transactions, ns_table, data", payload},
	} {
		if err := s.insertRows(ctx, tx, t.table, t.cols, t.rows); err != nil {
			return err
		}
	}
	if err := s.copyTransactions(ctx, tx, rows); err != nil {
		return err
	}
	if err := s.copyNamespaces(ctx, tx, rows); err != nil {
		return err
	}
	if _, err := s.exec(ctx, tx, "add_live_size", "UPDATE live_size SET bytes = bytes + $1 WHERE id = 0", added); err != nil {
		return s.fail(ctx, "save decided: live size", err)
	}
	return nil
}

// Limits of one multi-row INSERT: rows, and bytes of byte-string
// arguments (a statement of many 1 MB payloads is split).
const (
	insertMaxRows  = 100
	insertMaxBytes = 8 << 20
)

// insertRows inserts rows into table with multi-row INSERT statements. A
// unique violation (a block or leaf hash stored at another height) is a
// conflict.
func (s *Store) insertRows(ctx context.Context, tx *sql.Tx, table, cols string, rows [][]any) error {
	for len(rows) > 0 {
		n, size := 0, 0
		for n < len(rows) && n < insertMaxRows && (n == 0 || size < insertMaxBytes) {
			for _, v := range rows[n] {
				if b, ok := v.([]byte); ok {
					size += len(b)
				}
			}
			n++
		}
		var (
			q    strings.Builder
			args []any
		)
		fmt.Fprintf(&q, "INSERT INTO %s (%s) VALUES ", table, cols)
		for i, row := range rows[:n] {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteByte('(')
			for j, v := range row {
				if j > 0 {
					q.WriteString(", ")
				}
				args = append(args, v)
				fmt.Fprintf(&q, "$%d", len(args))
			}
			q.WriteByte(')')
		}
		if _, err := s.exec(ctx, tx, "insert_"+table, q.String(), args...); err != nil {
			if isUniqueViolation(err) {
				return fmt.Errorf("postgres: save decided: blocks %d..%d: %s hash already stored at another height: %w",
					rows[0][0], rows[n-1][0], table, storage.ErrConflict)
			}
			return s.fail(ctx, fmt.Sprintf("save decided: blocks %d..%d: insert %s", rows[0][0], rows[n-1][0], table), err)
		}
		rows = rows[n:]
	}
	return nil
}

// copyTransactions streams the transaction index rows with COPY.
func (s *Store) copyTransactions(ctx context.Context, tx *sql.Tx, rows []blockRows) error {
	n := 0
	for i := range rows {
		n += len(rows[i].txs)
	}
	if n == 0 {
		return nil
	}
	return s.copyIn(ctx, tx, "copy_transactions", "COPY transactions (height, idx, hash, namespace, tx_offset, tx_length) FROM STDIN", func(put func(...any) error) error {
		for i := range rows {
			r := &rows[i]
			for j := range r.txs {
				t := &r.txs[j]
				var off, length any
				if t.offset >= 0 {
					off, length = t.offset, t.length
				}
				if err := put(r.height, int64(j), t.hash[:], int64(t.namespace), off, length); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// copyNamespaces streams the namespace index rows with COPY.
func (s *Store) copyNamespaces(ctx context.Context, tx *sql.Tx, rows []blockRows) error {
	n := 0
	for i := range rows {
		n += len(rows[i].namespaces)
	}
	if n == 0 {
		return nil
	}
	return s.copyIn(ctx, tx, "copy_namespaces", "COPY namespace (namespace, height) FROM STDIN", func(put func(...any) error) error {
		for i := range rows {
			for _, ns := range rows[i].namespaces {
				if err := put(int64(ns), rows[i].height); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// copyIn runs a COPY FROM STDIN statement, feeding it the rows fill puts.
func (s *Store) copyIn(ctx context.Context, tx *sql.Tx, name, query string, fill func(put func(...any) error) error) (err error) {
	defer s.timed(name, time.Now())
	stmt, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return s.fail(ctx, "save decided: "+name, err)
	}
	defer func() {
		if cerr := stmt.Close(); cerr != nil && err == nil {
			err = s.fail(ctx, "save decided: "+name, cerr)
		}
	}()
	put := func(args ...any) error {
		_, err := stmt.ExecContext(ctx, args...)
		return err
	}
	if err := fill(put); err != nil {
		return s.fail(ctx, "save decided: "+name, err)
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		return s.fail(ctx, "save decided: "+name, err)
	}
	return nil
}

// scanBlock decodes the columns of blockColumns.
func scanBlock(scan func(...any) error) (types.Block, error) {
	var leaf, ns, raw []byte
	if err := scan(&leaf, &ns, &raw); err != nil {
		return types.Block{}, err
	}
	return decodeBlock(leaf, ns, raw)
}

func decodeBlock(leaf, ns, raw []byte) (types.Block, error) {
	l, qc, err := storagecodec.DecodeLeaf(leaf)
	if err != nil {
		return types.Block{}, err
	}
	b := types.Block{Leaf: l, QC: qc}
	if len(raw) > 0 {
		b.Payload.Raw = raw
	}
	if len(ns) > 0 {
		b.Payload.NsTable.Bytes = ns
	}
	return b, nil
}

// oneBlock runs a query for at most one block.
func (s *Store) oneBlock(ctx context.Context, name string, args ...any) (types.Block, bool, error) {
	var b types.Block
	found := false
	err := s.poolRows(ctx, name, args, func(r *sql.Rows) error {
		var err error
		b, err = scanBlock(r.Scan)
		found = true
		return err
	})
	return b, found, err
}

// LastDecided implements storage.BlockStore.
func (s *Store) LastDecided(ctx context.Context) (types.Block, error) {
	if err := s.check(ctx); err != nil {
		return types.Block{}, err
	}
	b, ok, err := s.oneBlock(ctx, "last_decided")
	switch {
	case err != nil:
		return types.Block{}, s.fail(ctx, "last decided", err)
	case !ok:
		return types.Block{}, fmt.Errorf("postgres: last decided: %w", storage.ErrNotFound)
	}
	return b, nil
}

// BlockByHeight implements storage.BlockStore; below the pruned height it
// returns storage.ErrPruned.
func (s *Store) BlockByHeight(ctx context.Context, h uint64) (types.Block, error) {
	if err := s.check(ctx); err != nil {
		return types.Block{}, err
	}
	what := fmt.Sprintf("block %d", h)
	if h > math.MaxInt64 {
		return types.Block{}, fmt.Errorf("postgres: %s: %w", what, storage.ErrNotFound)
	}
	b, ok, err := s.oneBlock(ctx, "block_by_height", int64(h))
	switch {
	case err != nil:
		return types.Block{}, s.fail(ctx, what, err)
	case !ok:
		return types.Block{}, s.missing(ctx, what, h)
	}
	return b, nil
}

// missing is the error for height h not found: storage.ErrPruned below
// the pruned height, else storage.ErrNotFound.
func (s *Store) missing(ctx context.Context, what string, h uint64) error {
	p, ok, err := s.prunedHeight(ctx)
	switch {
	case err != nil:
		return s.fail(ctx, what, err)
	case ok && h < p:
		return fmt.Errorf("postgres: %s: %w (pruned below %d)", what, storage.ErrPruned, p)
	}
	return fmt.Errorf("postgres: %s: %w", what, storage.ErrNotFound)
}

// BlockByLeaf implements storage.BlockStore.
func (s *Store) BlockByLeaf(ctx context.Context, c types.Commitment) (types.Block, error) {
	return s.blockByHash(ctx, "block_by_leaf", "leaf "+c.Short(), c)
}

// BlockByHash implements storage.BlockStore.
func (s *Store) BlockByHash(ctx context.Context, c types.Commitment) (types.Block, error) {
	return s.blockByHash(ctx, "block_by_hash", "block hash "+c.Short(), c)
}

func (s *Store) blockByHash(ctx context.Context, name, what string, c types.Commitment) (types.Block, error) {
	if err := s.check(ctx); err != nil {
		return types.Block{}, err
	}
	b, ok, err := s.oneBlock(ctx, name, c[:])
	switch {
	case err != nil:
		return types.Block{}, s.fail(ctx, what, err)
	case !ok:
		return types.Block{}, fmt.Errorf("postgres: %s: %w", what, storage.ErrNotFound)
	}
	return b, nil
}

// TransactionByHash implements storage.BlockStore: the earliest stored
// inclusion.
func (s *Store) TransactionByHash(ctx context.Context, c types.Commitment) (storage.TxLocation, error) {
	if err := s.check(ctx); err != nil {
		return storage.TxLocation{}, err
	}
	var h, idx int64
	err := s.poolRow(ctx, "transaction_by_hash", []any{c[:]}, &h, &idx)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return storage.TxLocation{}, fmt.Errorf("postgres: transaction %s: %w", c.Short(), storage.ErrNotFound)
	case err != nil:
		return storage.TxLocation{}, s.fail(ctx, "transaction "+c.Short(), err)
	}
	return storage.TxLocation{Height: uint64(h), Index: uint64(idx)}, nil
}

// BlockHeight implements storage.BlockStore.
func (s *Store) BlockHeight(ctx context.Context) (uint64, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	var h int64
	if err := s.poolRow(ctx, "block_height", nil, &h); err != nil {
		return 0, s.fail(ctx, "block height", err)
	}
	return uint64(h), nil
}
