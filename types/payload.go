package types

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// NsTable is the namespace table of a block (docs/data.md, "Payloads and
// namespace tables"): a u32 LE entry count
// k, then k entries of (u32 LE namespace id, u32 LE end offset into the block
// payload). Namespace j occupies payload bytes [end(j-1), end(j)).
type NsTable struct {
	Bytes []byte
}

// NsEntry is one decoded namespace-table entry.
type NsEntry struct {
	Namespace uint32
	// Start and End delimit the namespace's bytes in the block payload.
	Start, End uint32
}

// Entries decodes and validates the table against a payload of payloadLen
// bytes: the count must match the length, offsets must not decrease or run
// past the payload, namespace ids must be unique, and the last entry must end
// exactly at payloadLen (gospresso rejects trailing bytes).
func (t NsTable) Entries(payloadLen int) ([]NsEntry, error) {
	b := t.Bytes
	if len(b) < 4 {
		if len(b) == 0 && payloadLen == 0 {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: %d bytes, want at least the 4-byte entry count", ErrInvalidNsTable, len(b))
	}
	k := binary.LittleEndian.Uint32(b)
	if uint64(len(b)-4) != uint64(k)*8 {
		return nil, fmt.Errorf("%w: count %d needs %d entry bytes, have %d", ErrInvalidNsTable, k, uint64(k)*8, len(b)-4)
	}
	entries := make([]NsEntry, k)
	seen := make(map[uint32]struct{}, k)
	var prev uint32
	for i := range entries {
		ns := binary.LittleEndian.Uint32(b[4+8*i:])
		end := binary.LittleEndian.Uint32(b[8+8*i:])
		if _, dup := seen[ns]; dup {
			return nil, fmt.Errorf("%w: entry %d: duplicate namespace %d", ErrInvalidNsTable, i, ns)
		}
		seen[ns] = struct{}{}
		if end < prev {
			return nil, fmt.Errorf("%w: entry %d: end offset %d before previous %d", ErrInvalidNsTable, i, end, prev)
		}
		if int64(end) > int64(payloadLen) {
			return nil, fmt.Errorf("%w: entry %d: end offset %d past payload of %d bytes", ErrInvalidNsTable, i, end, payloadLen)
		}
		entries[i] = NsEntry{Namespace: ns, Start: prev, End: end}
		prev = end
	}
	if int64(prev) != int64(payloadLen) {
		return nil, fmt.Errorf("%w: entries cover %d bytes, payload has %d", ErrInvalidNsTable, prev, payloadLen)
	}
	return entries, nil
}

// PayloadLen returns the length of the payload the table describes (its
// last end offset: a valid table covers its payload exactly), after
// checking the table as Entries does.
func (t NsTable) PayloadLen() (uint64, error) {
	b := t.Bytes
	var end uint32
	if len(b) >= 12 {
		k := binary.LittleEndian.Uint32(b)
		if k > 0 && uint64(len(b)-4) == uint64(k)*8 {
			end = binary.LittleEndian.Uint32(b[len(b)-4:])
		}
	}
	if _, err := t.Entries(int(end)); err != nil {
		return 0, err
	}
	return uint64(end), nil
}

// Commit returns the reference namespace-table commitment (docs/data.md,
// "Commitments"; tag NSTABLE).
func (t NsTable) Commit() Commitment {
	b := NewCommitmentBuilder("NSTABLE")
	b.VarSizeBytes(t.Bytes)
	return Commitment(b.Finalize())
}

// Payload is a block's transaction data: the raw bytes and the namespace table
// that splits them (docs/data.md, "Payloads and namespace tables").
type Payload struct {
	Raw     []byte
	NsTable NsTable
}

// Size is the payload's byte size, the measure max_block_size and fees use.
func (p Payload) Size() uint64 { return uint64(len(p.Raw)) }

// EncodePayload lays transactions out as a block payload: grouped by namespace
// in order of each namespace's first appearance, each namespace payload being
// a u32 LE transaction count, the u32 LE end offsets (relative to the start of
// the transaction bytes), then the concatenated transaction payloads.
func EncodePayload(txs []Transaction) (Payload, error) {
	if len(txs) == 0 {
		return Payload{}, nil
	}
	var order []uint64
	groups := make(map[uint64][]Transaction)
	for i, tx := range txs {
		if err := tx.Validate(); err != nil {
			return Payload{}, fmt.Errorf("transaction %d: %w", i, err)
		}
		if _, ok := groups[tx.Namespace]; !ok {
			order = append(order, tx.Namespace)
		}
		groups[tx.Namespace] = append(groups[tx.Namespace], tx)
	}
	size := 0
	for _, tx := range txs {
		size += 4 + len(tx.Payload)
	}
	size += 4 * len(order)
	if size > math.MaxUint32 {
		return Payload{}, fmt.Errorf("%w: %d bytes exceed the 32-bit offsets of the namespace table", ErrInvalidPayload, size)
	}
	raw := make([]byte, 0, size)
	table := make([]byte, 4, 4+8*len(order))
	binary.LittleEndian.PutUint32(table, uint32(len(order)))
	for _, ns := range order {
		group := groups[ns]
		raw = binary.LittleEndian.AppendUint32(raw, uint32(len(group)))
		var end uint32
		for _, tx := range group {
			end += uint32(len(tx.Payload))
			raw = binary.LittleEndian.AppendUint32(raw, end)
		}
		for _, tx := range group {
			raw = append(raw, tx.Payload...)
		}
		table = binary.LittleEndian.AppendUint32(table, uint32(ns))
		table = binary.LittleEndian.AppendUint32(table, uint32(len(raw)))
	}
	return Payload{Raw: raw, NsTable: NsTable{Bytes: table}}, nil
}

// Transactions decodes every transaction of the payload, in namespace-table
// order, validating the layout.
func (p Payload) Transactions() ([]Transaction, error) {
	entries, err := p.NsTable.Entries(len(p.Raw))
	if err != nil {
		return nil, err
	}
	var txs []Transaction
	for _, e := range entries {
		nsTxs, err := decodeNamespace(uint64(e.Namespace), p.Raw[e.Start:e.End])
		if err != nil {
			return nil, err
		}
		txs = append(txs, nsTxs...)
	}
	return txs, nil
}

// Namespace returns the transactions of namespace ns, or nil when the block
// has none.
func (p Payload) Namespace(ns uint64) ([]Transaction, error) {
	entries, err := p.NsTable.Entries(len(p.Raw))
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(entries, func(e NsEntry) bool { return uint64(e.Namespace) == ns })
	if i < 0 {
		return nil, nil
	}
	return decodeNamespace(ns, p.Raw[entries[i].Start:entries[i].End])
}

// NamespaceTransactions decodes b, the bytes of namespace ns in a block
// payload (as a namespace proof proves them), into its transactions.
func NamespaceTransactions(ns uint64, b []byte) ([]Transaction, error) { return decodeNamespace(ns, b) }

func decodeNamespace(ns uint64, b []byte) ([]Transaction, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("%w: namespace %d: %d bytes, want at least the 4-byte count", ErrInvalidPayload, ns, len(b))
	}
	m := binary.LittleEndian.Uint32(b)
	if uint64(m)*4 > uint64(len(b)-4) {
		return nil, fmt.Errorf("%w: namespace %d: count %d does not fit in %d bytes", ErrInvalidPayload, ns, m, len(b))
	}
	data := b[4+4*int(m):]
	txs := make([]Transaction, m)
	var prev uint32
	for i := range txs {
		end := binary.LittleEndian.Uint32(b[4+4*i:])
		if end < prev || int64(end) > int64(len(data)) {
			return nil, fmt.Errorf("%w: namespace %d: transaction %d: end offset %d out of range [%d, %d]", ErrInvalidPayload, ns, i, end, prev, len(data))
		}
		txs[i] = Transaction{Namespace: ns, Payload: slices.Clone(data[prev:end])}
		prev = end
	}
	if int(prev) != len(data) {
		return nil, fmt.Errorf("%w: namespace %d: %d trailing bytes", ErrInvalidPayload, ns, len(data)-int(prev))
	}
	return txs, nil
}
